import { randomUUID } from 'node:crypto';
import { seedDemo } from './seed-demo';

/**
 * The demo's driver, run by scripts/demo.sh once every service is up: seeds demo orders, has
 * the customs simulator fire one callback per order at ingress, then follows each request until
 * customs holds a verified upload, and prints one line per request and a summary.
 * Exit code 0 only if every request was uploaded and verified.
 */
interface CallbackResult {
  orderNo: string;
  sessionID: string;
  serviceTimeSentAs: string;
  httpStatus: number;
  body: { code?: string };
  latencyMs: number;
}
interface UploadView {
  sessionID?: string;
  code: string;
  verified: boolean;
  verifyProblem?: string;
  receivedAt: string;
  certNo?: string;
}

const env = process.env;
const customsSimUrl = env.DEMO_CUSTOMS_SIM_URL ?? 'http://127.0.0.1:8090';
const ingressUrl = env.DEMO_INGRESS_URL ?? `http://127.0.0.1:${env.CEB179_INGRESS_PORT ?? '8080'}/platDataOpen`;
const databaseUrl = env.CEB179_DATABASE_URL ?? 'postgres://ceb179:ceb179@127.0.0.1:5432/ceb179';
const schema = env.CEB179_SOURCE_SCHEMA ?? 'ceb_source';
const count = Number(env.DEMO_COUNT ?? '20');
const timeoutMs = Number(env.DEMO_TIMEOUT_MS ?? '90000');

async function json<T>(url: string, init?: RequestInit): Promise<T> {
  const response = await fetch(url, init);
  if (!response.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

async function main(): Promise<number> {
  const orderNos = await seedDemo(databaseUrl, schema, count);
  console.log(`seeded ${orderNos.length} demo orders into ${schema}`);
  const firedAt = Date.now();
  const callbacks = orderNos.map((orderNo, i) => ({ orderNo, sessionID: randomUUID(), serviceTimeAs: i % 2 === 0 ? 'string' : 'number' }));
  const results = await json<CallbackResult[]>(`${customsSimUrl}/sim/callbacks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ingressUrl, callbacks }),
  });
  console.log(`customs fired ${results.length} callbacks at ${ingressUrl}`);

  const wanted = new Set(results.map((r) => r.sessionID));
  let uploads = new Map<string, UploadView>();
  while (Date.now() - firedAt < timeoutMs) {
    const all = await json<UploadView[]>(`${customsSimUrl}/sim/uploads`);
    uploads = new Map(
      all.filter((u) => u.sessionID && wanted.has(u.sessionID) && u.code === '10000').map((u) => [u.sessionID as string, u]),
    );
    if (uploads.size >= wanted.size) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }

  console.log('');
  console.log(
    pad('sessionID', 38) + pad('orderNo', 16) + pad('reply', 14) + pad('upload', 8) + pad('signature', 11) + 'callback -> upload',
  );
  let ok = 0;
  for (const result of results) {
    const upload = uploads.get(result.sessionID);
    const reply = `${result.body.code ?? result.httpStatus} ${Math.round(result.latencyMs)}ms`;
    const verified = upload ? (upload.verified ? 'verified' : 'BAD') : '-';
    const endToEnd = upload ? `${new Date(upload.receivedAt).getTime() - firedAt} ms` : 'not uploaded';
    if (result.body.code === '10000' && upload?.verified) ok += 1;
    console.log(
      pad(result.sessionID, 38) + pad(result.orderNo, 16) + pad(reply, 14) + pad(upload?.code ?? '-', 8) + pad(verified, 11) + endToEnd,
    );
  }
  const latencies = results.map((r) => r.latencyMs).sort((a, b) => a - b);
  console.log('');
  console.log(
    `summary: ${ok}/${results.length} callbacks answered 10000 and uploaded with a verified signature; ` +
      `callback reply latency max ${Math.round(latencies[latencies.length - 1] ?? 0)} ms, median ${Math.round(latencies[Math.floor(latencies.length / 2)] ?? 0)} ms`,
  );
  return ok === results.length ? 0 : 1;
}

function pad(text: string, width: number): string {
  return text.length >= width ? `${text} ` : text + ' '.repeat(width - text.length);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
