import { JsonSyntaxError, parseJsonDocument, scanJsonValue, type JsonNode } from './json-scanner';

const compact = { allowWhitespace: false };
const loose = { allowWhitespace: true };

function errorOf(fn: () => unknown): JsonSyntaxError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(JsonSyntaxError);
    return error as JsonSyntaxError;
  }
  throw new Error('did not throw');
}

describe('json scanner', () => {
  it('returns spans of nested values', () => {
    const text = 'xx{"a":[1,"b",{"c":null}],"d":true}yy';
    const node = scanJsonValue(text, 2, compact);
    expect(node.kind).toBe('object');
    expect(text.slice(node.start, node.end)).toBe('{"a":[1,"b",{"c":null}],"d":true}');
    const members = (node as JsonNode & { kind: 'object' }).members;
    expect(members.map((m) => m.key)).toEqual(['a', 'd']);
    const array = members[0]?.value as JsonNode & { kind: 'array' };
    expect(text.slice(array.start, array.end)).toBe('[1,"b",{"c":null}]');
  });

  it('keeps number text exactly', () => {
    expect(parseJsonDocument('12345678901234.12345', compact)).toMatchObject({ kind: 'number', text: '12345678901234.12345' });
    expect(parseJsonDocument('-0.5e+10', compact)).toMatchObject({ kind: 'number', text: '-0.5e+10' });
  });

  it('decodes strings with escapes, including surrogate pairs', () => {
    expect(parseJsonDocument('"a\\"b\\\\c\\/d\\n\\u4e2d\\ud83d\\ude00"', compact)).toMatchObject({
      kind: 'string',
      value: 'a"b\\c/d\n中😀',
    });
  });

  it('stops at the end of the value, whatever follows', () => {
    const text = '{"k":"v||\\"||"}"||rest';
    expect(scanJsonValue(text, 0, compact).end).toBe(text.indexOf('"||rest'));
  });

  it('allows whitespace only when asked', () => {
    expect(parseJsonDocument(' { "a" : [ 1 , 2 ] } \n', loose).kind).toBe('object');
    errorOf(() => parseJsonDocument('{"a": 1}', compact));
    errorOf(() => parseJsonDocument(' {}', compact));
  });

  it.each([
    '',
    '{',
    '{"a"}',
    '{"a":1,}',
    '[1,]',
    '[1 2]',
    '01',
    '1.',
    '.5',
    '-',
    '+1',
    '"unterminated',
    '"tab\there"',
    '"bad \\x escape"',
    '"bad \\u12 escape"',
    'nul',
    'True',
    "{'a':1}",
    '{a:1}',
    '{"a":1}}',
    'NaN',
  ])('rejects %j', (text) => {
    errorOf(() => parseJsonDocument(text, loose));
  });

  it('bounds nesting depth', () => {
    expect(errorOf(() => parseJsonDocument('['.repeat(100) + ']'.repeat(100), compact)).message).toMatch(/nesting/);
    expect(parseJsonDocument('['.repeat(10) + ']'.repeat(10), compact).kind).toBe('array');
  });

  it('reports the offset of the fault', () => {
    expect(errorOf(() => parseJsonDocument('{"a":1,"b" 2}', loose)).offset).toBe(11);
  });
});
