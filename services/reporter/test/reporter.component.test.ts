import { randomUUID } from 'node:crypto';
import * as amqp from 'amqplib';
import { Pool } from 'pg';
import { startCustomsSim, type CustomsSim, type UploadRecord } from '@ceb179/customs-sim';
import { Queues, SCHEMA_VERSION, type SignatureMessage } from '@ceb179/contracts';
import { migrate } from '@ceb179/db';
import { SoftCard } from '@ceb179/eport-sim';
import type { Component } from '@ceb179/lifecycle';
import { createLogger } from '@ceb179/logger';
import { declareHeartbeatQueue, declareSignatureConsumption, delayQueueName, Headers } from '@ceb179/mq';
import { buildPayExInfoStr, buildPaymentDocument, buildSignString, buildUploadFormBody } from '@ceb179/protocol';
import { createTestDatabase, createTestVhost, makeFixture, waitFor, type TestDatabase, type TestVhost } from '@ceb179/testkit';
import { announceReadySigner } from './signer-heartbeat';
import { composeReporter } from '../src/compose';
import { loadReporterConfig } from '../src/config';
import { CONFIG_FAULT_HINT } from '../src/domain/customs-codes';

const logger = createLogger({ service: 'test', level: 'silent' });
const EBP_CODE = '3301963K69';

/** An assembled ledger row, as the assembler leaves it. */
interface Seed {
  sessionID: string;
  orderNo: string;
  headJson: string;
  listsJson: string;
  serviceTime: string;
  signString: string;
  deadline: Date;
}

interface LedgerRow {
  status: string;
  reason: string | null;
  signed_at: Date | null;
  uploaded_at: Date | null;
  upload_claimed_at: Date | null;
  cert_no: string | null;
  sign_value: string | null;
  signer_id: string | null;
  customs_code: string | null;
  customs_message: string | null;
  late: boolean;
  head_json: string;
  sign_string: string;
}

interface AttemptRow {
  http_status: number | null;
  customs_code: string | null;
  customs_message: string | null;
  outcome: string;
  error: string | null;
  latency_ms: number;
}

