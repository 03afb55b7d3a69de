import * as amqp from 'amqplib';
import { Client, Pool } from 'pg';
import { Queues, SCHEMA_VERSION, signJobQueueFor, type CallbackMessage } from '@ceb179/contracts';
import { migrate } from '@ceb179/db';
import type { AppError } from '@ceb179/errors';
import type { Component } from '@ceb179/lifecycle';
import { createLogger } from '@ceb179/logger';
import { declareSignJobQueues, declareSignJobRouting, declareWorkQueue, Headers } from '@ceb179/mq';
import { buildPaymentDocument } from '@ceb179/protocol';
import {
  createTestDatabase,
  createTestVhost,
  testInfra,
  waitFor,
  type TestDatabase,
  type TestVhost,
  TEST_SIGN_JOB_KEY,
} from '@ceb179/testkit';
import { composeAssembler } from '../src/compose';
import { loadAssemblerConfig } from '../src/config';
import { PaymentRepository, paymentLookupSql } from '../src/data-access/payment.repository';

/**
 * The assembler reads payment / payment_order / order_goods whether they are tables or VIEWS
 * over a platform's own schema (docs/data-source-mapping.md). Two made-up
 * platforms, each mapped by views in the schema CEB179_SOURCE_SCHEMA names:
 *
 * - `shop`: WeChat Pay / Alipay through a payments table with amounts in cents, Unix-epoch
 *   times, the raw gateway request/response kept inside a jsonb payload, order items whose
 *   product has several links (joined with ';'), two legal entities (two ebpCodes).
 * - `mall`: decimal amounts, timestamptz times, raw text columns, numeric order ids exposed as
 *   text (with expression indexes), single entity with constant codes in the view.
 *
 * The database runs in America/Los_Angeles on purpose: tradingTime must not depend on the
 * session's zone. Expected head and lists JSON are written out literally below (not computed by
 * the code under test); only the random guid is spliced in.
 */

const logger = createLogger({ service: 'test', level: 'silent' });
const SHOP_VIEWS = 'ceb_shop';
const MALL_VIEWS = 'ceb_mall';
const MALL_NAIVE_VIEWS = 'ceb_mall_naive';
const UUID = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;

// ---------------------------------------------------------------------------------------------
// Platform "shop": its own tables, then the three views over them.
// ---------------------------------------------------------------------------------------------
const SHOP_DDL = `
  CREATE SCHEMA shop;
  CREATE TABLE shop.merchants (
    id integer PRIMARY KEY,
    customs_ebp_code text NOT NULL,          -- the entity's customs registration code (ebpCode)
    settle_account text NOT NULL,            -- receiving account registered with the payment company
    credit_code text,                        -- unified social credit code, when known
    legal_name text NOT NULL
  );
  CREATE TABLE shop.pay_channels (
    channel text PRIMARY KEY,                -- 'wxpay' | 'alipay'
    customs_pay_code text NOT NULL           -- the payment company's customs registration code
  );
  CREATE TABLE shop.payments (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    merchant_id integer NOT NULL REFERENCES shop.merchants,
    channel text NOT NULL REFERENCES shop.pay_channels,
    gateway_txn_id text NOT NULL UNIQUE,     -- WeChat Pay transaction_id / Alipay trade_no
    amount_cents bigint NOT NULL,
    currency_iso char(3) NOT NULL,
    paid_at_epoch bigint NOT NULL,           -- Unix seconds
    client_kind text,                        -- 'app' | 'pc' | 'qr' | NULL
    verify_department text,                  -- UNIONPAY | NETSUNION | OTHERS, from the payment company's declaration result
    gateway_log jsonb NOT NULL,              -- {"request": <raw text as sent>, "response": <raw body as received>}
    remark text
  );
  CREATE TABLE shop.orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_sn text NOT NULL UNIQUE,
    payment_id bigint REFERENCES shop.payments
  );
  CREATE INDEX orders_payment_idx ON shop.orders (payment_id);
  CREATE TABLE shop.products (id bigint PRIMARY KEY, title text NOT NULL);
  CREATE TABLE shop.product_links (
    product_id bigint NOT NULL REFERENCES shop.products,
    position integer NOT NULL,
    url text NOT NULL,
    PRIMARY KEY (product_id, position)
  );
  CREATE TABLE shop.order_items (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES shop.orders,
    product_id bigint NOT NULL REFERENCES shop.products,
    seq integer NOT NULL,
    title_snapshot text,                     -- the name at purchase time; NULL = the product's title
    UNIQUE (order_id, seq)
  );
`;

