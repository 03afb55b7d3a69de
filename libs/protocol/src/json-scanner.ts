/**
 * A strict JSON scanner that keeps the source offsets of every value.
 *
 * JSON.parse is not enough here: the 179 protocol signs the *text* of the head and lists, so the
 * customs side must hand back the received spans byte for byte (re-serialising would turn
 * 12345678901234.12345 into 12345678901234.123), and the sign string embeds raw JSON whose strings
 * may contain '"' and '||', so it can only be split by walking the JSON grammar.
 */

interface NodeSpan {
  /** Offset of the first character of the value. */
  start: number;
  /** Offset just past the last character of the value. */
  end: number;
}

export interface JsonMember {
  key: string;
  keyStart: number;
  value: JsonNode;
}

export type JsonNode =
  | (NodeSpan & { kind: 'object'; members: JsonMember[] })
  | (NodeSpan & { kind: 'array'; items: JsonNode[] })
  | (NodeSpan & { kind: 'string'; value: string })
  | (NodeSpan & { kind: 'number'; text: string })
  | (NodeSpan & { kind: 'literal'; value: boolean | null });

export interface ScanOptions {
  /** The sign string requires compact JSON (docs/protocol.md §3 rule 4); a received upload may be pretty. */
  allowWhitespace: boolean;
  /** Bounds recursion so a hostile payload cannot blow the stack. */
  maxDepth?: number;
}

export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at offset ${offset}`);
    this.name = 'JsonSyntaxError';
  }
}

const DEFAULT_MAX_DEPTH = 64;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

/** Scans exactly one JSON value starting at `start` (no leading whitespace skipped) and returns it with its span. */
export function scanJsonValue(text: string, start: number, options: ScanOptions): JsonNode {
  return new Scanner(text, options).value(start, 0);
}

/** Parses a whole text that must hold exactly one JSON value (surrounding whitespace only if allowed). */
export function parseJsonDocument(text: string, options: ScanOptions): JsonNode {
  const scanner = new Scanner(text, options);
  const node = scanner.value(scanner.skip(0), 0);
  const after = scanner.skip(node.end);
  if (after !== text.length) throw new JsonSyntaxError('unexpected text after the JSON value', after);
  return node;
}

function describeChar(text: string, at: number): string {
  return at >= text.length ? 'end of text' : JSON.stringify(text[at]);
}

class Scanner {
  private readonly maxDepth: number;

  constructor(
    private readonly text: string,
    private readonly options: ScanOptions,
  ) {
    this.maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  }

  skip(at: number): number {
    if (!this.options.allowWhitespace) return at;
    let i = at;
    while (i < this.text.length) {
      const c = this.text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      i++;
    }
    return i;
  }

  value(at: number, depth: number): JsonNode {
    const c = this.text[at];
    switch (c) {
      case '{':
        return this.object(at, depth);
      case '[':
        return this.array(at, depth);
      case '"':
        return this.string(at);
      case 't':
        return this.literal(at, 'true', true);
      case 'f':
        return this.literal(at, 'false', false);
      case 'n':
        return this.literal(at, 'null', null);
      case undefined:
        throw new JsonSyntaxError(`expected a JSON value, found ${describeChar(this.text, at)}`, at);
      default:
        if (c === '-' || (c >= '0' && c <= '9')) return this.number(at);
        throw new JsonSyntaxError(`expected a JSON value, found ${describeChar(this.text, at)}`, at);
    }
  }

  private expectDepth(at: number, depth: number): void {
    if (depth >= this.maxDepth) throw new JsonSyntaxError(`nesting deeper than ${this.maxDepth}`, at);
  }

  private object(start: number, depth: number): JsonNode {
    this.expectDepth(start, depth);
    const members: JsonMember[] = [];
    let i = this.skip(start + 1);
    if (this.text[i] === '}') return { kind: 'object', start, end: i + 1, members };
    for (;;) {
      if (this.text[i] !== '"') throw new JsonSyntaxError(`expected a member name, found ${describeChar(this.text, i)}`, i);
      const key = this.string(i);
      i = this.skip(key.end);
      if (this.text[i] !== ':') throw new JsonSyntaxError(`expected ':', found ${describeChar(this.text, i)}`, i);
      const value = this.value(this.skip(i + 1), depth + 1);
      members.push({ key: key.value, keyStart: key.start, value });
      i = this.skip(value.end);
      if (this.text[i] === ',') {
        i = this.skip(i + 1);
        continue;
      }
      if (this.text[i] === '}') return { kind: 'object', start, end: i + 1, members };
      throw new JsonSyntaxError(`expected ',' or '}', found ${describeChar(this.text, i)}`, i);
    }
  }

  private array(start: number, depth: number): JsonNode {
    this.expectDepth(start, depth);
    const items: JsonNode[] = [];
    let i = this.skip(start + 1);
    if (this.text[i] === ']') return { kind: 'array', start, end: i + 1, items };
    for (;;) {
      const item = this.value(i, depth + 1);
      items.push(item);
      i = this.skip(item.end);
      if (this.text[i] === ',') {
        i = this.skip(i + 1);
        continue;
      }
      if (this.text[i] === ']') return { kind: 'array', start, end: i + 1, items };
      throw new JsonSyntaxError(`expected ',' or ']', found ${describeChar(this.text, i)}`, i);
    }
  }

  private string(start: number): JsonNode & { kind: 'string' } {
    const text = this.text;
    let i = start + 1;
    for (;;) {
      if (i >= text.length) throw new JsonSyntaxError('unterminated string', start);
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) throw new JsonSyntaxError('control character inside a string', i);
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) throw new JsonSyntaxError('bad \\u escape', i);
          i += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) throw new JsonSyntaxError('bad escape', i);
        i += 2;
        continue;
      }
      i++;
    }
    const end = i + 1;
    // The grammar is checked above, so JSON.parse only decodes escapes here and cannot disagree.
    return { kind: 'string', start, end, value: JSON.parse(text.slice(start, end)) as string };
  }

  private number(start: number): JsonNode {
    NUMBER.lastIndex = start;
    const match = NUMBER.exec(this.text);
    if (!match) throw new JsonSyntaxError('malformed number', start);
    const end = start + match[0].length;
    return { kind: 'number', start, end, text: match[0] };
  }

  private literal(start: number, word: string, value: boolean | null): JsonNode {
    if (this.text.startsWith(word, start)) return { kind: 'literal', start, end: start + word.length, value };
    throw new JsonSyntaxError(`expected ${word}`, start);
  }
}