let counter = 0;
function key(prefix: string): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}${counter}`;
}

function signature(seed: Seed, card: SoftCard, overrides: Partial<SignatureMessage> = {}): SignatureMessage {
  return {
    v: SCHEMA_VERSION,
    sessionID: seed.sessionID,
    ebpCode: EBP_CODE,
    certNo: card.certNo,
    signValue: card.sign(seed.signString),
    algorithm: card.algorithm === 'RSA' ? 'RSA-SHA1' : 'SM2-SM3',
    signedAt: new Date().toISOString(),
    signerId: 'test-signer',
    deadline: seed.deadline.toISOString(),
    ...overrides,
  };
}

describe('reporter component (real Postgres and RabbitMQ; customs simulated)', () => {
  const rsaCard = SoftCard.create({ algorithm: 'RSA', pin: '1' });
  const sm2Card = SoftCard.create({ algorithm: 'SM2', pin: '1' });
  const strangerCard = SoftCard.create({ algorithm: 'RSA', pin: '1' }); // never registered at customs
  let db: TestDatabase;
  let vhost: TestVhost;
  let pool: Pool;
  let customs: CustomsSim;
  let reporter: Component;
  let connection: amqp.ChannelModel;
  let publisher: amqp.ConfirmChannel;
  const deadLetters: amqp.ConsumeMessage[] = [];

  const row = async (sessionID: string): Promise<LedgerRow> =>
    (await pool.query<LedgerRow>('SELECT * FROM ceb179.request WHERE session_id = $1', [sessionID])).rows[0] as LedgerRow;
  const attempts = async (sessionID: string): Promise<AttemptRow[]> =>
    (await pool.query<AttemptRow>('SELECT * FROM ceb179.upload_attempt WHERE session_id = $1 ORDER BY id', [sessionID])).rows;
  const uploadsFor = (sessionID: string): UploadRecord[] => customs.uploads().filter((u) => u.sessionID === sessionID);
  const waitForStatus = (sessionID: string, status: string, timeoutMs = 10_000): Promise<LedgerRow> =>
    waitFor(
      `${sessionID} ${status}`,
      async () => {
        const found = await row(sessionID);
        return found?.status === status ? found : undefined;
      },
      timeoutMs,
      25,
    );
  const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  /** Messages ready in a queue right now, or undefined when it does not exist (checked on a channel of its own). */
  async function readyCount(queue: string): Promise<number | undefined> {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    try {
      return (await channel.checkQueue(queue)).messageCount;
    } catch {
      return undefined;
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  async function seedAssembled(sessionID: string, options: { deadline?: Date } = {}): Promise<Seed> {
    const fixture = makeFixture(sessionID);
    const document = buildPaymentDocument({
      source: { payment: fixture.payment, orders: fixture.payment_order, goods: fixture.order_goods },
      guid: randomUUID().toUpperCase(),
    });
    const serviceTime = String(Date.now());
    const signString = buildSignString({ sessionID, headJson: document.headJson, listsJson: document.listsJson, serviceTime });
    const deadline = options.deadline ?? new Date(Date.now() + 120_000);
    const orderNo = fixture.payment_order[0]!.order_no;
    await pool.query(
      `INSERT INTO ceb179.request (session_id, order_no, customs_service_time, status, received_at, deadline_at, published_at,
         assembled_at, ebp_code, guid, service_time, head_json, lists_json, sign_string)
       VALUES ($1, $2, '1700000000123', 'assembled', $3, $4, now(), now(), $5, $6, $7, $8, $9, $10)`,
      [
        sessionID,
        orderNo,
        new Date(deadline.getTime() - 120_000),
        deadline,
        document.ebpCode,
        JSON.parse(document.headJson).guid,
        serviceTime,
        document.headJson,
        document.listsJson,
        signString,
      ],
    );
    return { sessionID, orderNo, headJson: document.headJson, listsJson: document.listsJson, serviceTime, signString, deadline };
  }

  async function publishSignature(payload: unknown, sessionID: string): Promise<void> {
    const content = Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload), 'utf8');
    publisher.sendToQueue(Queues.signatures, content, {
      persistent: true,
      contentType: 'application/json',
      messageId: sessionID,
      correlationId: sessionID,
      headers: { [Headers.sessionID]: sessionID, [Headers.schema]: 1 },
    });
    await publisher.waitForConfirms();
  }

  beforeAll(async () => {
    [db, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
    pool = new Pool({ connectionString: db.url, max: 4 });
    await migrate(pool);
    customs = await startCustomsSim({
      certificates: [
        { certificateBase64: rsaCard.certificateBase64 },
        { certificateBase64: sm2Card.certificateBase64, ebpCodes: [EBP_CODE] },
      ],
      rejectBadSignatures: true, // answer 20000 at once rather than 10000-now-reject-later
    });

    connection = await amqp.connect(vhost.url);
    const setup = await connection.createChannel();
    await declareSignatureConsumption(setup);
    await declareHeartbeatQueue(setup);
    await setup.consume(Queues.deadLetters, (message) => void (message && deadLetters.push(message)), { noAck: true });
    publisher = await connection.createConfirmChannel();
    // What the signers tell the reporter at start: their cards' certificates (the stranger's card
    // is known to ceb179 but not registered at customs).
    for (const [i, card] of [rsaCard, sm2Card, strangerCard].entries())
      announceReadySigner(publisher, card, `test-signer-${i}`, `card-${i}`);
    await publisher.waitForConfirms();

    reporter = composeReporter(
      loadReporterConfig({
        CEB179_AMQP_URL: vhost.url,
        CEB179_DATABASE_URL: db.url,
        CEB179_CUSTOMS_URL: customs.uploadUrl,
        CEB179_METRICS_PORT: '0',
        CEB179_REPORTER_UPLOAD_TIMEOUT_MS: '5000',
        CEB179_REPORTER_MAX_TRANSPORT_RETRIES: '5',
      }),
      logger,
    );
    await reporter.start();
  });

  afterAll(async () => {
    await reporter?.stop();
    await Promise.allSettled([connection?.close(), customs?.stop(), pool?.end()]);
    await Promise.allSettled([db?.drop(), vhost?.delete()]);
  });

  it.each([
    ['RSA', rsaCard],
    ['SM2', sm2Card],
  ] as const)('uploads an %s-signed request exactly once, byte for byte what was signed, and records it', async (_name, card) => {
    const seed = await seedAssembled(key(`rep-ok-${card.algorithm}`));
    const message = signature(seed, card);
    await publishSignature(message, seed.sessionID);

    const uploaded = await waitForStatus(seed.sessionID, 'uploaded');
    const [upload, ...more] = uploadsFor(seed.sessionID);
    expect(more).toEqual([]);
    expect(upload).toMatchObject({
      code: '10000',
      verified: true, // customs-sim rebuilt the sign string from what it received and checked the signature
      headJson: seed.headJson,
      listsJson: seed.listsJson,
      serviceTime: seed.serviceTime,
      signString: seed.signString,
      certNo: card.certNo,
      signValue: message.signValue,
      contentType: 'application/x-www-form-urlencoded;charset=utf-8',
    });
    expect(upload!.rawBody).toBe(
      buildUploadFormBody(
        buildPayExInfoStr({
          sessionID: seed.sessionID,
          headJson: seed.headJson,
          listsJson: seed.listsJson,
          serviceTime: seed.serviceTime,
          certNo: card.certNo,
          signValue: message.signValue,
        }),
      ),
    );
    expect(customs.accepted().get(seed.sessionID)).toBeDefined();

    expect(uploaded).toMatchObject({
      customs_code: '10000',
      customs_message: '上传成功',
      cert_no: card.certNo,
      sign_value: message.signValue,
      signer_id: 'test-signer',
      reason: null,
      upload_claimed_at: null,
      late: false,
    });
    expect(uploaded.signed_at).toBeInstanceOf(Date);
    expect(uploaded.uploaded_at).toBeInstanceOf(Date);
    const [attempt, ...others] = await attempts(seed.sessionID);
    expect(others).toEqual([]);
    expect(attempt).toMatchObject({
      http_status: 200,
      customs_code: '10000',
      customs_message: '上传成功',
      outcome: 'accepted',
      error: null,
    });
  });

  it('uploads once when the same signature message arrives twice (one after the other)', async () => {
    const seed = await seedAssembled(key('rep-dup-seq'));
    const message = signature(seed, rsaCard);
    await publishSignature(message, seed.sessionID);
    await waitForStatus(seed.sessionID, 'uploaded');
    await publishSignature(message, seed.sessionID);
    await waitFor('the duplicate consumed', async () => ((await readyCount(Queues.signatures)) === 0 ? true : undefined));
    await settle(500);
    expect(uploadsFor(seed.sessionID)).toHaveLength(1);
    expect(await attempts(seed.sessionID)).toHaveLength(1);
    expect((await row(seed.sessionID)).status).toBe('uploaded');
  });

  it('leaves a request alone while another reporter holds a fresh claim, and takes it over once that claim goes stale', async () => {
    const seed = await seedAssembled(key('rep-claimed'));
    // Another reporter claimed the request and stored its signature (SM2 signatures differ each time).
    const theirs = signature(seed, sm2Card, { signerId: 'other-signer' });
    await pool.query(
      `UPDATE ceb179.request SET status = 'signed', signed_at = now(), upload_claimed_at = now(), cert_no = $2, sign_value = $3, signer_id = $4
        WHERE session_id = $1`,
      [seed.sessionID, theirs.certNo, theirs.signValue, theirs.signerId],
    );
    const ours = signature(seed, sm2Card);
    expect(ours.signValue).not.toBe(theirs.signValue);
    await publishSignature(ours, seed.sessionID);

    const delayQueue = delayQueueName(Queues.signatures, 10_000);
    await waitFor('the copy parked for a later look', async () => ((await readyCount(delayQueue)) === 1 ? true : undefined), 5_000, 50);
    expect(uploadsFor(seed.sessionID)).toEqual([]);
    expect(await attempts(seed.sessionID)).toEqual([]);

    // That reporter died mid-upload: its claim is older than a minute now.
    await pool.query("UPDATE ceb179.request SET upload_claimed_at = now() - interval '61 seconds' WHERE session_id = $1", [seed.sessionID]);
    const uploaded = await waitForStatus(seed.sessionID, 'uploaded', 15_000);
    // The signature stored first is the one uploaded: a retry sends the same bytes.
    expect(uploaded).toMatchObject({ sign_value: theirs.signValue, signer_id: 'other-signer', customs_code: '10000' });
    const [upload, ...more] = uploadsFor(seed.sessionID);
    expect(more).toEqual([]);
    expect(upload).toMatchObject({ code: '10000', verified: true, signValue: theirs.signValue });
    expect(await attempts(seed.sessionID)).toHaveLength(1);
  });

  it('retries customs answering HTTP 503 twice, then uploads once: three attempt rows, the same bytes each time', async () => {
    const seed = await seedAssembled(key('rep-503'));
    customs.failNextUploads(2, 503);
    await publishSignature(signature(seed, rsaCard), seed.sessionID);

    const uploaded = await waitForStatus(seed.sessionID, 'uploaded', 15_000);
    expect(uploaded).toMatchObject({ customs_code: '10000', reason: null });
    const tried = uploadsFor(seed.sessionID);
    expect(tried.map((u) => u.httpStatus)).toEqual([503, 503, 200]);
    expect(new Set(tried.map((u) => u.rawBody)).size).toBe(1);
    expect([...customs.accepted().keys()].filter((s) => s === seed.sessionID)).toHaveLength(1);
    const rows = await attempts(seed.sessionID);
    expect(rows.map((a) => a.outcome)).toEqual(['transport_fault', 'transport_fault', 'accepted']);
    for (const fault of rows.slice(0, 2)) {
      expect(fault).toMatchObject({ customs_code: null, error: 'customs answered HTTP 503' });
    }
  });

  it('treats customs 20006 (sessionID already stored) as uploaded', async () => {
    const seed = await seedAssembled(key('rep-20006'));
    const message = signature(seed, rsaCard);
    // An earlier upload of this sessionID landed at customs (e.g. the reporter died before recording it).
    const earlier = await fetch(customs.uploadUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
      body: buildUploadFormBody(buildPayExInfoStr({ ...seed, certNo: rsaCard.certNo, signValue: message.signValue })),
    });
    expect(await earlier.json()).toMatchObject({ code: '10000' });

    await publishSignature(message, seed.sessionID);
    const uploaded = await waitForStatus(seed.sessionID, 'uploaded');
    expect(uploaded).toMatchObject({ customs_code: '20006', reason: null });
    expect(uploaded.uploaded_at).toBeInstanceOf(Date);
    expect(uploadsFor(seed.sessionID).map((u) => u.code)).toEqual(['10000', '20006']);
    expect((await attempts(seed.sessionID)).map((a) => [a.outcome, a.customs_code])).toEqual([['duplicate', '20006']]);
  });

  it('stops at customs 20004 (certificate not registered): config_fault with the hint, no retry', async () => {
    const seed = await seedAssembled(key('rep-20004'));
    await publishSignature(signature(seed, strangerCard), seed.sessionID);

    const faulted = await waitForStatus(seed.sessionID, 'config_fault');
    expect(faulted).toMatchObject({ customs_code: '20004', reason: CONFIG_FAULT_HINT, uploaded_at: null, upload_claimed_at: null });
    expect(faulted.customs_message).toContain(strangerCard.certNo);
    await settle(1_500); // longer than the first transport retry delay (the 1 s bucket)
    expect(uploadsFor(seed.sessionID)).toHaveLength(1);
    expect((await attempts(seed.sessionID)).map((a) => [a.outcome, a.customs_code])).toEqual([['config_fault', '20004']]);
    expect((await row(seed.sessionID)).status).toBe('config_fault');
  });

  it('stops at customs 20004 when the certificate is not registered for the ebpCode', async () => {
    const seed = await seedAssembled(key('rep-20004-ebp'));
    customs.registerCertificate({ certificateBase64: strangerCard.certificateBase64, ebpCodes: ['4403160Z9A'] });
    await publishSignature(signature(seed, strangerCard), seed.sessionID);
    const faulted = await waitForStatus(seed.sessionID, 'config_fault');
    expect(faulted).toMatchObject({ customs_code: '20004', reason: CONFIG_FAULT_HINT });
  });

  it('refuses a forged or corrupted signature before storing it: dead-lettered, nothing changed; the real one still uploads', async () => {
    const seed = await seedAssembled(key('rep-forged'));
    const forgeries: Array<[string, SignatureMessage]> = [
      ['over another text', signature(seed, rsaCard, { signValue: rsaCard.sign(`${seed.signString} `) })],
      ['garbage bytes', signature(seed, rsaCard, { signValue: Buffer.alloc(128, 7).toString('base64') })],
      ['a stranger card claiming the real certNo', signature(seed, strangerCard, { certNo: rsaCard.certNo })],
      ['another ebpCode', signature(seed, rsaCard, { ebpCode: '4403160Z9A' })],
    ];
    for (const [, forged] of forgeries) await publishSignature(forged, seed.sessionID);
    const refused = await waitFor('the forgeries dead-lettered', async () => {
      const mine = deadLetters.filter((m) => m.properties.correlationId === seed.sessionID);
      return mine.length === forgeries.length ? mine : undefined;
    });
    for (const message of refused) expect(String(message.properties.headers?.[Headers.deadLetterReason])).toMatch(/^signature refused: /);
    expect(await row(seed.sessionID)).toMatchObject({ status: 'assembled', cert_no: null, sign_value: null, signed_at: null });
    expect(uploadsFor(seed.sessionID)).toEqual([]);

    const real = signature(seed, rsaCard);
    await publishSignature(real, seed.sessionID);
    await waitForStatus(seed.sessionID, 'uploaded');
    expect(uploadsFor(seed.sessionID)).toEqual([expect.objectContaining({ code: '10000', verified: true, signValue: real.signValue })]);
  });

  it('records a customs 20000 (generic failure) as upload_rejected with its message, without retrying', async () => {
    const seed = await seedAssembled(key('rep-20000'));
    // The ledger's serviceTime no longer matches the signed one: the signature verifies over the stored
    // sign string, but customs rebuilds another from the upload and refuses it.
    await pool.query("UPDATE ceb179.request SET service_time = service_time || '1' WHERE session_id = $1", [seed.sessionID]);
    await publishSignature(signature(seed, rsaCard), seed.sessionID);
    const rejected = await waitForStatus(seed.sessionID, 'upload_rejected');
    expect(rejected).toMatchObject({ customs_code: '20000', reason: 'customs answered 20000', uploaded_at: null, upload_claimed_at: null });
    expect(rejected.customs_message).toMatch(/^签名验证失败/);
    await settle(1_500);
    expect(uploadsFor(seed.sessionID)).toHaveLength(1);
    expect((await attempts(seed.sessionID)).map((a) => [a.outcome, a.customs_code])).toEqual([['rejected', '20000']]);
  });

  it('records an upload after the deadline as late', async () => {
    const seed = await seedAssembled(key('rep-late'), { deadline: new Date(Date.now() - 1_000) });
    await publishSignature(signature(seed, rsaCard), seed.sessionID);
    const uploaded = await waitForStatus(seed.sessionID, 'uploaded');
    expect(uploaded).toMatchObject({ customs_code: '10000', late: true });
  });

  it.each([
    ['an unknown algorithm', (m: SignatureMessage) => ({ ...m, algorithm: 'DSA' })],
    ['no signValue', (m: SignatureMessage) => ({ ...m, signValue: undefined })],
    ['an empty certNo', (m: SignatureMessage) => ({ ...m, certNo: '' })],
    ['another schema version', (m: SignatureMessage) => ({ ...m, v: 2 })],
    ['a JSON array', (m: SignatureMessage) => [m]],
    ['text that is not JSON', (m: SignatureMessage) => `signValue=${m.signValue}`],
  ])('dead-letters a signature message with %s, uploading nothing', async (_what, breakIt) => {
    const seed = await seedAssembled(key('rep-bad'));
    await publishSignature(breakIt(signature(seed, rsaCard)), seed.sessionID);

    const dead = await waitFor(
      'the dead letter',
      async () => deadLetters.find((d) => d.properties.correlationId === seed.sessionID),
      10_000,
      20,
    );
    expect(dead.properties.headers?.[Headers.deadLetterQueue]).toBe(Queues.signatures);
    expect(String(dead.properties.headers?.[Headers.deadLetterReason])).not.toBe('');
    await settle(300);
    expect(uploadsFor(seed.sessionID)).toEqual([]);
    expect(await attempts(seed.sessionID)).toEqual([]);
    expect(await row(seed.sessionID)).toMatchObject({ status: 'assembled', cert_no: null, sign_value: null, signed_at: null });
  });
});