const SHOP_VIEWS_DDL = `
  CREATE SCHEMA ${SHOP_VIEWS};
  CREATE VIEW ${SHOP_VIEWS}.payment AS
  SELECT p.gateway_txn_id                          AS pay_transaction_id,
         m.customs_ebp_code                        AS ebp_code,
         c.customs_pay_code                        AS pay_code,
         (p.amount_cents::numeric / 100)           AS total_amount,
         CASE p.currency_iso WHEN 'CNY' THEN '142' WHEN 'HKD' THEN '110' WHEN 'USD' THEN '502' END AS currency,
         CASE p.verify_department WHEN 'UNIONPAY' THEN '1' WHEN 'NETSUNION' THEN '2' WHEN 'OTHERS' THEN '3' END AS ver_dept,
         CASE p.client_kind WHEN 'app' THEN '1' WHEN 'pc' THEN '2' WHEN 'qr' THEN '3' END AS pay_type,
         to_timestamp(p.paid_at_epoch)             AS trading_time,
         p.gateway_log ->> 'request'               AS initial_request,
         p.gateway_log ->> 'response'              AS initial_response,
         p.remark                                  AS note
    FROM shop.payments p
    JOIN shop.merchants m ON m.id = p.merchant_id
    JOIN shop.pay_channels c ON c.channel = p.channel;

  CREATE VIEW ${SHOP_VIEWS}.payment_order AS
  SELECT o.order_sn          AS order_no,
         p.gateway_txn_id    AS pay_transaction_id,
         m.settle_account    AS recp_account,
         m.credit_code       AS recp_code,
         m.legal_name        AS recp_name
    FROM shop.orders o
    JOIN shop.payments p ON p.id = o.payment_id
    JOIN shop.merchants m ON m.id = p.merchant_id;

  CREATE VIEW ${SHOP_VIEWS}.order_goods AS
  SELECT o.order_sn                                AS order_no,
         i.seq                                     AS line_no,
         coalesce(i.title_snapshot, pr.title)      AS gname,
         (SELECT string_agg(l.url, ';' ORDER BY l.position)
            FROM shop.product_links l WHERE l.product_id = i.product_id) AS item_link
    FROM shop.order_items i
    JOIN shop.orders o ON o.id = i.order_id
    JOIN shop.products pr ON pr.id = i.product_id;
`;

const WX_REQUEST =
  '<xml><appid>wx2421b1c4370ec43b</appid><body>奶粉 "A2" 1段</body><attach>a&b=c</attach><total_fee>10050</total_fee></xml>';
const WX_RESPONSE =
  '<xml>\n\t<return_code><![CDATA[SUCCESS]]></return_code>\n\t<prepay_id><![CDATA[wx201411101639507cbf6ffd8b0779950874]]></prepay_id>\n' +
  '\t<err_code_des><![CDATA[C:\\dir\\ "ok"]]></err_code_des>\n</xml>';
const ALI_REQUEST =
  'app_id=2021000000000000&biz_content={"out_trade_no":"SN-B","total_amount":"0.01"}&charset=utf-8&method=alipay.trade.app.pay&sign=Xy+/z==';
const ALI_RESPONSE =
  '{"alipay_trade_app_pay_response":{"code":"10000","msg":"Success","trade_no":"2023121522001404281459951234"},"sign":"ab/+=="}';

