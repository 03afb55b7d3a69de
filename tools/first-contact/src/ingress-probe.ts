import type { CheckResult } from './check';

/** What customs' HTTP client sends as its User-Agent (docs/protocol.md §1). */
export const CUSTOMS_USER_AGENT = 'Apache-HttpClient/4.5.3 (Java/1.8.0_60)';
/** A second probe with an ordinary client name tells "this User-Agent is blocked" from "everything is". */
const NEUTRAL_USER_AGENT = 'ceb179-first-contact/1';

/**
 * Deliberately not an openReq (no orderNo, no sessionID): ceb179's ingress answers 20000 and
 * records nothing, so the probe can run against production at any time.
 */
export const PROBE_BODY = `openReq=${encodeURIComponent('{"firstContactProbe":"not a customs call; expect code 20000"}')}`;

export interface ProbeOptions {
  timeoutMs: number;
}

interface ProbeReply {
  status: number;
  contentType: string;
  server: string;
  text: string;
}

function callbackUrl(ingressUrl: string): string {
  const url = new URL(ingressUrl);
  if (!url.pathname.endsWith('/platDataOpen')) url.pathname = `${url.pathname.replace(/\/$/, '')}/platDataOpen`;
  return url.toString();
}

async function post(url: string, userAgent: string, timeoutMs: number): Promise<ProbeReply> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'user-agent': userAgent, 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' },
    body: PROBE_BODY,
    redirect: 'manual',
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    server: response.headers.get('server') ?? '',
    text,
  };
}

/** ceb179's refusal of a body that is not an openReq: `{"code":"20000","message":...,"serviceTime":n}`. */
function ceb179Refusal(reply: ProbeReply): { message: string } | undefined {
  if (!/^application\/json/i.test(reply.contentType)) return undefined;
  try {
    const body = JSON.parse(reply.text) as { code?: unknown; message?: unknown; serviceTime?: unknown };
    if (body.code === '20000' && typeof body.message === 'string' && typeof body.serviceTime === 'number') return { message: body.message };
  } catch {
    return undefined;
  }
  return undefined;
}

function describe(reply: ProbeReply): string {
  const excerpt = reply.text.replace(/\s+/g, ' ').slice(0, 120);
  return `HTTP ${reply.status}, ${reply.contentType || 'no content type'}${reply.server ? `, server ${reply.server}` : ''}: ${JSON.stringify(excerpt)}`;
}

/**
 * Proves that a request carrying customs' User-Agent reaches ceb179's ingress through every
 * firewall, WAF and load balancer in front of it: the reply must be ingress' own 20000 JSON.
 */
export async function probeIngress(ingressUrl: string, options: ProbeOptions): Promise<CheckResult[]> {
  const url = callbackUrl(ingressUrl);
  const results: CheckResult[] = [];
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' || (parsed.port !== '' && parsed.port !== '80')) {
    results.push({
      name: 'callback URL form',
      ok: true,
      note: true,
      detail: [`${url}: customs registers plain http on port 80, without a port; this probe checks the URL as given`],
    });
  }
  const name = `ingress reachable with customs' User-Agent (${url})`;
  let reply: ProbeReply;
  try {
    reply = await post(url, CUSTOMS_USER_AGENT, options.timeoutMs);
  } catch (error) {
    // fetch wraps the socket error: its code (ECONNREFUSED, ETIMEDOUT…) is what says why.
    const { cause } = error as { cause?: { code?: string; message?: string } };
    const why = cause?.code ?? cause?.message ?? (error as Error).message;
    results.push({
      name,
      ok: false,
      detail: [`no HTTP answer (${why})`],
      fix: 'nothing answered: check the address, that ingress runs, and that the firewall lets customs reach port 80 (docs/integration-guide.md)',
      doc: 'docs/first-contact.md#firewall',
    });
    return results;
  }
  const refusal = ceb179Refusal(reply);
  if (refusal) {
    const allowList = reply.status === 403;
    results.push({
      name,
      ok: true,
      detail: [
        `ceb179 answered the deliberately invalid probe with 20000 (${JSON.stringify(refusal.message)}); nothing was recorded`,
        ...(allowList
          ? [
              "the source allow-list (CEB179_INGRESS_ALLOWED_SOURCES) refused this machine's address, which is right for anyone but customs; the User-Agent itself passed every firewall",
            ]
          : []),
      ],
    });
    return results;
  }
  let neutral: ProbeReply | undefined;
  try {
    neutral = await post(url, NEUTRAL_USER_AGENT, options.timeoutMs);
  } catch {
    neutral = undefined;
  }
  const blockedByAgent = neutral !== undefined && ceb179Refusal(neutral) !== undefined;
  results.push({
    name,
    ok: false,
    detail: [
      `with customs' User-Agent "${CUSTOMS_USER_AGENT}": ${describe(reply)}`,
      neutral ? `with User-Agent "${NEUTRAL_USER_AGENT}": ${describe(neutral)}` : 'a second probe with another User-Agent got no answer',
    ],
    fix: blockedByAgent
      ? `something in front of ingress (WAF, bot filter, CDN) blocks customs' User-Agent "${CUSTOMS_USER_AGENT}": allow it for POST /platDataOpen`
      : "the reply is not ceb179's: another server or a proxy answers at this URL. Check the path /platDataOpen, the load balancer and the firewall",
    doc: 'docs/first-contact.md#firewall',
  });
  return results;
}
