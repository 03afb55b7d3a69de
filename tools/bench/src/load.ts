import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { openReqText } from '@ceb179/customs-sim';
import { nowMs, summarize, type LatencySummary } from './stats';

/**
 * The load generator: customs' callbacks (form-encoded openReq, unique sessionID) over node:http
 * keep-alive agents, in this process. Two shapes:
 * - closed loop (saturation): N connections, each sends its next call when the previous answer
 *   arrived; latency from the send;
 * - open loop (paced, bursts): call i is due at a fixed time whatever happened before, and its
 *   latency is measured from that due time, so a stall of the server (or of this generator)
 *   shows up in the figures instead of silently delaying the calls after it (coordinated omission).
 */
export interface CallbackTarget {
  url: string;
  /** The orderNo of call i (callbacks for orders that exist, when the pipeline runs behind). */
  orderNo(i: number): string;
}

export interface SentCallback {
  sessionID: string;
  /** When the call was due (open loop) or sent (closed loop), ms since the epoch. */
  sentAt: number;
  /** Ack latency in ms, from sentAt; undefined when the call got no 10000. */
  ackMs: number | undefined;
}

export interface LoadResult {
  sent: number;
  /** Answered 10000. */
  accepted: number;
  /** Answered, but not 10000 (or not HTTP 200). */
  refused: number;
  /** No answer (transport fault, time-out). */
  failed: number;
  firstProblem: string | undefined;
  seconds: number;
  /** Accepted callbacks per second over the phase. */
  rate: number;
  latency: LatencySummary;
  calls: SentCallback[];
}

/** Customs' own client waits 30 s (customs-sim's fireCallback does too); a later answer counts as none. */
const REQUEST_TIMEOUT_MS = 30_000;

function callbackBody(orderNo: string, sessionID: string): string {
  return new URLSearchParams({ openReq: openReqText(orderNo, sessionID, Date.now(), 'string') }).toString();
}

function post(agent: http.Agent, url: URL, body: string): Promise<{ ok: true } | { ok: false; problem: string; transport: boolean }> {
  return new Promise((resolve) => {
    const request = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8', 'content-length': Buffer.byteLength(body) },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('error', (error) => resolve({ ok: false, problem: error.message, transport: true }));
        response.on('end', () => {
          if (response.statusCode === 200 && text.includes('"code":"10000"')) resolve({ ok: true });
          else resolve({ ok: false, problem: `HTTP ${response.statusCode}: ${text.slice(0, 200)}`, transport: false });
        });
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    request.on('error', (error) => resolve({ ok: false, problem: error.message, transport: true }));
    request.end(body);
  });
}

class Tally {
  accepted = 0;
  refused = 0;
  failed = 0;
  firstProblem: string | undefined;
  readonly calls: SentCallback[] = [];

  record(sessionID: string, sentAt: number, answer: Awaited<ReturnType<typeof post>>): void {
    if (answer.ok) {
      this.accepted += 1;
      this.calls.push({ sessionID, sentAt, ackMs: nowMs() - sentAt });
      return;
    }
    if (answer.transport) this.failed += 1;
    else this.refused += 1;
    this.firstProblem ??= answer.problem;
    this.calls.push({ sessionID, sentAt, ackMs: undefined });
  }

  result(seconds: number): LoadResult {
    const latencies = this.calls.flatMap((c) => (c.ackMs === undefined ? [] : [c.ackMs]));
    return {
      sent: this.calls.length,
      accepted: this.accepted,
      refused: this.refused,
      failed: this.failed,
      firstProblem: this.firstProblem,
      seconds,
      rate: this.accepted / seconds,
      latency: summarize(latencies),
      calls: this.calls,
    };
  }
}

/** Closed loop: `connections` keep-alive connections, each with one call in flight, for `seconds`. */
export async function saturate(target: CallbackTarget, connections: number, seconds: number): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const url = new URL(target.url);
  const tally = new Tally();
  let i = 0;
  const started = nowMs();
  const endAt = started + seconds * 1000;
  try {
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (nowMs() < endAt) {
          const sessionID = randomUUID().replace(/-/g, '');
          const sentAt = nowMs();
          tally.record(sessionID, sentAt, await post(agent, url, callbackBody(target.orderNo(i++), sessionID)));
        }
      }),
    );
    return tally.result((nowMs() - started) / 1000);
  } finally {
    agent.destroy();
  }
}

/**
 * Open loop: call i is due `dueOffsetsMs[i]` after the start. Up to `maxSockets` connections
 * (keep-alive): a stalled server makes the generator open more rather than queue calls behind it.
 */
export async function openLoop(
  target: CallbackTarget,
  dueOffsetsMs: number[],
  tick?: (text: string) => void,
  maxSockets = 512,
): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  const url = new URL(target.url);
  const tally = new Tally();
  // A line every 10 s on long phases, so a stuck run is told apart from a slow one.
  const ticker =
    tick &&
    setInterval(
      () => tick(`${next}/${dueOffsetsMs.length} calls due so far, ${tally.accepted} answered 10000, ${tally.refused + tally.failed} not`),
      10_000,
    );
  const inFlight: Array<Promise<void>> = [];
  const started = nowMs() + 20;
  let next = 0;
  try {
    while (next < dueOffsetsMs.length) {
      const now = nowMs();
      while (next < dueOffsetsMs.length && started + (dueOffsetsMs[next] as number) <= now) {
        const sentAt = started + (dueOffsetsMs[next] as number);
        const sessionID = randomUUID().replace(/-/g, '');
        inFlight.push(
          post(agent, url, callbackBody(target.orderNo(next), sessionID)).then((answer) => tally.record(sessionID, sentAt, answer)),
        );
        next += 1;
      }
      if (next < dueOffsetsMs.length) {
        const wait = started + (dueOffsetsMs[next] as number) - nowMs();
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.floor(wait))));
      }
    }
    await Promise.all(inFlight);
    const lastDue = dueOffsetsMs.at(-1) ?? 0;
    // The rate offered, over the schedule's span: one call every 1/rate s means `count` calls in count/rate s.
    return tally.result(Math.max(nowMs() - started, lastDue) / 1000);
  } finally {
    if (ticker) clearInterval(ticker);
    agent.destroy();
  }
}

/** One call every 1/rate s for `seconds`. */
export function pacedSchedule(rate: number, seconds: number): number[] {
  return Array.from({ length: Math.max(1, Math.round(rate * seconds)) }, (_, i) => (i * 1000) / rate);
}

/** `size` calls due together at the start of every second, for `seconds`. */
export function burstSchedule(size: number, seconds: number): number[] {
  return Array.from({ length: Math.max(1, Math.round(seconds)) * size }, (_, i) => Math.floor(i / size) * 1000);
}
