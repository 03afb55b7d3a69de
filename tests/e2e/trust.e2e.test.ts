import { randomBytes, randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import * as amqp from 'amqplib';
import { Pool } from 'pg';
import {
  authenticateSignJob,
  Exchanges,
  Queues,
  SCHEMA_VERSION,
  type SignatureMessage,
  type SignJobMessage,
  signJobQueueFor,
} from '@ceb179/contracts';
import { migrate } from '@ceb179/db';
import { SoftCard } from '@ceb179/eport-sim';
import { Headers } from '@ceb179/mq';
import { buildPaymentDocument, buildSignString } from '@ceb179/protocol';
import { startServiceProcess, waitForOutput, type ServiceProcess } from '@ceb179/harness';
import {
  createTestDatabase,
  createTestVhost,
  makeFixture,
  TEST_SIGN_JOB_KEY,
  testRedisUrl,
  waitFor,
  type TestDatabase,
  type TestVhost,
} from '@ceb179/testkit';
import { ledgerRow, startPipeline, type Pipeline } from './pipeline-harness';

/**
 * Issue 14's acceptance, with real processes: nobody who can put a message on a queue gets the
 * card to sign a document of their choosing or ends a request with a forged signature, and the
 * internet-facing ingress trusts no forwarded address and shows nothing of its insides.
 */

const CARD_EBP = '3301963K69';
const OTHER_EBP = '4403160Z9A'; // no card serves it: its jobs wait in the "any" queue

interface DeadLetter {
  payload: Record<string, unknown>;
  reason: string;
  queue: string;
}

/** Collects every dead letter of the pipeline's vhost (read with the administrator's credentials). */
async function tapDeadLetters(url: string): Promise<{ letters: DeadLetter[]; close(): Promise<void> }> {
  const connection = await amqp.connect(url);
  const channel = await connection.createChannel();
  const letters: DeadLetter[] = [];
  await channel.consume(
    Queues.deadLetters,
    (message) => {
      if (!message) return;
      const headers = message.properties.headers ?? {};
      let payload: Record<string, unknown> = {};
      try {
        payload = JSON.parse(message.content.toString('utf8')) as Record<string, unknown>;
      } catch {
        // not JSON: kept with an empty payload
      }
      letters.push({
        payload,
        reason: String(headers[Headers.deadLetterReason] ?? ''),
        queue: String(headers[Headers.deadLetterQueue] ?? ''),
      });
    },
    { noAck: true },
  );
  return { letters, close: () => connection.close() };
}

/** Publishes raw messages to an exchange with the given credentials, waiting for the broker's confirm. */
async function publishAs(
  url: string,
  exchange: string,
  routingKey: string,
  payloads: object[],
  sessionID: (p: object) => string,
): Promise<void> {
  const connection = await amqp.connect(url);
  try {
    const channel = await connection.createConfirmChannel();
    for (const payload of payloads) {
      const id = sessionID(payload);
      channel.publish(exchange, routingKey, Buffer.from(JSON.stringify(payload)), {
        persistent: true,
        contentType: 'application/json',
        messageId: id,
        correlationId: id,
        headers: { [Headers.sessionID]: id },
      });
    }
    await channel.waitForConfirms();
  } finally {
    await connection.close();
  }
}

/** A well-formed 179 sign string for a made-up request: what a forger would want signed. */
let forgeries = 0;
function forgedSignString(sessionID: string, ebpCode: string): string {
  forgeries += 1;
  const fixture = makeFixture(`forged${forgeries}`, { ebpCode, amount: '99999.00' });
  const document = buildPaymentDocument({
    source: { payment: fixture.payment, orders: fixture.payment_order, goods: fixture.order_goods },
    guid: randomUUID().toUpperCase(),
  });
  return buildSignString({ sessionID, headJson: document.headJson, listsJson: document.listsJson, serviceTime: String(Date.now()) });
}

describe('a forged sign job never reaches the card', () => {
  const fixtures = [makeFixture('trust-job-0'), makeFixture('trust-job-1'), makeFixture('trust-job-other', { ebpCode: OTHER_EBP })];
  let pipeline: Pipeline;
  let deadLetters: Awaited<ReturnType<typeof tapDeadLetters>>;

  beforeAll(async () => {
    pipeline = await startPipeline({ cards: [{ algorithm: 'RSA', ebpCodes: [CARD_EBP] }], fixtures, perServiceUsers: true });
    deadLetters = await tapDeadLetters(pipeline.vhost.url);
  }, 60_000);
  afterAll(async () => {
    await deadLetters?.close();
    await pipeline?.stop();
  });

  it('no MAC, a bad MAC, another key, a real job replayed for another ebpCode, a stale or oversized one: each dead-lettered with its reason, the card asked nothing', async () => {
    // A real job the assembler made for another ebpCode, taken off the "any" queue where it waits.
    const otherOrder = fixtures[2]?.payment_order[0]?.order_no as string;
    const other = await pipeline.customs.fireCallback({ ingressUrl: pipeline.ingressUrl, orderNo: otherOrder, sessionID: randomUUID() });
    expect(other.body).toMatchObject({ code: '10000' });
    const admin = await amqp.connect(pipeline.vhost.url);
    const channel = await admin.createChannel();
    const realJobForOther = await waitFor('the real job for the other ebpCode', async () => {
      const message = await channel.get(Queues.signJobsAny, { noAck: true });
      return message ? (JSON.parse(message.content.toString('utf8')) as SignJobMessage) : undefined;
    });
    await admin.close();
    expect(realJobForOther).toMatchObject({ sessionID: other.sessionID, ebpCode: OTHER_EBP, mac: expect.any(String) });

    const before = pipeline.eport.stats();
    const unsigned = (sessionID: string) => ({
      v: SCHEMA_VERSION as typeof SCHEMA_VERSION,
      sessionID,
      ebpCode: CARD_EBP,
      signString: forgedSignString(sessionID, CARD_EBP),
      deadline: new Date(Date.now() + 120_000).toISOString(),
    });
    const noMac = unsigned(`forged-nomac-${randomUUID()}`);
    const badMac = { ...unsigned(`forged-badmac-${randomUUID()}`), mac: randomBytes(32).toString('base64') };
    const otherKey = authenticateSignJob(randomBytes(32).toString('base64'), unsigned(`forged-otherkey-${randomUUID()}`));
    // Made with the real key (as a captured old job would be), but stale or oversized.
    const stale = authenticateSignJob(TEST_SIGN_JOB_KEY, {
      ...unsigned(`stale-${randomUUID()}`),
      deadline: new Date(Date.now() - 2 * 3_600_000).toISOString(),
    }); // past the default grace of an hour
    const oversized = authenticateSignJob(TEST_SIGN_JOB_KEY, unsigned(`oversized-${'x'.repeat(200)}`));
    const jobs = [noMac, badMac, otherKey, realJobForOther, stale, oversized];
    // The attacker can write to the sign-job exchange (the administrator's credentials here), but holds no key.
    await publishAs(pipeline.vhost.url, Exchanges.signJobs, CARD_EBP, jobs, (p) => (p as SignJobMessage).sessionID.slice(0, 100));

    const refused = await waitFor(
      'every forged sign job refused',
      async () => {
        const mine = deadLetters.letters.filter((l) => l.reason.startsWith('sign job refused'));
        return mine.length >= jobs.length ? mine : undefined;
      },
      20_000,
    );
    const reasonOf = (sessionID: string) => refused.find((l) => l.payload.sessionID === sessionID)?.reason;
    expect(reasonOf(noMac.sessionID)).toBe('sign job refused: not authenticated: the job carries no MAC');
    expect(reasonOf(badMac.sessionID)).toMatch(/^sign job refused: not authenticated: the MAC does not match the job/);
    expect(reasonOf(otherKey.sessionID)).toMatch(/^sign job refused: not authenticated: the MAC does not match the job/);
    expect(reasonOf(realJobForOther.sessionID)).toBe(
      `sign job refused: this card does not sign for ebpCode ${OTHER_EBP} (a job replayed onto another card's queue?)`,
    );
    expect(reasonOf(stale.sessionID)).toMatch(/^sign job refused: the deadline passed \d+ s ago$/);
    expect(reasonOf(oversized.sessionID)).toBe('sign job refused: sessionID is longer than 128 characters');
    for (const letter of refused) expect(letter.queue).toBe(signJobQueueFor(CARD_EBP));

    // The card was asked nothing: no request of any kind reached the control, no PIN, no signature.
    expect(pipeline.eport.stats()).toMatchObject({
      requests: before.requests,
      signatures: before.signatures,
      pinAttempts: before.pinAttempts,
    });
    const signerLog = pipeline.current('signer-0')?.output() ?? '';
    expect(signerLog.match(/sign job refused before reaching the card/g)).toHaveLength(jobs.length);
    expect(pipeline.customs.uploads().filter((u) => jobs.some((j) => j.sessionID === u.sessionID))).toEqual([]);
    expect((await ledgerRow(pipeline.db.url, other.sessionID))?.status).toBe('assembled');

    // And the card still signs what the assembler sends.
    const real = await pipeline.customs.fireCallback({
      ingressUrl: pipeline.ingressUrl,
      orderNo: fixtures[0]?.payment_order[0]?.order_no as string,
      sessionID: randomUUID(),
    });
    const [upload] = await pipeline.customs.waitForUploads(1, 20_000);
    expect(upload).toMatchObject({ sessionID: real.sessionID, code: '10000', verified: true });
    expect(pipeline.eport.stats().signatures).toBe(before.signatures + 1);
  });
});

describe('a forged signature for a request in flight', () => {
  const fixtures = [makeFixture('trust-sig-0')];
  let pipeline: Pipeline;
  let deadLetters: Awaited<ReturnType<typeof tapDeadLetters>>;

  beforeAll(async () => {
    // A slow card keeps the request in flight while the forgeries arrive.
    pipeline = await startPipeline({
      cards: [{ algorithm: 'RSA', ebpCodes: [CARD_EBP], signLatencyMs: 3_000 }],
      fixtures,
      perServiceUsers: true,
    });
    deadLetters = await tapDeadLetters(pipeline.vhost.url);
  }, 60_000);
  afterAll(async () => {
    await deadLetters?.close();
    await pipeline?.stop();
  });

  it("sent with a card PC's own credentials, it changes nothing: the request uploads the real signature", async () => {
    const callback = await pipeline.customs.fireCallback({
      ingressUrl: pipeline.ingressUrl,
      orderNo: fixtures[0]?.payment_order[0]?.order_no as string,
      sessionID: randomUUID(),
    });
    expect(callback.body).toMatchObject({ code: '10000' });
    const assembled = await waitFor('the request assembled (its job at the card)', async () => {
      const row = await ledgerRow(pipeline.db.url, callback.sessionID);
      return row?.status === 'assembled' ? row : undefined;
    });
    const signString = assembled.sign_string as string;
    const card = pipeline.eport.card;
    const stranger = SoftCard.create({ algorithm: 'RSA', pin: '1' });
    const forged = (signValue: string, certNo = card.certNo): SignatureMessage => ({
      v: SCHEMA_VERSION,
      sessionID: callback.sessionID,
      ebpCode: CARD_EBP,
      certNo,
      signValue,
      algorithm: 'RSA-SHA1',
      signedAt: new Date().toISOString(),
      signerId: 'forger',
      deadline: new Date(Date.now() + 60_000).toISOString(),
    });
    const againstTheCard = [
      forged(stranger.sign(signString)), // a real signature over the real text, by another key, claiming the card's certNo
      forged(randomBytes(128).toString('base64')), // corrupted
    ];
    // A certificate ceb179 has not learned: such a signature waits for a heartbeat that could vouch
    // for it (a reporter that just started knows no card yet), and is never stored meanwhile.
    const unknownCertificate = forged(stranger.sign(signString), stranger.certNo);
    const forgeries = [...againstTheCard, unknownCertificate];
    // A stolen card-PC credential may publish signatures (that is its job): the reporter must not believe them.
    await publishAs(pipeline.amqpUrls?.signer as string, Exchanges.signatures, '', forgeries, (p) => (p as SignatureMessage).sessionID);

    const refused = await waitFor(
      'the forged signatures refused',
      async () => {
        const mine = deadLetters.letters.filter(
          (l) => l.payload.sessionID === callback.sessionID && l.reason.startsWith('signature refused'),
        );
        return mine.length === againstTheCard.length ? mine : undefined;
      },
      20_000,
    );
    expect(refused.map((l) => l.queue)).toEqual(againstTheCard.map(() => Queues.signatures));
    for (const letter of refused)
      expect(letter.reason).toMatch(/^signature refused: the signature does not verify over the stored sign string with certificate /);
    const meanwhile = await ledgerRow(pipeline.db.url, callback.sessionID);
    expect(meanwhile).toMatchObject({ sign_value: null, cert_no: null });

    const [upload] = await pipeline.customs.waitForUploads(1, 30_000);
    expect(upload).toMatchObject({ sessionID: callback.sessionID, code: '10000', verified: true, certNo: card.certNo });
    expect(forgeries.map((f) => f.signValue)).not.toContain(upload?.signValue);
    const finished = await waitFor('the ledger records the upload', async () => {
      const row = await ledgerRow(pipeline.db.url, callback.sessionID);
      return row?.status === 'uploaded' ? row : undefined;
    });
    expect(finished).toMatchObject({ status: 'uploaded', sign_value: upload?.signValue });
    expect(pipeline.customs.uploads().filter((u) => u.sessionID === callback.sessionID)).toHaveLength(1);
  });
});

describe('ingress on the internet', () => {
  let db: TestDatabase;
  let vhost: TestVhost;
  const processes: ServiceProcess[] = [];

  const portsOf = async (ingress: ServiceProcess): Promise<{ port: number; healthPort: number }> => {
    await waitForOutput(ingress, 'ingress started');
    const lines = ingress
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; port?: number });
    const port = lines.find((l) => l.msg === 'ingress listening on /platDataOpen')?.port;
    const healthPort = lines.find((l) => l.msg.startsWith('ingress health endpoints'))?.port;
    if (!port || !healthPort) throw new Error('ingress printed no ports');
    return { port, healthPort };
  };
  const start = async (env: Record<string, string>): Promise<{ process: ServiceProcess; port: number; healthPort: number }> => {
    const ingress = startServiceProcess(
      'ingress',
      {
        CEB179_AMQP_URL: vhost.url,
        CEB179_DATABASE_URL: db.url,
        CEB179_REDIS_URL: testRedisUrl(),
        CEB179_INGRESS_PORT: '0',
        CEB179_INGRESS_HEALTH_PORT: '0',
        CEB179_METRICS_PORT: '0',
        // customs' sources: a network this test is not calling from
        CEB179_INGRESS_ALLOWED_SOURCES: '10.0.0.0/8',
        ...env,
      },
      'ingress-trust',
    );
    processes.push(ingress);
    return { process: ingress, ...(await portsOf(ingress)) };
  };
  const call = async (
    port: number,
    sessionID: string,
    forwardedFor?: string,
  ): Promise<{ status: number; body: { code: string; message: string } }> => {
    const response = await fetch(`http://127.0.0.1:${port}/platDataOpen`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) },
      body: `openReq=${encodeURIComponent(JSON.stringify({ orderNo: 'SO-TRUST-1', sessionID, serviceTime: Date.now() }))}`,
    });
    return { status: response.status, body: (await response.json()) as { code: string; message: string } };
  };
  const recorded = async (sessionID: string): Promise<boolean> => (await ledgerRow(db.url, sessionID)) !== undefined;

  beforeAll(async () => {
    [db, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
    const pool = new Pool({ connectionString: db.url, max: 1 });
    await migrate(pool);
    await pool.end();
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await Promise.allSettled([db?.drop(), vhost?.delete()]);
  });

  it('without a proxy configured, a forged X-Forwarded-For naming a customs address is refused, nothing recorded; the empty allow-list warning is absent', async () => {
    const { process, port } = await start({});
    for (const forged of ['10.1.2.3', '10.1.2.3, 10.9.9.9']) {
      const sessionID = `xff-${randomUUID()}`;
      expect(await call(port, sessionID, forged)).toEqual({
        status: 403,
        body: expect.objectContaining({ code: '20000', message: 'source address not allowed' }),
      });
      expect(await recorded(sessionID)).toBe(false);
    }
    expect(process.output()).not.toContain('CEB179_INGRESS_ALLOWED_SOURCES is empty');
  });

  it('behind one proxy (hop count 1), the address the caller wrote itself is ignored: only the one the proxy added counts', async () => {
    const { port } = await start({ CEB179_INGRESS_TRUST_PROXY: '1' });
    // The caller wrote 10.1.2.3; the proxy (this test, at 127.0.0.1) appended the caller's real address.
    const forged = `xff-${randomUUID()}`;
    expect(await call(port, forged, '10.1.2.3, 203.0.113.7')).toMatchObject({ status: 403, body: { code: '20000' } });
    expect(await recorded(forged)).toBe(false);
    // The control: a call the proxy says comes from customs is let through (and answered 10000 once recorded).
    const allowed = `xff-${randomUUID()}`;
    expect(await call(port, allowed, '203.0.113.7, 10.1.2.3')).toMatchObject({ status: 200, body: { code: '10000' } });
    expect(await recorded(allowed)).toBe(true);
  });

  it('/readyz and /healthz are not served on the customs-facing listener, only on the health listener', async () => {
    const { port, healthPort } = await start({ CEB179_INGRESS_ALLOWED_SOURCES: '' });
    for (const path of ['/readyz', '/healthz']) {
      const outside = await fetch(`http://127.0.0.1:${port}${path}`);
      expect(outside.status).toBe(404);
      const text = await outside.text();
      expect(text).not.toMatch(/database|broker|redis|ready/);
    }
    const inside = await fetch(`http://127.0.0.1:${healthPort}/readyz`);
    expect(inside.status).toBe(200);
    expect(await inside.json()).toMatchObject({ status: 'ready', checks: { database: true } });
    expect(processes[processes.length - 1]?.output()).toContain('CEB179_INGRESS_ALLOWED_SOURCES is empty');
  });

  it('caps open connections: past the cap a new connection is closed at once, and served again once one frees up', async () => {
    const { port } = await start({ CEB179_INGRESS_ALLOWED_SOURCES: '', CEB179_INGRESS_MAX_CONNECTIONS: '2' });
    const open = (): Promise<Socket> =>
      new Promise((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => resolve(socket));
        socket.once('error', reject);
      });
    const closedWithin = (socket: Socket, ms: number): Promise<boolean> =>
      new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), ms);
        socket.once('close', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
    const held = [await open(), await open()];
    const third = await open();
    expect(await closedWithin(third, 2_000)).toBe(true);
    held[0]?.destroy();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await call(port, `cap-${randomUUID()}`)).status).toBe(200);
    for (const socket of held) socket.destroy();
  });

  it('refuses a source over its rate limit with 429, recording nothing', async () => {
    const { port } = await start({
      CEB179_INGRESS_ALLOWED_SOURCES: '',
      CEB179_INGRESS_RATE_LIMIT_PER_SECOND: '1',
      CEB179_INGRESS_RATE_LIMIT_BURST: '2',
    });
    const ids = Array.from({ length: 4 }, () => `rate-${randomUUID()}`);
    const replies = [];
    for (const id of ids) replies.push(await call(port, id));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 429, 429]);
    expect(replies[2]?.body).toMatchObject({ code: '20000', message: 'too many calls from this source address' });
    expect(await Promise.all(ids.map(recorded))).toEqual([true, true, false, false]);
  });
});
