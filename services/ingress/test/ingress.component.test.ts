import * as amqp from 'amqplib';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { openReqText, startCustomsSim, type CustomsSim } from '@ceb179/customs-sim';
import { DEADLINE_MS, Queues, RedisKeys, SCHEMA_VERSION } from '@ceb179/contracts';
import { migrate } from '@ceb179/db';
import { createLogger } from '@ceb179/logger';
import { declareCallbackConsumption, Headers } from '@ceb179/mq';
import { createTestDatabase, createTestVhost, testInfra, testRedisUrl, waitFor, type TestDatabase, type TestVhost } from '@ceb179/testkit';
import { composeIngress, type Ingress } from '../src/compose';
import { loadIngressConfig } from '../src/config';
import { FORM, formBody, post, type RawReply } from './http-client';

const logger = createLogger({ service: 'test', level: 'silent' });
const BODY_LIMIT = 4_096;
const SERVICE_TIME = 1_700_000_000_123;
const REPLY = /^\{"code":"(\d+)","message":"((?:[^"\\]|\\.)*)","serviceTime":(\d+)\}$/;

interface Tapped {
  payload: Record<string, unknown>;
  properties: amqp.MessageProperties;
}

interface LedgerRow {
  session_id: string;
  order_no: string;
  customs_service_time: string | null;
  status: string;
  received_at: Date;
  deadline_at: Date;
  published_at: Date | null;
}

let counter = 0;
function ids(prefix: string): { sessionID: string; orderNo: string } {
  counter += 1;
  const unique = `${Date.now().toString(36)}${counter}`;
  return { sessionID: `${prefix}-sess-${unique}`, orderNo: `SO-${prefix}-${unique}` };
}

/** Asserts the customs-shaped reply byte for byte and returns its parts. */
function expectCustomsReply(reply: RawReply, code: string, message: string, httpStatus = 200): number {
  expect(reply.status).toBe(httpStatus);
  expect(reply.contentType).toBe('application/json;charset=utf-8');
  const match = REPLY.exec(reply.text);
  expect(match).not.toBeNull();
  const [, gotCode, gotMessage, serviceTime] = match as unknown as [string, string, string, string];
  expect({ code: gotCode, message: JSON.parse(`"${gotMessage}"`) as string }).toEqual({ code, message });
  return Number(serviceTime);
}

