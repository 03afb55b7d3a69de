import * as amqp from 'amqplib';
import { Pool } from 'pg';
import type { AppError } from '@ceb179/errors';
import {
  Exchanges,
  Queues,
  SCHEMA_VERSION,
  signJobMac,
  signJobMacValid,
  type CallbackMessage,
  type SignJobMessage,
} from '@ceb179/contracts';
import { migrate } from '@ceb179/db';
import { createLogger } from '@ceb179/logger';
import { declareSignJobRouting, declareWorkQueue, Headers } from '@ceb179/mq';
import { buildPaymentDocument, buildSignString, parseSignString, type PaymentDocument } from '@ceb179/protocol';
import {
  createSourceTables,
  createTestDatabase,
  createTestVhost,
  insertSource,
  makeFixture,
  waitFor,
  type SourceFixture,
  type TestDatabase,
  type TestVhost,
  TEST_SIGN_JOB_KEY,
} from '@ceb179/testkit';
import type { Component } from '@ceb179/lifecycle';
import { composeAssembler } from '../src/compose';
import { loadAssemblerConfig } from '../src/config';

const logger = createLogger({ service: 'test', level: 'silent' });
const SOURCE_SCHEMA = 'platform_src';
const EBP_CODE = '3301963K69'; // makeFixture's default; the test's sign-job queue is bound to it
const OTHER_EBP_CODE = '4403160Z9A'; // bound to no queue: falls through to ceb179.sign-jobs.any
const CUSTOMS_SERVICE_TIME = '1700000000123';

interface Tapped {
  payload: Record<string, unknown>;
  fields: amqp.ConsumeMessage['fields'];
  properties: amqp.MessageProperties;
  raw: string;
}

interface LedgerRow {
  session_id: string;
  order_no: string;
  customs_service_time: string | null;
  status: string;
  reason: string | null;
  received_at: Date;
  deadline_at: Date;
  published_at: Date | null;
  assembled_at: Date | null;
  ebp_code: string | null;
  guid: string | null;
  service_time: string | null;
  head_json: string | null;
  lists_json: string | null;
  sign_string: string | null;
}

