import { AppError } from '@ceb179/errors';
import { headShapeProblem, listsShapeProblem } from './document-shape';
import { JsonSyntaxError, scanJsonValue, type JsonNode } from './json-scanner';

export interface SignStringParts {
  sessionID: string;
  headJson: string;
  listsJson: string;
  serviceTime: string;
}

const SESSION_OPEN = '"sessionID":"';
const HEAD_MARKER = '"||"payExchangeInfoHead":"';
const LISTS_MARKER = '"||"payExchangeInfoLists":"';
const TIME_MARKER = '"||"serviceTime":"';
const DIGITS = /^[0-9]+$/;

function invalid(problem: string): AppError {
  return new AppError('INVALID_INPUT', `malformed sign string: ${problem}`);
}

/** A sessionID with '"' would make the sign string ambiguous to split, so it is refused on both sides. */
export function sessionIdProblem(sessionID: unknown): string | null {
  if (typeof sessionID !== 'string' || sessionID === '') return 'sessionID is empty';
  if (sessionID.includes('"')) return "sessionID contains '\"'";
  return null;
}

export function serviceTimeProblem(serviceTime: unknown): string | null {
  if (typeof serviceTime !== 'string' || !DIGITS.test(serviceTime)) return 'serviceTime must be decimal digits';
  return null;
}

/**
 * docs/protocol.md §3: four quoted segments joined by '||', head and lists spliced in raw (their quotes not
 * escaped), so the result is deliberately not JSON. The head and lists text must be the very text
 * that goes into payExInfoStr.
 */
export function buildSignString(parts: SignStringParts): string {
  const problem = sessionIdProblem(parts.sessionID) ?? serviceTimeProblem(parts.serviceTime);
  if (problem) throw new AppError('INVALID_INPUT', `cannot build sign string: ${problem}`);
  return (
    `${SESSION_OPEN}${parts.sessionID}` +
    `${HEAD_MARKER}${parts.headJson}` +
    `${LISTS_MARKER}${parts.listsJson}` +
    `${TIME_MARKER}${parts.serviceTime}"`
  );
}

function scanSegment(text: string, at: number, name: string): JsonNode {
  try {
    return scanJsonValue(text, at, { allowWhitespace: false });
  } catch (error) {
    if (error instanceof JsonSyntaxError) throw invalid(`${name} is not compact JSON: ${error.message}`);
    throw error;
  }
}

function expectMarker(text: string, at: number, marker: string, after: string): number {
  if (!text.startsWith(marker, at)) {
    throw invalid(`expected ${JSON.stringify(marker)} after ${after} at offset ${at}`);
  }
  return at + marker.length;
}

/**
 * The signer's gate: it signs only what parses here. The JSON values are walked with a scanner
 * rather than split on '||', because gname, links and raw payment requests may contain '"' and '||'.
 */
export function parseSignString(signString: string): SignStringParts {
  if (typeof signString !== 'string') throw invalid('not a string');
  const text = signString;
  if (!text.startsWith(SESSION_OPEN)) throw invalid(`must start with ${JSON.stringify(SESSION_OPEN)}`);

  const sessionStart = SESSION_OPEN.length;
  const sessionEnd = text.indexOf('"', sessionStart);
  if (sessionEnd < 0) throw invalid("sessionID is not closed by '\"'");
  const sessionID = text.slice(sessionStart, sessionEnd);
  if (sessionID === '') throw invalid('sessionID is empty');

  const headStart = expectMarker(text, sessionEnd, HEAD_MARKER, 'sessionID');
  const head = scanSegment(text, headStart, 'payExchangeInfoHead');
  const headProblem = headShapeProblem(head);
  if (headProblem) throw invalid(headProblem);

  const listsStart = expectMarker(text, head.end, LISTS_MARKER, 'payExchangeInfoHead');
  const lists = scanSegment(text, listsStart, 'payExchangeInfoLists');
  const listsProblem = listsShapeProblem(lists);
  if (listsProblem) throw invalid(listsProblem);

  const timeStart = expectMarker(text, lists.end, TIME_MARKER, 'payExchangeInfoLists');
  const timeEnd = text.indexOf('"', timeStart);
  if (timeEnd < 0) throw invalid("serviceTime is not closed by '\"'");
  const serviceTime = text.slice(timeStart, timeEnd);
  const timeProblem = serviceTimeProblem(serviceTime);
  if (timeProblem) throw invalid(timeProblem);
  if (timeEnd + 1 !== text.length) throw invalid(`unexpected text after serviceTime at offset ${timeEnd + 1}`);

  return {
    sessionID,
    headJson: text.slice(head.start, head.end),
    listsJson: text.slice(lists.start, lists.end),
    serviceTime,
  };
}