async function createVhostNamed(name: string): Promise<void> {
  const auth = `Basic ${Buffer.from(`${testInfra.rabbitUser}:${testInfra.rabbitPassword}`).toString('base64')}`;
  const put = async (path: string, body: unknown) => {
    const response = await fetch(`${testInfra.rabbitApiUrl}${path}`, {
      method: 'PUT',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`PUT ${path}: HTTP ${response.status}`);
  };
  await put(`/vhosts/${encodeURIComponent(name)}`, {});
  await put(`/permissions/${encodeURIComponent(name)}/${encodeURIComponent(testInfra.rabbitUser)}`, {
    configure: '.*',
    write: '.*',
    read: '.*',
  });
}

/** Collects every message of the callbacks queue of one vhost (the assembler's input). */
async function tapCallbacks(url: string): Promise<{ messages: Tapped[]; close(): Promise<void> }> {
  const connection = await amqp.connect(url);
  const channel = await connection.createChannel();
  await declareCallbackConsumption(channel); // what the assembler declares: ingress publishes into it
  const messages: Tapped[] = [];
  await channel.consume(
    Queues.callbacks,
    (message) => {
      if (message)
        messages.push({ payload: JSON.parse(message.content.toString('utf8')) as Record<string, unknown>, properties: message.properties });
    },
    { noAck: true },
  );
  return { messages, close: () => connection.close() };
}

function ingressEnv(db: TestDatabase, amqpUrl: string): Record<string, string> {
  return {
    CEB179_AMQP_URL: amqpUrl,
    CEB179_DATABASE_URL: db.url,
    CEB179_REDIS_URL: testRedisUrl(),
    CEB179_INGRESS_PORT: '0',
    CEB179_INGRESS_HEALTH_PORT: '0',
    CEB179_METRICS_PORT: '0',
    CEB179_INGRESS_BODY_LIMIT_BYTES: String(BODY_LIMIT),
    CEB179_INGRESS_RELAY_INTERVAL_MS: '200',
  };
}

async function startIngress(env: Record<string, string>): Promise<Ingress> {
  const ingress = composeIngress(loadIngressConfig(env), logger);
  await ingress.start();
  return ingress;
}

async function readiness(port: number): Promise<{ checks: Record<string, boolean> }> {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`);
  return (await response.json()) as { checks: Record<string, boolean> };
}

describe('ingress component (real Postgres, RabbitMQ and Redis; customs simulated)', () => {
  let db: TestDatabase;
  let vhost: TestVhost;
  let pool: Pool;
  let redis: Redis;
  let customs: CustomsSim;
  let ingress: Ingress;
  let tap: Awaited<ReturnType<typeof tapCallbacks>>;

  const row = async (sessionID: string): Promise<LedgerRow | undefined> =>
    (await pool.query<LedgerRow>('SELECT * FROM ceb179.request WHERE session_id = $1', [sessionID])).rows[0];
  const rowCount = async (): Promise<number> =>
    Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM ceb179.request')).rows[0]?.n);
  const messagesFor = (sessionID: string): Tapped[] => tap.messages.filter((m) => m.payload.sessionID === sessionID);
  const waitForMessage = (sessionID: string, timeoutMs = 10_000): Promise<Tapped> =>
    waitFor(`the callback message of ${sessionID}`, async () => messagesFor(sessionID)[0], timeoutMs, 20);
  const waitForPublished = (sessionID: string, timeoutMs = 10_000): Promise<LedgerRow> =>
    waitFor(
      `published_at of ${sessionID}`,
      async () => {
        const found = await row(sessionID);
        return found?.published_at ? found : undefined;
      },
      timeoutMs,
      50,
    );
  const callback = (port: number, orderNo: string, sessionID: string, serviceTimeAs: 'string' | 'number' = 'string'): Promise<RawReply> =>
    post(port, formBody(openReqText(orderNo, sessionID, SERVICE_TIME, serviceTimeAs)));

  beforeAll(async () => {
    [db, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
    pool = new Pool({ connectionString: db.url, max: 4 });
    await migrate(pool);
    redis = new Redis(testRedisUrl());
    customs = await startCustomsSim();
    tap = await tapCallbacks(vhost.url);
    ingress = await startIngress(ingressEnv(db, vhost.url));
    await waitFor('ingress connected to RabbitMQ', async () => ((await readiness(ingress.healthPort)).checks.broker ? true : undefined));
  });

  afterAll(async () => {
    await ingress?.stop();
    await Promise.allSettled([tap?.close(), customs?.stop(), pool?.end(), redis?.quit()]);
    await Promise.allSettled([db?.drop(), vhost?.delete()]);
  });

  it.each(['string', 'number'] as const)(
    'answers a valid callback (serviceTime as a %s) with exactly 10000, records it and hands it to the assembler',
    async (serviceTimeAs) => {
      const { sessionID, orderNo } = ids(`ok-${serviceTimeAs}`);
      const before = Date.now();
      const reply = await callback(ingress.port, orderNo, sessionID, serviceTimeAs);
      const after = Date.now();

      const serviceTime = expectCustomsReply(reply, '10000', '');
      expect(serviceTime).toBeGreaterThanOrEqual(before);
      expect(serviceTime).toBeLessThanOrEqual(after);

      // Recorded before the reply left: the row is there the moment the answer is.
      const recorded = (await row(sessionID)) as LedgerRow;
      expect(recorded).toMatchObject({ order_no: orderNo, customs_service_time: String(SERVICE_TIME), status: 'received' });
      expect(recorded.received_at.getTime()).toBeGreaterThanOrEqual(before);
      expect(recorded.received_at.getTime()).toBeLessThanOrEqual(after);
      expect(recorded.deadline_at.getTime() - recorded.received_at.getTime()).toBe(DEADLINE_MS);

      const message = await waitForMessage(sessionID);
      expect(message.payload).toEqual({
        v: SCHEMA_VERSION,
        sessionID,
        orderNo,
        customsServiceTime: String(SERVICE_TIME),
        receivedAt: recorded.received_at.toISOString(),
        deadline: recorded.deadline_at.toISOString(),
      });
      expect(message.properties).toMatchObject({
        deliveryMode: 2,
        messageId: sessionID,
        correlationId: sessionID,
        contentType: 'application/json',
      });
      expect(message.properties.headers?.[Headers.sessionID]).toBe(sessionID);
      await waitForPublished(sessionID);
      expect(await redis.exists(RedisKeys.callback(sessionID))).toBe(1);
    },
  );

  it("accepts customs' own client (User-Agent Apache-HttpClient/4.5.3 (Java/1.8.0_60)) and answers at once", async () => {
    const { orderNo } = ids('ua');
    const result = await customs.fireCallback({ ingressUrl: `http://127.0.0.1:${ingress.port}/platDataOpen`, orderNo });
    expect(result).toMatchObject({ httpStatus: 200, contentType: 'application/json;charset=utf-8', body: { code: '10000', message: '' } });
    expect(typeof (result.body as { serviceTime: unknown }).serviceTime).toBe('number');
    expect(await row(result.sessionID)).toMatchObject({ order_no: orderNo });
    await waitForMessage(result.sessionID);
  });

  it('answers 10000 for an order the platform does not know (registration audit)', async () => {
    const { sessionID } = ids('audit');
    expectCustomsReply(await callback(ingress.port, 'RANDOM-AUDIT-ORDER-000001', sessionID), '10000', '');
    await waitForMessage(sessionID);
  });

  it('records and hands on a sessionID called three times in a row only once', async () => {
    const { sessionID, orderNo } = ids('dup-seq');
    for (let i = 0; i < 3; i++) expectCustomsReply(await callback(ingress.port, orderNo, sessionID), '10000', '');
    await waitForMessage(sessionID);
    // Redis only hints: with the hint gone, Postgres' key still refuses a second record.
    await redis.del(RedisKeys.callback(sessionID));
    expectCustomsReply(await callback(ingress.port, orderNo, sessionID), '10000', '');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(messagesFor(sessionID)).toHaveLength(1);
    expect((await pool.query('SELECT 1 FROM ceb179.request WHERE session_id = $1', [sessionID])).rowCount).toBe(1);
  });

  it('records and hands on a sessionID called three times at once only once', async () => {
    const { sessionID, orderNo } = ids('dup-par');
    const replies = await Promise.all([0, 1, 2].map(() => callback(ingress.port, orderNo, sessionID)));
    for (const reply of replies) expectCustomsReply(reply, '10000', '');
    await waitForMessage(sessionID);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(messagesFor(sessionID)).toHaveLength(1);
    expect((await pool.query('SELECT 1 FROM ceb179.request WHERE session_id = $1', [sessionID])).rowCount).toBe(1);
  });

  describe('a body that is not a valid openReq', () => {
    // Unique per run: Redis outlives the run, and a key left by an earlier run must not hide a regression.
    const run = Date.now().toString(36);
    const valid = { orderNo: `SO-BAD-${run}`, sessionID: `bad-${run}-session-0001`, serviceTime: String(SERVICE_TIME) };
    const enc = encodeURIComponent;
    const json = (fields: Record<string, unknown>) => formBody({ ...valid, ...fields });
    const without = (key: string) => {
      const copy: Record<string, unknown> = { ...valid };
      delete copy[key];
      return formBody(copy);
    };
    const deep = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
    const nestedObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    const FORM_ONLY = 'the body must be application/x-www-form-urlencoded with the field openReq';
    const BAD_TIME = 'openReq.serviceTime must be epoch milliseconds (a number or a string of digits)';

    // [what, body, headers (default: customs' form content type), the message customs gets back]
    const corpus: Array<[string, string | Buffer, Record<string, string> | undefined, string]> = [
      ['a JSON body', JSON.stringify({ openReq: valid }), { 'content-type': 'application/json' }, FORM_ONLY],
      ['openReq as a bare JSON body', JSON.stringify(valid), { 'content-type': 'application/json;charset=utf-8' }, FORM_ONLY],
      ['a text/plain body', formBody(valid), { 'content-type': 'text/plain' }, FORM_ONLY],
      [
        'a multipart body',
        `--x\r\nContent-Disposition: form-data; name="openReq"\r\n\r\n${JSON.stringify(valid)}\r\n--x--`,
        { 'content-type': 'multipart/form-data; boundary=x' },
        FORM_ONLY,
      ],
      ['an empty body', '', undefined, 'the body is empty; expected the form field openReq'],
      [
        'a form without openReq',
        new URLSearchParams({ orderNo: valid.orderNo, sessionID: valid.sessionID }).toString(),
        undefined,
        'the form field openReq is missing',
      ],
      ['a misspelt field', `openreq=${enc(JSON.stringify(valid))}`, undefined, 'the form field openReq is missing'],
      ['an empty openReq', 'openReq=', undefined, 'the form field openReq is empty'],
      ['a blank openReq', 'openReq=%20%20', undefined, 'the form field openReq is empty'],
      ['openReq that is not JSON', `openReq=${enc("{orderNo:'SO-BAD-0001'}")}`, undefined, 'openReq is not valid JSON'],
      [
        'openReq that is truncated JSON',
        `openReq=${enc(`{"orderNo":"${valid.orderNo}","sessionID":"bad-${run}-`)}`,
        undefined,
        'openReq is not valid JSON',
      ],
      ['openReq as a JSON array', formBody([valid]), undefined, 'openReq must be a JSON object'],
      ['openReq as a JSON string', formBody(JSON.stringify(JSON.stringify(valid))), undefined, 'openReq must be a JSON object'],
      ['openReq as JSON null', 'openReq=null', undefined, 'openReq must be a JSON object'],
      ['openReq as a JSON number', 'openReq=42', undefined, 'openReq must be a JSON object'],
      ['a missing orderNo', without('orderNo'), undefined, 'openReq.orderNo is missing'],
      ['a null orderNo', json({ orderNo: null }), undefined, 'openReq.orderNo is missing'],
      ['an empty orderNo', json({ orderNo: '' }), undefined, 'openReq.orderNo is empty'],
      ['a blank orderNo', json({ orderNo: '   ' }), undefined, 'openReq.orderNo is empty'],
      ['a numeric orderNo', json({ orderNo: 20240101001 }), undefined, 'openReq.orderNo must be a string'],
      ['an object orderNo', json({ orderNo: { no: 'SO-BAD-0001' } }), undefined, 'openReq.orderNo must be a string'],
      ['a missing sessionID', without('sessionID'), undefined, 'openReq.sessionID is missing'],
      ['an empty sessionID', json({ sessionID: '' }), undefined, 'openReq.sessionID is empty'],
      ['a numeric sessionID', json({ sessionID: 123456 }), undefined, 'openReq.sessionID must be a string'],
      ['an array sessionID', json({ sessionID: [valid.sessionID] }), undefined, 'openReq.sessionID must be a string'],
      ["serviceTime 'abc'", json({ serviceTime: 'abc' }), undefined, BAD_TIME],
      ['a negative serviceTime', json({ serviceTime: -1 }), undefined, BAD_TIME],
      ['a fractional serviceTime', json({ serviceTime: 1700000000123.5 }), undefined, BAD_TIME],
      ['a serviceTime with a suffix', json({ serviceTime: '1700000000123ms' }), undefined, BAD_TIME],
      ['a boolean serviceTime', json({ serviceTime: true }), undefined, BAD_TIME],
      ['an orderNo over 60 characters', json({ orderNo: 'S'.repeat(61) }), undefined, 'openReq.orderNo is longer than 60 characters'],
      [
        'a sessionID over 128 characters',
        json({ sessionID: 'b'.repeat(129) }),
        undefined,
        'openReq.sessionID is longer than 128 characters',
      ],
      ['a newline in orderNo', json({ orderNo: 'SO-BAD\n0001' }), undefined, 'openReq.orderNo contains control characters'],
      ['a NUL in sessionID', json({ sessionID: `bad-${run}\u0000` }), undefined, 'openReq.sessionID contains control characters'],
      [
        'a double quote in sessionID (no sign string can carry it)',
        json({ sessionID: `bad-${run}-"0001"` }),
        undefined,
        `openReq.sessionID contains '"'`,
      ],
      ['a DEL in orderNo', json({ orderNo: 'SO-BAD\u007f' }), undefined, 'openReq.orderNo contains control characters'],
      // Postgres would store a lone surrogate as U+FFFD: two different sessionIDs, one ledger key.
      [
        'a lone high surrogate in sessionID',
        json({ sessionID: `bad-${run}-\ud800` }),
        undefined,
        'openReq.sessionID is not well-formed Unicode (an unpaired surrogate)',
      ],
      [
        'a lone low surrogate in orderNo',
        json({ orderNo: 'SO-BAD-\udc00' }),
        undefined,
        'openReq.orderNo is not well-formed Unicode (an unpaired surrogate)',
      ],
      [
        'a bidi override in sessionID',
        json({ sessionID: `bad-${run}-\u202e1000` }),
        undefined,
        'openReq.sessionID contains a character that is not printable text (control, format or bidi, private use)',
      ],
      [
        'a bidi isolate in orderNo',
        json({ orderNo: 'SO-\u2067BAD' }),
        undefined,
        'openReq.orderNo contains a character that is not printable text (control, format or bidi, private use)',
      ],
      [
        'a zero-width space in sessionID',
        json({ sessionID: `bad-${run}\u200b` }),
        undefined,
        'openReq.sessionID contains a character that is not printable text (control, format or bidi, private use)',
      ],
      [
        'a C1 control (NEL) in orderNo',
        json({ orderNo: 'SO-BAD\u0085' }),
        undefined,
        'openReq.orderNo contains a character that is not printable text (control, format or bidi, private use)',
      ],
      [
        'a raw control character inside the JSON text',
        `openReq=${enc(`{"orderNo":"SO-BAD-\t0001","sessionID":"${valid.sessionID}"}`)}`,
        undefined,
        'openReq is not valid JSON',
      ],
      [
        'an invalid UTF-8 percent-escape (%C3%28) in orderNo',
        `openReq=${enc('{"orderNo":"SO-BAD-')}%C3%28${enc(`","sessionID":"${valid.sessionID}"}`)}`,
        undefined,
        'openReq.orderNo is not valid UTF-8',
      ],
      [
        'a lone %FF in sessionID',
        `openReq=${enc(`{"orderNo":"${valid.orderNo}","sessionID":"bad-${run}-`)}%FF${enc('"}')}`,
        undefined,
        'openReq.sessionID is not valid UTF-8',
      ],
      [
        'a truncated UTF-8 sequence (%E4%B8) in orderNo',
        `openReq=${enc('{"orderNo":"SO-')}%E4%B8${enc(`","sessionID":"${valid.sessionID}"}`)}`,
        undefined,
        'openReq.orderNo is not valid UTF-8',
      ],
      [
        'raw bytes that are not UTF-8 in orderNo',
        Buffer.concat([
          Buffer.from(`openReq=${enc('{"orderNo":"SO-BAD-')}`),
          Buffer.from([0xc3, 0x28]),
          Buffer.from(enc(`","sessionID":"${valid.sessionID}"}`)),
        ]),
        undefined,
        'openReq.orderNo is not valid UTF-8',
      ],
      ['a body over the limit', json({ orderNo: 'S'.repeat(BODY_LIMIT) }), undefined, 'the body is too large'],
      [
        'an unsupported charset',
        formBody(valid),
        { 'content-type': 'application/x-www-form-urlencoded; charset=x-klingon' },
        'the body charset is not supported; send UTF-8',
      ],
      ['deeply nested arrays as openReq', `openReq=${deep(1_500)}`, undefined, 'openReq must be a JSON object'],
      ['unbalanced deep nesting', `openReq=${'['.repeat(1_500)}`, undefined, 'openReq is not valid JSON'],
      // Sent unencoded (none of & = + % occurs), so the nesting, not the escaping, fills the body.
      [
        'a deeply nested object as orderNo',
        `openReq={"orderNo":${nestedObject(500)},"sessionID":"${valid.sessionID}"}`,
        undefined,
        'openReq.orderNo must be a string',
      ],
      ['a deeply nested object without the fields', `openReq=${nestedObject(600)}`, undefined, 'openReq.orderNo is missing'],
      [
        'openReq given twice',
        `${formBody(valid)}&${formBody({ ...valid, sessionID: `bad-${run}-session-0002` })}`,
        undefined,
        'the form field openReq is given more than once',
      ],
      ['openReq given twice, the second empty', `${formBody(valid)}&openReq=`, undefined, 'the form field openReq is given more than once'],
    ];

    // Every malformed call is sent here, before any test of this block looks: each test reads its own
    // reply, and the last one checks that none of them recorded or enqueued anything, whatever order
    // the tests run in and whichever of them is run alone.
    let rowsBefore: number;
    let messagesBefore: number;
    const replies = new Map<string, RawReply>();
    let wrongPath: RawReply;
    let get: { status: number; contentType: string | null; body: unknown };

    beforeAll(async () => {
      rowsBefore = await rowCount();
      messagesBefore = tap.messages.length;
      for (const [what, body, headers] of corpus) {
        if (replies.has(what)) throw new Error(`two corpus entries are called "${what}"`);
        replies.set(what, await post(ingress.port, body, headers ?? { 'content-type': FORM }));
      }
      wrongPath = await post(ingress.port, formBody(valid), undefined, '/platDataOpen2');
      const response = await fetch(`http://127.0.0.1:${ingress.port}/platDataOpen`);
      get = { status: response.status, contentType: response.headers.get('content-type'), body: await response.json() };
    });

    it.each(corpus)('%s -> 20000 saying what is wrong', (what, _body, _headers, message) => {
      expectCustomsReply(replies.get(what) as RawReply, '20000', message);
    });

    it('answers an unknown path and a GET in the customs shape too', () => {
      expectCustomsReply(wrongPath, '20000', 'unknown path; customs calls POST /platDataOpen', 404);
      expect(get).toMatchObject({ status: 404, contentType: 'application/json;charset=utf-8', body: { code: '20000' } });
    });

    it('recorded nothing and enqueued nothing for any of them; a valid call afterwards still works', async () => {
      expect(await rowCount()).toBe(rowsBefore);
      const leaked = await pool.query("SELECT session_id FROM ceb179.request WHERE session_id LIKE 'bad-%' OR order_no LIKE 'SO-BAD%'");
      expect(leaked.rows).toEqual([]);
      expect(await redis.keys(RedisKeys.callback(`bad-${run}*`))).toEqual([]);

      const { sessionID, orderNo } = ids('after-bad');
      expectCustomsReply(await callback(ingress.port, orderNo, sessionID), '10000', '');
      await waitForMessage(sessionID);
      // Messages are published in order: anything a malformed call had enqueued would be here by now.
      expect(tap.messages.slice(messagesBefore).map((m) => m.payload.sessionID)).toEqual([sessionID]);
      expect(await rowCount()).toBe(rowsBefore + 1);
    });
  });

  describe('with RabbitMQ unreachable', () => {
    it('(port 1) still answers 10000 and records the call unpublished; the relay of an ingress that reaches RabbitMQ publishes it once', async () => {
      const cut = await startIngress(ingressEnv(db, 'amqp://ceb179:ceb179@127.0.0.1:1/nowhere'));
      try {
        const { sessionID, orderNo } = ids('no-broker');
        expectCustomsReply(await callback(cut.port, orderNo, sessionID), '10000', '');
        expect((await readiness(cut.healthPort)).checks).toMatchObject({ database: true, broker: false });
        expectCustomsReply(await callback(cut.port, orderNo, sessionID), '10000', ''); // a repeat while down: still one
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(await row(sessionID)).toMatchObject({ order_no: orderNo, status: 'received', published_at: null });
        expect(messagesFor(sessionID)).toEqual([]);

        // The ingress on the good URL shares the ledger: its relay picks the row up (rows older than 3 s).
        const published = await waitForPublished(sessionID, 15_000);
        const message = await waitForMessage(sessionID);
        expect(message.payload).toMatchObject({
          sessionID,
          orderNo,
          customsServiceTime: String(SERVICE_TIME),
          receivedAt: published.received_at.toISOString(),
        });
        await new Promise((resolve) => setTimeout(resolve, 600)); // a few more relay rounds
        expect(messagesFor(sessionID)).toHaveLength(1);
      } finally {
        await cut.stop();
      }
    });

    it('(vhost gone) keeps answering, and its own relay publishes what it recorded once the broker is back', async () => {
      const ownDb = await createTestDatabase();
      const ownPool = new Pool({ connectionString: ownDb.url, max: 2 });
      const gone = await createTestVhost();
      let revived: Awaited<ReturnType<typeof tapCallbacks>> | undefined;
      let lonely: Ingress | undefined;
      try {
        await migrate(ownPool);
        await gone.delete();
        lonely = await startIngress(ingressEnv(ownDb, gone.url));
        const { sessionID, orderNo } = ids('vhost-gone');
        expectCustomsReply(await callback(lonely.port, orderNo, sessionID), '10000', '');
        const recorded = await ownPool.query<LedgerRow>('SELECT * FROM ceb179.request WHERE session_id = $1', [sessionID]);
        expect(recorded.rows[0]).toMatchObject({ order_no: orderNo, published_at: null });

        await createVhostNamed(gone.name);
        revived = await tapCallbacks(gone.url);
        const tapped = revived;
        const message = await waitFor(
          'the relayed callback',
          async () => tapped.messages.find((m) => m.payload.sessionID === sessionID),
          20_000,
          50,
        );
        expect(message.payload).toMatchObject({ v: SCHEMA_VERSION, sessionID, orderNo });
        await waitFor('published_at', async () => {
          const { rows } = await ownPool.query<LedgerRow>('SELECT published_at FROM ceb179.request WHERE session_id = $1', [sessionID]);
          return rows[0]?.published_at ?? undefined;
        });
        await new Promise((resolve) => setTimeout(resolve, 600));
        expect(tapped.messages.filter((m) => m.payload.sessionID === sessionID)).toHaveLength(1);
      } finally {
        await lonely?.stop();
        await Promise.allSettled([revived?.close(), ownPool.end()]);
        await Promise.allSettled([ownDb.drop(), gone.delete()]);
      }
    });
  });
});