async function seedShop(pool: Pool): Promise<void> {
  await pool.query(`
    INSERT INTO shop.merchants VALUES
      (1, 'EBP0000001', '6217000010001234567', NULL, '杭州某某跨境贸易有限公司'),
      (2, 'EBP0000002', 'OSA571908863132601', '91440300MA5XXXXX1X', 'Shenzhen Example Ltd.');
    INSERT INTO shop.pay_channels VALUES ('wxpay', 'PAYCODEWX1'), ('alipay', 'PAYCODEAL1');
    INSERT INTO shop.products VALUES
      (101, 'Aptamil 爱他美 <Pro> & "Gold" 1段'), (102, 'Swisse 维生素C 60粒'), (103, 'A product without a link');
    -- Inserted out of position order: the view orders them.
    INSERT INTO shop.product_links VALUES
      (101, 2, 'https://m.shop.example.cn/item/101?from=wx&x=<1>'),
      (101, 1, 'https://shop.example.cn/item/101?id=101&sku=a/b'),
      (102, 1, 'https://shop.example.cn/item/102');
  `);
  const payment = async (values: unknown[]): Promise<number> =>
    Number(
      (
        await pool.query<{ id: string }>(
          `INSERT INTO shop.payments (merchant_id, channel, gateway_txn_id, amount_cents, currency_iso, paid_at_epoch, client_kind,
         verify_department, gateway_log, remark)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10) RETURNING id`,
          values,
        )
      ).rows[0]!.id,
    );
  const order = async (orderSn: string, paymentId: number): Promise<number> =>
    Number(
      (
        await pool.query<{ id: string }>('INSERT INTO shop.orders (order_sn, payment_id) VALUES ($1, $2) RETURNING id', [
          orderSn,
          paymentId,
        ])
      ).rows[0]!.id,
    );
  const item = (orderId: number, productId: number, seq: number, title: string | null) =>
    pool.query('INSERT INTO shop.order_items (order_id, product_id, seq, title_snapshot) VALUES ($1, $2, $3, $4)', [
      orderId,
      productId,
      seq,
      title,
    ]);

  // A: WeChat Pay, one order, 100.50 in cents, paid one second after midnight China time, nulls.
  const a = await payment([
    1,
    'wxpay',
    '4200001234202311150000000001',
    10050,
    'CNY',
    1699977601,
    null,
    'NETSUNION',
    JSON.stringify({ request: WX_REQUEST, response: WX_RESPONSE }),
    null,
  ]);
  const a1 = await order('SN-A-1', a);
  await item(a1, 102, 2, null);
  await item(a1, 101, 1, 'Aptamil 爱他美 <Pro> & "Gold" 1段 \\ 900g');

  // B: Alipay, three orders on one payment (inserted out of order), one cent, the other entity.
  const b = await payment([
    2,
    'alipay',
    '2023121522001404281459951234',
    1,
    'CNY',
    1702656000,
    'app',
    'OTHERS',
    JSON.stringify({ response: ALI_RESPONSE, request: ALI_REQUEST }),
    '合并支付 3 单',
  ]);
  const b3 = await order('SN-B-3', b);
  const b1 = await order('SN-B-1', b);
  const b2 = await order('SN-B-2', b);
  await item(b3, 102, 1, null);
  await item(b2, 102, 2, null);
  await item(b2, 101, 1, null);
  await item(b1, 102, 1, null);

  // C: a payment the view cannot map completely: no verify_department, a product without links.
  const c = await payment([
    1,
    'wxpay',
    '4200001234202311150000000003',
    500,
    'CNY',
    1700000000,
    'qr',
    null,
    JSON.stringify({ request: '<xml/>', response: '<xml/>' }),
    null,
  ]);
  await item(await order('SN-C-1', c), 103, 1, null);
}

// ---------------------------------------------------------------------------------------------
// Platform "mall": decimal yuan, timestamptz, numeric order ids, constants in the views.
// ---------------------------------------------------------------------------------------------
const MALL_DDL = `
  CREATE SCHEMA mall;
  CREATE TABLE mall.trades (
    trade_no text PRIMARY KEY,               -- Alipay trade_no
    paid_amount numeric(19,5) NOT NULL,      -- yuan
    paid_at timestamptz NOT NULL,
    pay_request text NOT NULL,               -- as sent
    pay_response text NOT NULL,              -- as received
    ver_dept smallint,                       -- 1/2/3 as the payment company's declaration reported it
    terminal smallint,                       -- 1 APP, 2 PC, 3 QR, 4 other
    memo text
  );
  CREATE TABLE mall.sales_orders (id bigint PRIMARY KEY, trade_no text NOT NULL REFERENCES mall.trades);
  CREATE INDEX sales_orders_trade_idx ON mall.sales_orders (trade_no);
  -- order_no is id::text in the views: the lookups compare text, so index that expression.
  CREATE INDEX sales_orders_order_no_idx ON mall.sales_orders ((id::text));
  CREATE TABLE mall.sales_order_lines (
    order_id bigint NOT NULL REFERENCES mall.sales_orders,
    line_no integer NOT NULL,
    sku_name text NOT NULL,
    detail_url text NOT NULL,
    PRIMARY KEY (order_id, line_no)
  );
  CREATE INDEX sales_order_lines_order_no_idx ON mall.sales_order_lines ((order_id::text));
`;