let counter = 0;
function key(prefix: string): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}${counter}`;
}

function callbackMessage(sessionID: string, orderNo: string): CallbackMessage {
  const receivedAt = new Date();
  return {
    v: SCHEMA_VERSION,
    sessionID,
    orderNo,
    customsServiceTime: CUSTOMS_SERVICE_TIME,
    receivedAt: receivedAt.toISOString(),
    deadline: new Date(receivedAt.getTime() + 120_000).toISOString(),
  };
}

function expectedDocument(fixture: SourceFixture, guid: string): PaymentDocument {
  return buildPaymentDocument({
    source: { payment: fixture.payment, orders: fixture.payment_order, goods: fixture.order_goods },
    guid,
    timeZone: 'Asia/Shanghai',
  });
}

async function tap(channel: amqp.Channel, queue: string, into: Tapped[]): Promise<void> {
  await channel.consume(
    queue,
    (message) => {
      if (!message) return;
      const raw = message.content.toString('utf8');
      let payload: Record<string, unknown>;
      try {
        payload = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        payload = {};
      }
      into.push({ payload, fields: message.fields, properties: message.properties, raw });
    },
    { noAck: true },
  );
}

describe('assembler component (real Postgres and RabbitMQ)', () => {
  let db: TestDatabase;
  let vhost: TestVhost;
  let pool: Pool;
  let assembler: Component;
  let connection: amqp.ChannelModel;
  let publisher: amqp.ConfirmChannel;
  const signJobs: Tapped[] = [];
  const unroutedJobs: Tapped[] = [];
  const deadLetters: Tapped[] = [];

  const row = async (sessionID: string): Promise<LedgerRow | undefined> =>
    (await pool.query<LedgerRow>('SELECT * FROM ceb179.request WHERE session_id = $1', [sessionID])).rows[0];
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
  const jobsFor = (sessionID: string, from: Tapped[] = signJobs): Tapped[] => from.filter((m) => m.payload.sessionID === sessionID);
  const waitForJobs = (sessionID: string, count = 1, from: Tapped[] = signJobs): Promise<Tapped[]> =>
    waitFor(
      `${count} sign job(s) for ${sessionID}`,
      async () => (jobsFor(sessionID, from).length >= count ? jobsFor(sessionID, from) : undefined),
      10_000,
      20,
    );
  const settle = (ms = 700) => new Promise((resolve) => setTimeout(resolve, ms));

  /** What ingress does before it publishes: the ledger row of an accepted call. */
  async function recordLikeIngress(message: CallbackMessage): Promise<void> {
    await pool.query(
      `INSERT INTO ceb179.request (session_id, order_no, customs_service_time, received_at, deadline_at, published_at)
       VALUES ($1, $2, $3, $4, $5, now())`,
      [message.sessionID, message.orderNo, message.customsServiceTime, message.receivedAt, message.deadline],
    );
  }

  async function publishCallback(payload: unknown, sessionID?: string): Promise<void> {
    const content = Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload), 'utf8');
    publisher.sendToQueue(Queues.callbacks, content, {
      persistent: true,
      contentType: 'application/json',
      ...(sessionID
        ? { messageId: sessionID, correlationId: sessionID, headers: { [Headers.sessionID]: sessionID, [Headers.schema]: 1 } }
        : {}),
    });
    await publisher.waitForConfirms();
  }

  beforeAll(async () => {
    [db, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
    pool = new Pool({ connectionString: db.url, max: 4 });
    await migrate(pool);
    await createSourceTables(pool, SOURCE_SCHEMA);

    connection = await amqp.connect(vhost.url);
    const setup = await connection.createChannel();
    await declareWorkQueue(setup, Queues.callbacks);
    await declareSignJobRouting(setup);
    // A card queue for EBP_CODE, as a signer serving that ebpCode would bind.
    const { queue } = await setup.assertQueue('', { exclusive: true });
    await setup.bindQueue(queue, Exchanges.signJobs, EBP_CODE);
    await tap(setup, queue, signJobs);
    await tap(setup, Queues.signJobsAny, unroutedJobs);
    await tap(setup, Queues.deadLetters, deadLetters);
    publisher = await connection.createConfirmChannel();

    assembler = composeAssembler(
      loadAssemblerConfig({
        CEB179_SIGN_JOB_KEY: TEST_SIGN_JOB_KEY,
        CEB179_AMQP_URL: vhost.url,
        CEB179_DATABASE_URL: db.url,
        CEB179_METRICS_PORT: '0',
        CEB179_SOURCE_SCHEMA: SOURCE_SCHEMA,
        CEB179_ASSEMBLER_LOOKUP_RETRIES: '1',
        CEB179_ASSEMBLER_LOOKUP_RETRY_DELAY_MS: '500',
      }),
      logger,
    );
    await assembler.start();
  });

  afterAll(async () => {
    await assembler?.stop();
    await Promise.allSettled([connection?.close(), pool?.end()]);
    await Promise.allSettled([db?.drop(), vhost?.delete()]);
  });

  it('assembles a known order: head/lists exactly as the protocol builds them, the sign string, one sign job routed by ebpCode', async () => {
    const sessionID = key('asm-ok');
    const fixture = makeFixture(sessionID);
    await insertSource(pool, SOURCE_SCHEMA, fixture);
    const message = callbackMessage(sessionID, fixture.payment_order[0]!.order_no);
    await recordLikeIngress(message);
    const before = Date.now();
    await publishCallback(message, sessionID);

    const assembled = await waitForStatus(sessionID, 'assembled');
    expect(assembled.guid).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
    const document = expectedDocument(fixture, assembled.guid as string);
    expect(assembled.head_json).toBe(document.headJson);
    expect(assembled.lists_json).toBe(document.listsJson);
    expect(assembled.ebp_code).toBe(EBP_CODE);
    expect(assembled.service_time).toMatch(/^\d{13}$/);
    expect(Number(assembled.service_time)).toBeGreaterThanOrEqual(before);
    expect(Number(assembled.service_time)).toBeLessThanOrEqual(Date.now());
    expect(assembled.sign_string).toBe(
      buildSignString({
        sessionID,
        headJson: document.headJson,
        listsJson: document.listsJson,
        serviceTime: assembled.service_time as string,
      }),
    );
    expect(assembled).toMatchObject({ reason: null, customs_service_time: CUSTOMS_SERVICE_TIME });
    expect(assembled.assembled_at).toBeInstanceOf(Date);
    // Independent spot checks of what went through Postgres: exact amount, China time, null -> "".
    expect(assembled.head_json).toContain('"totalAmount":100.5,');
    expect(assembled.head_json).toContain('"tradingTime":"20231115003005","note":""}');

    const [job] = await waitForJobs(sessionID);
    const unsigned = {
      v: SCHEMA_VERSION as typeof SCHEMA_VERSION,
      sessionID,
      ebpCode: EBP_CODE,
      signString: assembled.sign_string as string,
      deadline: message.deadline,
    };
    // Authenticated with the key the signers hold: the MAC covers every field, and only ours verifies.
    expect(job!.payload).toEqual({ ...unsigned, mac: signJobMac(TEST_SIGN_JOB_KEY, unsigned) });
    expect(signJobMacValid(TEST_SIGN_JOB_KEY, job!.payload as unknown as SignJobMessage)).toBe(true);
    expect(signJobMacValid('another key of at least 32 characters', job!.payload as unknown as SignJobMessage)).toBe(false);
    expect(job!.fields).toMatchObject({ exchange: Exchanges.signJobs, routingKey: EBP_CODE });
    expect(job!.properties).toMatchObject({ deliveryMode: 2, correlationId: sessionID });
    expect(parseSignString(job!.payload.signString as string).sessionID).toBe(sessionID); // the signer's gate accepts it
    await settle(300);
    expect(jobsFor(sessionID)).toHaveLength(1);
    expect(jobsFor(sessionID, unroutedJobs)).toHaveLength(0);
  });

  it('routes the sign job of an ebpCode no card queue serves to ceb179.sign-jobs.any', async () => {
    const sessionID = key('asm-any');
    const fixture = makeFixture(sessionID, { ebpCode: OTHER_EBP_CODE });
    await insertSource(pool, SOURCE_SCHEMA, fixture);
    const message = callbackMessage(sessionID, fixture.payment_order[0]!.order_no);
    await recordLikeIngress(message);
    await publishCallback(message, sessionID);
    const [job] = await waitForJobs(sessionID, 1, unroutedJobs);
    expect(job!.payload).toMatchObject({ ebpCode: OTHER_EBP_CODE, signString: (await row(sessionID))?.sign_string });
    expect(jobsFor(sessionID)).toHaveLength(0);
  });

  it('does not assemble twice: a redelivered callback keeps guid and serviceTime and re-publishes the stored job', async () => {
    const sessionID = key('asm-redeliver');
    const fixture = makeFixture(sessionID);
    await insertSource(pool, SOURCE_SCHEMA, fixture);
    const message = callbackMessage(sessionID, fixture.payment_order[0]!.order_no);
    await recordLikeIngress(message);
    await publishCallback(message, sessionID);
    const first = await waitForStatus(sessionID, 'assembled');
    await waitForJobs(sessionID);

    await publishCallback(message, sessionID);
    const jobs = await waitForJobs(sessionID, 2);
    const again = (await row(sessionID)) as LedgerRow;
    expect(again).toEqual(first);
    expect(jobs.map((j) => j.payload.signString)).toEqual([first.sign_string, first.sign_string]);
  });

  it('assembles once when the same callback arrives twice at the same moment', async () => {
    const sessionID = key('asm-race');
    const fixture = makeFixture(sessionID);
    await insertSource(pool, SOURCE_SCHEMA, fixture);
    const message = callbackMessage(sessionID, fixture.payment_order[0]!.order_no);
    await recordLikeIngress(message);
    await Promise.all([publishCallback(message, sessionID), publishCallback(message, sessionID)]);
    const assembled = await waitForStatus(sessionID, 'assembled');
    await waitForJobs(sessionID);
    await settle();
    const stored = (await row(sessionID)) as LedgerRow;
    expect(stored.guid).toBe(assembled.guid);
    expect(stored.service_time).toBe(assembled.service_time);
    // Every job published for the session carries the one stored sign string.
    expect(new Set(jobsFor(sessionID).map((j) => j.payload.signString))).toEqual(new Set([stored.sign_string]));
  });

  it('marks an unknown order data_fault with the reason after the configured look-up retries, and publishes nothing', async () => {
    const sessionID = key('asm-unknown');
    const orderNo = `SO-UNKNOWN-${sessionID}`;
    const message = callbackMessage(sessionID, orderNo);
    await recordLikeIngress(message);
    const started = Date.now();
    await publishCallback(message, sessionID);

    const retrying = await waitFor(
      'the retry note',
      async () => {
        const found = await row(sessionID);
        return found?.reason?.includes('retrying') ? found : undefined;
      },
      5_000,
      20,
    );
    expect(retrying).toMatchObject({ status: 'received', reason: `order ${orderNo} is not in payment_order; look-up 1 of 2, retrying` });

    const faulted = await waitForStatus(sessionID, 'data_fault');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900); // one delayed look-up happened (1 s delay bucket)
    expect(faulted.reason).toBe(`order ${orderNo} is not in payment_order`);
    expect(faulted).toMatchObject({ guid: null, head_json: null, sign_string: null, assembled_at: null });
    await settle(300);
    expect(jobsFor(sessionID)).toHaveLength(0);
    expect(jobsFor(sessionID, unroutedJobs)).toHaveLength(0);
    expect(jobsFor(sessionID, deadLetters)).toHaveLength(0);
  });

  it('assembles an order that reaches the source while its look-up is being retried (a lagging replica)', async () => {
    const sessionID = key('asm-lag');
    const fixture = makeFixture(sessionID);
    const message = callbackMessage(sessionID, fixture.payment_order[0]!.order_no);
    await recordLikeIngress(message);
    await publishCallback(message, sessionID);
    await waitFor('the retry note', async () => ((await row(sessionID))?.reason?.includes('retrying') ? true : undefined), 5_000, 20);
    await insertSource(pool, SOURCE_SCHEMA, fixture);
    const assembled = await waitForStatus(sessionID, 'assembled');
    expect(assembled.reason).toBeNull();
    expect(assembled.head_json).toBe(expectedDocument(fixture, assembled.guid as string).headJson);
    await waitForJobs(sessionID);
  });

  it('marks a payment that breaks protocol limits data_fault at once, field by field, and publishes nothing', async () => {
    const sessionID = key('asm-fault');
    const fixture = makeFixture(sessionID);
    const firstLine = fixture.order_goods.find((g) => g.order_no === fixture.payment_order[0]!.order_no && g.line_no === 1)!;
    firstLine.gname = '奶'.repeat(251); // 251 characters (753 UTF-8 bytes): one over the limit
    fixture.payment.ver_dept = '9';
    await insertSource(pool, SOURCE_SCHEMA, fixture);
    let expectedReason = '';
    try {
      expectedDocument(fixture, '9D55BA71-55DE-41F4-8B50-C36C83B3B419');
    } catch (error) {
      expectedReason = (error as AppError).reason;
    }

    const message = callbackMessage(sessionID, fixture.payment_order[0]!.order_no);
    await recordLikeIngress(message);
    const started = Date.now();
    await publishCallback(message, sessionID);
    const faulted = await waitForStatus(sessionID, 'data_fault');
    expect(Date.now() - started).toBeLessThan(900); // not retried: the data will not fix itself
    expect(faulted.reason).toBe(expectedReason);
    expect(faulted.reason).toContain('payExchangeInfoHead.verDept must be one of 1, 2, 3 (got "9")');
    expect(faulted.reason).toContain('payExchangeInfoLists[0].goodsInfo[0].gname longer than 250 characters (251)');
    expect(faulted).toMatchObject({ head_json: null, sign_string: null });
    await settle(300);
    expect(jobsFor(sessionID)).toHaveLength(0);
  });

  // A payload that breaks its contract is dead-lettered by the consumer, which puts the reason and
  // the source queue in headers, a body that is not JSON at all too. Either way: no ledger row, no sign job.
  it.each([
    ['without orderNo', (m: CallbackMessage) => ({ ...m, orderNo: undefined }), /orderNo/],
    ['with an empty sessionID', (m: CallbackMessage) => ({ ...m, sessionID: '' }), /sessionID/],
    ['of another schema version', (m: CallbackMessage) => ({ ...m, v: 2 }), /\bv must be 1/],
    ['that is a JSON array', (m: CallbackMessage) => [m], /not a JSON object/],
    ['that is not JSON', (m: CallbackMessage) => `{"v":1,"sessionID":"${m.sessionID}"`, /message is not JSON/],
  ] as const)('dead-letters a callback message %s, touching nothing', async (_what, breakIt, reason) => {
    const sessionID = key('asm-contract');
    const fixture = makeFixture(sessionID);
    await insertSource(pool, SOURCE_SCHEMA, fixture);
    const message = callbackMessage(sessionID, fixture.payment_order[0]!.order_no);
    await publishCallback(breakIt(message), sessionID);

    const dead = await waitFor(
      'the dead letter',
      async () => deadLetters.find((d) => d.properties.correlationId === sessionID),
      10_000,
      20,
    );
    const headers = dead.properties.headers ?? {};
    expect(headers[Headers.deadLetterQueue]).toBe(Queues.callbacks);
    expect(String(headers[Headers.deadLetterReason])).toMatch(reason);
    expect(await row(sessionID)).toBeUndefined();
    await settle(300);
    expect(jobsFor(sessionID)).toHaveLength(0);
  });

  it("marks a callback whose sessionID no sign string can carry (a '\"') data_fault at once instead of retrying it", async () => {
    const sessionID = `${key('asm-quote')}"q"`;
    const fixture = makeFixture(key('asm-quote-src'));
    await insertSource(pool, SOURCE_SCHEMA, fixture);
    const message = callbackMessage(sessionID, fixture.payment_order[0]!.order_no);
    await recordLikeIngress(message);
    const started = Date.now();
    await publishCallback(message, sessionID);
    const faulted = await waitForStatus(sessionID, 'data_fault');
    expect(Date.now() - started).toBeLessThan(900);
    expect(faulted).toMatchObject({ reason: `cannot build sign string: sessionID contains '"'`, sign_string: null, head_json: null });
    await settle(300);
    expect(jobsFor(sessionID)).toHaveLength(0);
    expect(deadLetters.filter((d) => d.properties.correlationId === sessionID)).toHaveLength(0);
  });

  it('builds one document listing every order of a three-order payment, sorted, whichever order customs asked for', async () => {
    const sessionID = key('asm-multi');
    const fixture = makeFixture(sessionID, { orders: 3 });
    // Inserted in reverse so that the sort, not the insertion order, makes the list.
    await insertSource(pool, SOURCE_SCHEMA, {
      ...fixture,
      payment_order: [...fixture.payment_order].reverse(),
      order_goods: [...fixture.order_goods].reverse(),
    });
    const orderNos = fixture.payment_order.map((o) => o.order_no).sort();
    const message = callbackMessage(sessionID, orderNos[1]!);
    await recordLikeIngress(message);
    await publishCallback(message, sessionID);

    const assembled = await waitForStatus(sessionID, 'assembled');
    const document = expectedDocument(fixture, assembled.guid as string);
    expect(document.orderNos).toEqual(orderNos);
    expect(assembled.head_json).toBe(document.headJson);
    expect(assembled.lists_json).toBe(document.listsJson);
    const lists = JSON.parse(assembled.lists_json as string) as Array<{ orderNo: string; goodsInfo: Array<{ gname: string }> }>;
    expect(lists.map((l) => l.orderNo)).toEqual(orderNos);
    for (const item of lists) expect(item.goodsInfo.map((g) => g.gname)).toEqual(['Aptamil 爱他美 "Gold"', 'Swisse 维生素C <60粒>']); // by line_no
    const jobs = await waitForJobs(sessionID);
    expect(jobs[0]!.payload.signString).toBe(assembled.sign_string);
    await settle(300);
    expect(jobsFor(sessionID)).toHaveLength(1);
  });

  it('creates the ledger row when ingress could only publish the call (Postgres was down), then assembles it', async () => {
    const sessionID = key('asm-norow');
    const fixture = makeFixture(sessionID);
    await insertSource(pool, SOURCE_SCHEMA, fixture);
    const message = callbackMessage(sessionID, fixture.payment_order[0]!.order_no);
    expect(await row(sessionID)).toBeUndefined();
    await publishCallback(message, sessionID);

    const assembled = await waitForStatus(sessionID, 'assembled');
    expect(assembled).toMatchObject({ order_no: message.orderNo, customs_service_time: CUSTOMS_SERVICE_TIME });
    expect(assembled.received_at.toISOString()).toBe(message.receivedAt);
    expect(assembled.deadline_at.toISOString()).toBe(message.deadline);
    expect(assembled.published_at).toBeInstanceOf(Date);
    expect(assembled.head_json).toBe(expectedDocument(fixture, assembled.guid as string).headJson);
    const [job] = await waitForJobs(sessionID);
    expect(job!.payload).toMatchObject({ signString: assembled.sign_string, deadline: message.deadline });
  });
});

/**
 * The look-up retry with more than one retry: the settings are honoured exactly, a payment whose
 * rows reach the (lagging) source at a later look-up is assembled, and no look-up is scheduled
 * past the request's deadline.
 */
describe('assembler look-up retries (CEB179_ASSEMBLER_LOOKUP_RETRIES=3)', () => {
  const RETRIES = 3;
  let db: TestDatabase;
  let vhost: TestVhost;
  let pool: Pool;
  let assembler: Component;
  let connection: amqp.ChannelModel;
  let publisher: amqp.ConfirmChannel;
  const jobs: Tapped[] = [];

  const row = async (sessionID: string): Promise<LedgerRow | undefined> =>
    (await pool.query<LedgerRow>('SELECT * FROM ceb179.request WHERE session_id = $1', [sessionID])).rows[0];

  /**
   * Polls the ledger row (in the background) until it leaves 'received', collecting every distinct
   * retry note on the way; `seen(text)` waits for a note while the polling goes on.
   */
  function follow(sessionID: string, timeoutMs = 15_000) {
    const notes: string[] = [];
    const done = waitFor(
      `${sessionID} leaving 'received'`,
      async () => {
        const found = await row(sessionID);
        if (found?.status === 'received' && found.reason && !notes.includes(found.reason)) notes.push(found.reason);
        return found && found.status !== 'received' ? { final: found, at: Date.now() } : undefined;
      },
      timeoutMs,
      15,
    );
    const seen = (text: string) =>
      waitFor(`the note "${text}"`, async () => (notes.some((n) => n.includes(text)) ? true : undefined), timeoutMs, 10);
    return { notes, done, seen };
  }

  async function publish(message: CallbackMessage): Promise<void> {
    publisher.sendToQueue(Queues.callbacks, Buffer.from(JSON.stringify(message)), {
      persistent: true,
      contentType: 'application/json',
      messageId: message.sessionID,
      correlationId: message.sessionID,
      headers: { [Headers.sessionID]: message.sessionID, [Headers.schema]: 1 },
    });
    await publisher.waitForConfirms();
  }

  /** Writes only some of a payment's rows, as a replica that has applied some transactions but not others. */
  async function insertPart(fixture: SourceFixture, part: 'payment' | 'orders' | 'goods'): Promise<void> {
    const only: SourceFixture = { payment: fixture.payment, payment_order: [], order_goods: [] };
    if (part === 'payment') {
      await insertSource(pool, SOURCE_SCHEMA, only);
      return;
    }
    for (const o of part === 'orders' ? fixture.payment_order : []) {
      await pool.query(`INSERT INTO ${SOURCE_SCHEMA}.payment_order VALUES ($1, $2, $3, $4, $5)`, [
        o.order_no,
        o.pay_transaction_id,
        o.recp_account,
        o.recp_code,
        o.recp_name,
      ]);
    }
    for (const g of part === 'goods' ? fixture.order_goods : []) {
      await pool.query(`INSERT INTO ${SOURCE_SCHEMA}.order_goods VALUES ($1, $2, $3, $4)`, [g.order_no, g.line_no, g.gname, g.item_link]);
    }
  }

  beforeAll(async () => {
    [db, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
    pool = new Pool({ connectionString: db.url, max: 4 });
    await migrate(pool);
    await createSourceTables(pool, SOURCE_SCHEMA);
    connection = await amqp.connect(vhost.url);
    const setup = await connection.createChannel();
    await declareWorkQueue(setup, Queues.callbacks);
    await declareSignJobRouting(setup);
    await tap(setup, Queues.signJobsAny, jobs);
    publisher = await connection.createConfirmChannel();
    assembler = composeAssembler(
      loadAssemblerConfig({
        CEB179_SIGN_JOB_KEY: TEST_SIGN_JOB_KEY,
        CEB179_AMQP_URL: vhost.url,
        CEB179_DATABASE_URL: db.url,
        CEB179_METRICS_PORT: '0',
        CEB179_SOURCE_SCHEMA: SOURCE_SCHEMA,
        CEB179_ASSEMBLER_LOOKUP_RETRIES: String(RETRIES),
        CEB179_ASSEMBLER_LOOKUP_RETRY_DELAY_MS: '100', // 100, 200, 400 ms: each held 1 s by the smallest delay bucket
      }),
      logger,
    );
    await assembler.start();
  });

  afterAll(async () => {
    await assembler?.stop();
    await Promise.allSettled([connection?.close(), pool?.end()]);
    await Promise.allSettled([db?.drop(), vhost?.delete()]);
  });

  it('looks an unknown order up exactly 1 + CEB179_ASSEMBLER_LOOKUP_RETRIES times, then records data_fault with the reason', async () => {
    const sessionID = key('retry-unknown');
    const orderNo = `SO-NEVER-${sessionID}`;
    const started = Date.now();
    await publish(callbackMessage(sessionID, orderNo));
    const { notes, done } = follow(sessionID);
    const { final } = await done;
    const reason = `order ${orderNo} is not in payment_order`;
    expect(notes).toEqual([1, 2, 3].map((n) => `${reason}; look-up ${n} of ${RETRIES + 1}, retrying`));
    expect(final).toMatchObject({ status: 'data_fault', reason, head_json: null, sign_string: null });
    expect(Date.now() - started).toBeGreaterThanOrEqual(RETRIES * 1_000 - 100); // three delayed look-ups
    expect(jobs.filter((j) => j.payload.sessionID === sessionID)).toHaveLength(0);
  });

  it('assembles a payment whose payment row reaches the source only after the second look-up (on the third)', async () => {
    const sessionID = key('retry-payment-late');
    const fixture = makeFixture(sessionID);
    await insertPart(fixture, 'orders');
    await insertPart(fixture, 'goods');
    const orderNo = fixture.payment_order[0]!.order_no;
    await publish(callbackMessage(sessionID, orderNo));
    const { notes, done, seen } = follow(sessionID);
    await seen(`look-up 2 of ${RETRIES + 1}`);
    await insertPart(fixture, 'payment');
    const { final } = await done;
    expect(notes).toEqual(
      [1, 2].map(
        (n) =>
          `payment ${fixture.payment.pay_transaction_id} of order ${orderNo} is not in payment; look-up ${n} of ${RETRIES + 1}, retrying`,
      ),
    );
    expect(final).toMatchObject({ status: 'assembled', reason: null });
    expect(final.head_json).toBe(expectedDocument(fixture, final.guid as string).headJson);
    expect(final.lists_json).toBe(expectedDocument(fixture, final.guid as string).listsJson);
    await waitFor('the sign job', async () => jobs.find((j) => j.payload.sessionID === sessionID), 5_000, 20);
  });

  it('assembles an order whose goods reach the source after the first look-up', async () => {
    const sessionID = key('retry-goods-late');
    const fixture = makeFixture(sessionID);
    await insertPart(fixture, 'payment');
    await insertPart(fixture, 'orders');
    const orderNo = fixture.payment_order[0]!.order_no;
    await publish(callbackMessage(sessionID, orderNo));
    const { notes, done, seen } = follow(sessionID);
    await seen(`look-up 1 of ${RETRIES + 1}`);
    await insertPart(fixture, 'goods');
    const { final } = await done;
    expect(notes).toEqual([`order ${orderNo} has no rows in order_goods; look-up 1 of ${RETRIES + 1}, retrying`]);
    expect(final).toMatchObject({ status: 'assembled', reason: null });
    expect(final.lists_json).toBe(expectedDocument(fixture, final.guid as string).listsJson);
  });

  it('schedules no look-up past the deadline: with 1.5 s left it gives up after the second look-up, before the deadline', async () => {
    const sessionID = key('retry-deadline');
    const orderNo = `SO-LATE-${sessionID}`;
    const receivedAt = new Date(Date.now() - 118_500); // customs called 118.5 s ago: 1.5 s of the window left
    const message: CallbackMessage = {
      ...callbackMessage(sessionID, orderNo),
      receivedAt: receivedAt.toISOString(),
      deadline: new Date(receivedAt.getTime() + 120_000).toISOString(),
    };
    await publish(message);
    const { notes, done } = follow(sessionID);
    const { final, at } = await done;
    // The first retry is held 1 s (its delay bucket) and fits; a second would land after the deadline.
    expect(notes).toEqual([`order ${orderNo} is not in payment_order; look-up 1 of ${RETRIES + 1}, retrying`]);
    expect(final).toMatchObject({ status: 'data_fault', reason: `order ${orderNo} is not in payment_order` });
    expect(at).toBeLessThan(Date.parse(message.deadline));
  });
});
