import { AppError } from '@ceb179/errors';
import { JsonSyntaxError, parseJsonDocument, type JsonNode } from './json-scanner';
import { serviceTimeProblem, sessionIdProblem, type SignStringParts } from './sign-string';

export interface UploadParts extends SignStringParts {
  certNo: string;
  signValue: string;
}

function invalid(problem: string): AppError {
  return new AppError('INVALID_INPUT', `malformed payExInfoStr: ${problem}`);
}

function compactJsonProblem(text: unknown, name: string, kind: 'object' | 'array'): string | null {
  if (typeof text !== 'string') return `${name} is not text`;
  try {
    const node = parseJsonDocument(text, { allowWhitespace: false });
    return node.kind === kind ? null : `${name} is not a JSON ${kind}`;
  } catch (error) {
    if (error instanceof JsonSyntaxError) return `${name} is not compact JSON: ${error.message}`;
    throw error;
  }
}

/**
 * docs/protocol.md §2: the top-level key order is fixed and head/lists go in as the very text that was
 * signed (§3 rule 5), so they are spliced, never re-serialised. Only the syntax is checked, enough
 * to guarantee the upload is valid JSON.
 */
export function buildPayExInfoStr(parts: UploadParts): string {
  const problem =
    sessionIdProblem(parts.sessionID) ??
    compactJsonProblem(parts.headJson, 'headJson', 'object') ??
    compactJsonProblem(parts.listsJson, 'listsJson', 'array') ??
    serviceTimeProblem(parts.serviceTime) ??
    (typeof parts.certNo !== 'string' || parts.certNo === '' ? 'certNo is empty' : null) ??
    (typeof parts.signValue !== 'string' || parts.signValue === '' ? 'signValue is empty' : null);
  if (problem) throw new AppError('INVALID_INPUT', `cannot build payExInfoStr: ${problem}`);
  return (
    `{"sessionID":${JSON.stringify(parts.sessionID)}` +
    `,"payExchangeInfoHead":${parts.headJson}` +
    `,"payExchangeInfoLists":${parts.listsJson}` +
    // A string, like the quoted value in the sign string (M: the document is unclear on string vs number).
    `,"serviceTime":${JSON.stringify(parts.serviceTime)}` +
    `,"certNo":${JSON.stringify(parts.certNo)}` +
    `,"signValue":${JSON.stringify(parts.signValue)}}`
  );
}

/** UTF-8 percent-encoding (§2): signValue carries '+ / =' and links carry '&', none may pass raw. */
export function buildUploadFormBody(payExInfoStr: string): string {
  try {
    return `payExInfoStr=${encodeURIComponent(payExInfoStr)}`;
  } catch (cause) {
    // Only a lone UTF-16 surrogate makes encodeURIComponent throw: such text has no UTF-8 form.
    throw new AppError('INVALID_INPUT', 'payExInfoStr is not encodable as UTF-8 (lone surrogate)', { cause });
  }
}

const UPLOAD_KEYS = ['sessionID', 'payExchangeInfoHead', 'payExchangeInfoLists', 'serviceTime', 'certNo', 'signValue'] as const;
type UploadKey = (typeof UPLOAD_KEYS)[number];

function isUploadKey(key: string): key is UploadKey {
  return (UPLOAD_KEYS as readonly string[]).includes(key);
}

function expectString(node: JsonNode, key: string): string {
  if (node.kind !== 'string') throw invalid(`${key} must be a JSON string`);
  return node.value;
}

/**
 * The customs side of the upload: returns the head and lists exactly as received (source spans), so
 * the sign string can be rebuilt from the bytes that were signed. Key order and extra keys are
 * tolerated here, as a JSON reader on customs' side would; duplicates are not, they make the value a guess.
 */
export function extractUploadParts(payExInfoStr: string): UploadParts {
  if (typeof payExInfoStr !== 'string') throw invalid('not a string');
  let root: JsonNode;
  try {
    root = parseJsonDocument(payExInfoStr, { allowWhitespace: true });
  } catch (error) {
    if (error instanceof JsonSyntaxError) throw invalid(`not JSON: ${error.message}`);
    throw error;
  }
  if (root.kind !== 'object') throw invalid('not a JSON object');

  const found = new Map<UploadKey, JsonNode>();
  for (const member of root.members) {
    if (!isUploadKey(member.key)) continue;
    if (found.has(member.key)) throw invalid(`duplicate key ${member.key}`);
    found.set(member.key, member.value);
  }
  const missing = UPLOAD_KEYS.filter((k) => !found.has(k));
  if (missing.length > 0) throw invalid(`missing ${missing.join(', ')}`);
  const get = (key: UploadKey): JsonNode => found.get(key) as JsonNode;

  const head = get('payExchangeInfoHead');
  if (head.kind !== 'object') throw invalid('payExchangeInfoHead must be a JSON object');
  const lists = get('payExchangeInfoLists');
  if (lists.kind !== 'array') throw invalid('payExchangeInfoLists must be a JSON array');

  const time = get('serviceTime');
  // The document says number, the sign string quotes it (§1/§2, M): accept both, keep the decimal text.
  let serviceTime: string;
  if (time.kind === 'string') serviceTime = time.value;
  else if (time.kind === 'number') serviceTime = time.text;
  else throw invalid('serviceTime must be a JSON string or number');
  if (!/^[0-9]+$/.test(serviceTime)) throw invalid(`serviceTime must be whole epoch milliseconds (got ${JSON.stringify(serviceTime)})`);

  return {
    sessionID: expectString(get('sessionID'), 'sessionID'),
    headJson: payExInfoStr.slice(head.start, head.end),
    listsJson: payExInfoStr.slice(lists.start, lists.end),
    serviceTime,
    certNo: expectString(get('certNo'), 'certNo'),
    signValue: expectString(get('signValue'), 'signValue'),
  };
}