function mallViews(schema: string, tradingTime: string): string {
  return `
  CREATE SCHEMA ${schema};
  CREATE VIEW ${schema}.payment AS
  SELECT t.trade_no                 AS pay_transaction_id,
         'EBP0000003'::text         AS ebp_code,
         'PAYCODEAL1'::text         AS pay_code,
         t.paid_amount              AS total_amount,
         '142'::text                AS currency,
         t.ver_dept::text           AS ver_dept,
         t.terminal::text           AS pay_type,
         ${tradingTime}             AS trading_time,
         t.pay_request              AS initial_request,
         t.pay_response             AS initial_response,
         t.memo                     AS note
    FROM mall.trades t;
  CREATE VIEW ${schema}.payment_order AS
  SELECT so.id::text                AS order_no,
         so.trade_no                AS pay_transaction_id,
         '1234567890123456789'::text AS recp_account,
         NULL::text                 AS recp_code,
         '某某国际贸易（香港）有限公司'::text AS recp_name
    FROM mall.sales_orders so;
  CREATE VIEW ${schema}.order_goods AS
  SELECT l.order_id::text AS order_no, l.line_no, l.sku_name AS gname, l.detail_url AS item_link
    FROM mall.sales_order_lines l;
`;
}

async function seedMall(pool: Pool): Promise<void> {
  await pool.query(
    `INSERT INTO mall.trades VALUES
       ('2023123122001400000000000001', '12345678901234.12345', '2023-12-31T16:00:00Z', $1, 'success', 3, 3, $2),
       ('2024022922001400000000000002', '7', '2024-02-28T16:30:00.999+00:00', $3, $4, 1, NULL, NULL)`,
    [
      'https://openapi.alipay.com/gateway.do?method=alipay.trade.page.pay&biz_content=%7B%22out_trade_no%22%3A%221000000000001%22%7D&sign=a%2Bb%2F%3D',
      'Memo "引号" \\ back\\slash',
      'alipay_sdk=alipay-sdk-java&app_id=2021000000000000&method=alipay.trade.wap.pay',
      '{"code":"10000"}',
    ],
  );
  await pool.query(`
    INSERT INTO mall.sales_orders VALUES
      (1000000000001, '2023123122001400000000000001'),
      (999, '2024022922001400000000000002'),
      (1000000000002, '2024022922001400000000000002');
    INSERT INTO mall.sales_order_lines VALUES
      (1000000000001, 1, 'Bose QC45 头戴式耳机', 'https://mall.example.com/p/qc45?color=black&size=<L>'),
      (999, 1, E'洗面奶 100ml\\t(旅行装)', 'https://mall.example.com/p/999'),
      (1000000000002, 2, 'B', 'https://mall.example.com/p/b'),
      (1000000000002, 1, 'A', 'https://mall.example.com/p/a');
  `);
}

// ---------------------------------------------------------------------------------------------
// One assembler per platform (its own vhost), reading that platform's views.
// ---------------------------------------------------------------------------------------------
interface Tapped {
  routingKey: string;
  queue: string;
  payload: Record<string, unknown>;
}

interface LedgerRow {
  status: string;
  reason: string | null;
  guid: string | null;
  ebp_code: string | null;
  service_time: string | null;
  head_json: string | null;
  lists_json: string | null;
  sign_string: string | null;
}

interface RunningAssembler {
  vhost: TestVhost;
  component: Component;
  connection: amqp.ChannelModel;
  publisher: amqp.ConfirmChannel;
  jobs: Tapped[];
}

async function startAssembler(db: TestDatabase, sourceSchema: string, ebpCodes: string[]): Promise<RunningAssembler> {
  const vhost = await createTestVhost();
  const connection = await amqp.connect(vhost.url);
  const setup = await connection.createChannel();
  await declareWorkQueue(setup, Queues.callbacks);
  // Card queues for these ebpCodes, as signers configured with CEB179_SIGNER_EBP_CODES bind them.
  await declareSignJobRouting(setup);
  await declareSignJobQueues(setup, ebpCodes);
  const jobs: Tapped[] = [];
  for (const queue of [...ebpCodes.map(signJobQueueFor), Queues.signJobsAny]) {
    await setup.consume(
      queue,
      (message) => {
        if (!message) return;
        jobs.push({
          routingKey: message.fields.routingKey,
          queue,
          payload: JSON.parse(message.content.toString('utf8')) as Record<string, unknown>,
        });
      },
      { noAck: true },
    );
  }
  const publisher = await connection.createConfirmChannel();
  const component = composeAssembler(
    loadAssemblerConfig({
      CEB179_SIGN_JOB_KEY: TEST_SIGN_JOB_KEY,
      CEB179_AMQP_URL: vhost.url,
      CEB179_DATABASE_URL: db.url,
      CEB179_METRICS_PORT: '0',
      CEB179_SOURCE_SCHEMA: sourceSchema,
      CEB179_ASSEMBLER_LOOKUP_RETRIES: '0',
    }),
    logger,
  );
  await component.start();
  return { vhost, component, connection, publisher, jobs };
}

async function stopAssembler(running: RunningAssembler | undefined): Promise<void> {
  if (!running) return;
  await running.component.stop();
  await running.connection.close().catch(() => undefined);
  await running.vhost.delete();
}

let counter = 0;
async function callback(running: RunningAssembler, orderNo: string): Promise<string> {
  counter += 1;
  const sessionID = `views-${Date.now().toString(36)}-${counter}`;
  const receivedAt = new Date();
  const message: CallbackMessage = {
    v: SCHEMA_VERSION,
    sessionID,
    orderNo,
    customsServiceTime: '1700000000123',
    receivedAt: receivedAt.toISOString(),
    deadline: new Date(receivedAt.getTime() + 120_000).toISOString(),
  };
  running.publisher.sendToQueue(Queues.callbacks, Buffer.from(JSON.stringify(message)), {
    persistent: true,
    contentType: 'application/json',
    messageId: sessionID,
    correlationId: sessionID,
    headers: { [Headers.sessionID]: sessionID, [Headers.schema]: SCHEMA_VERSION },
  });
  await running.publisher.waitForConfirms();
  return sessionID;
}

describe('assembler over platform VIEWS (not tables) in the CEB179_SOURCE_SCHEMA schema', () => {
  let db: TestDatabase;
  let pool: Pool;
  let shop: RunningAssembler | undefined;
  let mall: RunningAssembler | undefined;

  const settled = (sessionID: string): Promise<LedgerRow> =>
    waitFor(
      `${sessionID} assembled or faulted`,
      async () => {
        const { rows } = await pool.query<LedgerRow>('SELECT * FROM ceb179.request WHERE session_id = $1', [sessionID]);
        return rows[0] && rows[0].status !== 'received' ? rows[0] : undefined;
      },
      10_000,
      25,
    );

  /** The stored document must be exactly the expected text; the sign string is built from that same text. */
  function expectDocument(row: LedgerRow, sessionID: string, head: (guid: string) => string, lists: string): void {
    expect(row).toMatchObject({ status: 'assembled', reason: null });
    expect(row.guid).toMatch(UUID);
    const guid = row.guid as string;
    expect(row.head_json).toBe(head(guid));
    expect(row.lists_json).toBe(lists);
    expect(row.sign_string).toBe(
      `"sessionID":"${sessionID}"||"payExchangeInfoHead":"${head(guid)}"||"payExchangeInfoLists":"${lists}"||"serviceTime":"${row.service_time}"`,
    );
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    // Every session of this database (ours and the assembler's) runs in a zone far from UTC and China.
    const admin = new Client({ connectionString: testInfra.adminDatabaseUrl });
    await admin.connect();
    await admin.query(`ALTER DATABASE ${db.name} SET timezone TO 'America/Los_Angeles'`);
    await admin.end();
    pool = new Pool({ connectionString: db.url, max: 4 });
    await migrate(pool);
    await pool.query(SHOP_DDL);
    await pool.query(SHOP_VIEWS_DDL);
    await seedShop(pool);
    await pool.query(MALL_DDL);
    await pool.query(mallViews(MALL_VIEWS, 't.paid_at'));
    // A mistaken mapping: China wall-clock time as timestamp WITHOUT time zone.
    await pool.query(mallViews(MALL_NAIVE_VIEWS, "(t.paid_at AT TIME ZONE 'Asia/Shanghai')"));
    await seedMall(pool);
    shop = await startAssembler(db, SHOP_VIEWS, ['EBP0000001', 'EBP0000002']);
    mall = await startAssembler(db, MALL_VIEWS, []);
  });

  afterAll(async () => {
    await Promise.allSettled([stopAssembler(shop), stopAssembler(mall)]);
    await pool?.end();
    await db?.drop();
  });

  it('really reads views: the three relations of both mappings are views, and the session zone is not UTC', async () => {
    const { rows } = await pool.query<{ schema: string; name: string; kind: string }>(
      `SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS kind
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ($1, $2) ORDER BY 1, 2`,
      [SHOP_VIEWS, MALL_VIEWS],
    );
    expect(rows).toEqual([
      { schema: MALL_VIEWS, name: 'order_goods', kind: 'v' },
      { schema: MALL_VIEWS, name: 'payment', kind: 'v' },
      { schema: MALL_VIEWS, name: 'payment_order', kind: 'v' },
      { schema: SHOP_VIEWS, name: 'order_goods', kind: 'v' },
      { schema: SHOP_VIEWS, name: 'payment', kind: 'v' },
      { schema: SHOP_VIEWS, name: 'payment_order', kind: 'v' },
    ]);
    expect((await pool.query<{ TimeZone: string }>('SHOW timezone')).rows[0]?.TimeZone).toBe('America/Los_Angeles');
  });

  it('shop: cents, epoch seconds, raw XML inside jsonb, two links joined with ";", nulls -> "", routed by the merchant\'s ebpCode', async () => {
    const sessionID = await callback(shop!, 'SN-A-1');
    const row = await settled(sessionID);
    expectDocument(
      row,
      sessionID,
      (guid) =>
        String.raw`{"guid":"${guid}","initalRequest":"<xml><appid>wx2421b1c4370ec43b</appid><body>奶粉 \"A2\" 1段</body><attach>a&b=c</attach><total_fee>10050</total_fee></xml>","initalResponse":"<xml>\n\t<return_code><![CDATA[SUCCESS]]></return_code>\n\t<prepay_id><![CDATA[wx201411101639507cbf6ffd8b0779950874]]></prepay_id>\n\t<err_code_des><![CDATA[C:\\dir\\ \"ok\"]]></err_code_des>\n</xml>","ebpCode":"EBP0000001","payCode":"PAYCODEWX1","payTransactionId":"4200001234202311150000000001","totalAmount":100.5,"currency":"142","verDept":"2","payType":"","tradingTime":"20231115000001","note":""}`,
      String.raw`[{"orderNo":"SN-A-1","goodsInfo":[{"gname":"Aptamil 爱他美 <Pro> & \"Gold\" 1段 \\ 900g","itemLink":"https://shop.example.cn/item/101?id=101&sku=a/b;https://m.shop.example.cn/item/101?from=wx&x=<1>"},{"gname":"Swisse 维生素C 60粒","itemLink":"https://shop.example.cn/item/102"}],"recpAccount":"6217000010001234567","recpCode":"","recpName":"杭州某某跨境贸易有限公司"}]`,
    );
    expect(row.ebp_code).toBe('EBP0000001');
    const job = await waitFor('the sign job', async () => shop!.jobs.find((j) => j.payload.sessionID === sessionID), 10_000, 20);
    expect(job).toMatchObject({ routingKey: 'EBP0000001', queue: signJobQueueFor('EBP0000001') });
    expect(job.payload.signString).toBe(row.sign_string);
  });

  it('shop: a three-order payment of the other entity, whichever order customs asks for, sorted, by line', async () => {
    const sessionID = await callback(shop!, 'SN-B-2');
    const row = await settled(sessionID);
    const recp = String.raw`"recpAccount":"OSA571908863132601","recpCode":"91440300MA5XXXXX1X","recpName":"Shenzhen Example Ltd."`;
    expectDocument(
      row,
      sessionID,
      (guid) =>
        String.raw`{"guid":"${guid}","initalRequest":"app_id=2021000000000000&biz_content={\"out_trade_no\":\"SN-B\",\"total_amount\":\"0.01\"}&charset=utf-8&method=alipay.trade.app.pay&sign=Xy+/z==","initalResponse":"{\"alipay_trade_app_pay_response\":{\"code\":\"10000\",\"msg\":\"Success\",\"trade_no\":\"2023121522001404281459951234\"},\"sign\":\"ab/+==\"}","ebpCode":"EBP0000002","payCode":"PAYCODEAL1","payTransactionId":"2023121522001404281459951234","totalAmount":0.01,"currency":"142","verDept":"3","payType":"1","tradingTime":"20231216000000","note":"合并支付 3 单"}`,
      String.raw`[{"orderNo":"SN-B-1","goodsInfo":[{"gname":"Swisse 维生素C 60粒","itemLink":"https://shop.example.cn/item/102"}],` +
        recp +
        String.raw`},{"orderNo":"SN-B-2","goodsInfo":[{"gname":"Aptamil 爱他美 <Pro> & \"Gold\" 1段","itemLink":"https://shop.example.cn/item/101?id=101&sku=a/b;https://m.shop.example.cn/item/101?from=wx&x=<1>"},{"gname":"Swisse 维生素C 60粒","itemLink":"https://shop.example.cn/item/102"}],` +
        recp +
        String.raw`},{"orderNo":"SN-B-3","goodsInfo":[{"gname":"Swisse 维生素C 60粒","itemLink":"https://shop.example.cn/item/102"}],` +
        recp +
        '}]',
    );
    const job = await waitFor('the sign job', async () => shop!.jobs.find((j) => j.payload.sessionID === sessionID), 10_000, 20);
    expect(job).toMatchObject({ routingKey: 'EBP0000002', queue: signJobQueueFor('EBP0000002') });
  });

  it('shop: what the views cannot map (no verification department, no link) is a data fault, field by field, and no sign job', async () => {
    const sessionID = await callback(shop!, 'SN-C-1');
    const row = await settled(sessionID);
    expect(row).toMatchObject({ status: 'data_fault', head_json: null, sign_string: null });
    expect(row.reason).toBe(
      'payment document breaks protocol rules: payExchangeInfoHead.verDept is required but missing; ' +
        'payExchangeInfoLists[0].goodsInfo[0].itemLink is required but missing',
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(shop!.jobs.filter((j) => j.payload.sessionID === sessionID)).toHaveLength(0);
  });

  it('mall: decimal 12345678901234.12345 exactly, timestamptz across the new year, numeric order id as text', async () => {
    const sessionID = await callback(mall!, '1000000000001');
    const row = await settled(sessionID);
    expectDocument(
      row,
      sessionID,
      (guid) =>
        String.raw`{"guid":"${guid}","initalRequest":"https://openapi.alipay.com/gateway.do?method=alipay.trade.page.pay&biz_content=%7B%22out_trade_no%22%3A%221000000000001%22%7D&sign=a%2Bb%2F%3D","initalResponse":"success","ebpCode":"EBP0000003","payCode":"PAYCODEAL1","payTransactionId":"2023123122001400000000000001","totalAmount":12345678901234.12345,"currency":"142","verDept":"3","payType":"3","tradingTime":"20240101000000","note":"Memo \"引号\" \\ back\\slash"}`,
      String.raw`[{"orderNo":"1000000000001","goodsInfo":[{"gname":"Bose QC45 头戴式耳机","itemLink":"https://mall.example.com/p/qc45?color=black&size=<L>"}],"recpAccount":"1234567890123456789","recpCode":"","recpName":"某某国际贸易（香港）有限公司"}]`,
    );
    const job = await waitFor('the sign job', async () => mall!.jobs.find((j) => j.payload.sessionID === sessionID), 10_000, 20);
    expect(job).toMatchObject({ routingKey: 'EBP0000003', queue: Queues.signJobsAny, payload: { ebpCode: 'EBP0000003' } });
  });

  it('mall: 7 -> 7, a leap-day time with milliseconds (dropped), orders sorted as text ("1000000000002" < "999"), a tab in a name', async () => {
    const sessionID = await callback(mall!, '999');
    const row = await settled(sessionID);
    const recp = String.raw`"recpAccount":"1234567890123456789","recpCode":"","recpName":"某某国际贸易（香港）有限公司"`;
    expectDocument(
      row,
      sessionID,
      (guid) =>
        String.raw`{"guid":"${guid}","initalRequest":"alipay_sdk=alipay-sdk-java&app_id=2021000000000000&method=alipay.trade.wap.pay","initalResponse":"{\"code\":\"10000\"}","ebpCode":"EBP0000003","payCode":"PAYCODEAL1","payTransactionId":"2024022922001400000000000002","totalAmount":7,"currency":"142","verDept":"1","payType":"","tradingTime":"20240229003000","note":""}`,
      String.raw`[{"orderNo":"1000000000002","goodsInfo":[{"gname":"A","itemLink":"https://mall.example.com/p/a"},{"gname":"B","itemLink":"https://mall.example.com/p/b"}],` +
        recp +
        String.raw`},{"orderNo":"999","goodsInfo":[{"gname":"洗面奶 100ml\t(旅行装)","itemLink":"https://mall.example.com/p/999"}],` +
        recp +
        '}]',
    );
  });

  it('a view that exposes trading_time WITHOUT time zone is a tradingTime data fault, not a time 8 hours off', async () => {
    const repository = new PaymentRepository(pool, MALL_NAIVE_VIEWS);
    const lookup = await repository.findByOrderNo('999');
    expect(lookup.found).toBe(true);
    if (!lookup.found) return;
    expect(lookup.source.payment.trading_time).toBe('2024-02-29 00:30:00.999');
    let fault: AppError | undefined;
    try {
      buildPaymentDocument({ source: lookup.source, guid: '9D55BA71-55DE-41F4-8B50-C36C83B3B419' });
    } catch (error) {
      fault = error as AppError;
    }
    expect(fault?.code).toBe('DATA_FAULT');
    expect(fault?.reason).toBe(
      'payment document breaks protocol rules: payExchangeInfoHead.tradingTime is not an ISO-8601 time with an offset ("2024-02-29 00:30:00.999")',
    );
    // The correct mapping of the same data reads the same instant as UTC text.
    const correct = await new PaymentRepository(pool, MALL_VIEWS).findByOrderNo('999');
    expect(correct.found && correct.source.payment.trading_time).toBe('2024-02-28T16:30:00Z');
  });

  it.each([
    ['shop', SHOP_VIEWS, 'SN-B-2', ['payments', 'orders', 'order_items', 'products', 'product_links', 'merchants', 'pay_channels']],
    ['mall', MALL_VIEWS, '999', ['trades', 'sales_orders', 'sales_order_lines']],
  ])(
    "%s: the assembler's one statement can use an index on every base table behind the views (EXPLAIN)",
    async (_name, schema, orderNo, tables) => {
      const client = await pool.connect();
      try {
        // With sequential scans priced out, a Seq Scan left in the plan means no usable index.
        await client.query('SET enable_seqscan = off');
        const sql = paymentLookupSql(schema).replace('$1', `'${orderNo}'`);
        const { rows } = await client.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${sql}`);
        const scans: Array<{ type: string; relation: string }> = [];
        const walk = (node: Record<string, unknown>): void => {
          if (typeof node['Relation Name'] === 'string') scans.push({ type: node['Node Type'] as string, relation: node['Relation Name'] });
          for (const child of (node['Plans'] as Array<Record<string, unknown>> | undefined) ?? []) walk(child);
        };
        walk(((rows[0]?.['QUERY PLAN'] as Array<{ Plan: Record<string, unknown> }>)[0] as { Plan: Record<string, unknown> }).Plan);
        expect(new Set(scans.map((s) => s.relation))).toEqual(new Set(tables));
        expect(scans.filter((s) => s.type === 'Seq Scan')).toEqual([]);
      } finally {
        await client.query('RESET enable_seqscan').catch(() => undefined);
        client.release();
      }
    },
  );
});
