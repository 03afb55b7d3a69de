import { Pool } from 'pg';
import { SCHEMA_VERSION, type CallbackMessage, type SignJobMessage } from '@ceb179/contracts';
import { migrate } from '@ceb179/db';
import { createLogger } from '@ceb179/logger';
import { createSourceTables, createTestDatabase, insertSource, type SourceFixture, type TestDatabase } from '@ceb179/testkit';
import type { SignJobPublisher } from '../src/clients/sign-job.publisher';
import { PaymentRepository } from '../src/data-access/payment.repository';
import { RequestRepository } from '../src/data-access/request.repository';
import { AssembleRequest } from '../src/domain/assemble-request.use-case';

/**
 * docs/data-source-mapping.md §2: the look-up costs "a bounded number of round trips per request whatever the
 * number of orders or goods". The assembler's domain service runs here on real Postgres with both
 * of its pools wrapped, counting every query() (one pg query = one round trip) and every connect()
 * (a checked-out client could send queries the count would miss).
 */
const SCHEMA = 'platform_src';
const logger = createLogger({ service: 'test', level: 'silent' });

interface CountingPool {
  pool: Pool;
  queries: string[];
  connects: number;
}

function counting(pool: Pool): CountingPool {
  const counted: CountingPool = { pool, queries: [], connects: 0 };
  counted.pool = new Proxy(pool, {
    get(target, property) {
      if (property === 'query') {
        return (...args: unknown[]) => {
          const first = args[0] as string | { text?: string };
          counted.queries.push(typeof first === 'string' ? first : String(first.text));
          return (target.query as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      if (property === 'connect') {
        return (...args: unknown[]) => {
          counted.connects += 1;
          return (target.connect as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return counted;
}

/** A payment with `orders` orders of `lines` goods lines each. */
function payment(key: string, orders: number, lines: number): SourceFixture {
  const payId = `PAY-${key}`;
  const orderNos = Array.from({ length: orders }, (_, i) => `SO-${key}-${String(i + 1).padStart(2, '0')}`);
  return {
    payment: {
      pay_transaction_id: payId,
      ebp_code: '3301963K69',
      pay_code: '312226T001',
      total_amount: '1999.99',
      currency: '142',
      ver_dept: '3',
      pay_type: '1',
      trading_time: '2023-11-14T16:30:05Z',
      initial_request: `out_trade_no=${key}`,
      initial_response: '{"code":"10000"}',
      note: null,
    },
    payment_order: orderNos.map((orderNo) => ({
      order_no: orderNo,
      pay_transaction_id: payId,
      recp_account: 'OSA571908863132601',
      recp_code: null,
      recp_name: '云集香港有限公司',
    })),
    order_goods: orderNos.flatMap((orderNo) =>
      Array.from({ length: lines }, (_, j) => ({
        order_no: orderNo,
        line_no: j + 1,
        gname: `商品 ${orderNo} #${j + 1}`,
        item_link: `https://shop.example.cn/item?order=${orderNo}&line=${j + 1}`,
      })),
    ),
  };
}

function message(sessionID: string, orderNo: string): CallbackMessage {
  const receivedAt = new Date();
  return {
    v: SCHEMA_VERSION,
    sessionID,
    orderNo,
    customsServiceTime: null,
    receivedAt: receivedAt.toISOString(),
    deadline: new Date(receivedAt.getTime() + 120_000).toISOString(),
  };
}

describe('assembler round trips per request (real Postgres, counted at the pools)', () => {
  let db: TestDatabase;
  let pool: Pool;
  let ledger: CountingPool;
  let source: CountingPool;
  const published: SignJobMessage[] = [];
  let assemble: AssembleRequest;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url, max: 4 });
    await migrate(pool);
    await createSourceTables(pool, SCHEMA);
    await insertSource(pool, SCHEMA, payment('small', 1, 1));
    await insertSource(pool, SCHEMA, payment('big', 20, 10));
    ledger = counting(pool);
    source = counting(pool);
    const signJobs = { publish: async (job: SignJobMessage) => void published.push(job) } as unknown as SignJobPublisher;
    assemble = new AssembleRequest(
      new RequestRepository(ledger.pool),
      new PaymentRepository(source.pool, SCHEMA),
      signJobs,
      { timeZone: 'Asia/Shanghai', lookupRetries: 2, lookupRetryDelayMs: 1_000 },
      logger,
    );
  });

  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  async function measure(sessionID: string, orderNo: string, retries = 0) {
    ledger.queries.length = 0;
    source.queries.length = 0;
    ledger.connects = 0;
    source.connects = 0;
    const outcome = await assemble.run(message(sessionID, orderNo), retries);
    return {
      outcome,
      ledger: ledger.queries.length,
      source: source.queries.length,
      connects: ledger.connects + source.connects,
      sourceSql: [...source.queries],
    };
  }

  it('costs the same queries for 1 order with 1 goods line as for 20 orders with 10 goods lines each: one source query', async () => {
    const small = await measure('rt-small', 'SO-small-01');
    const big = await measure('rt-big', 'SO-big-07');
    expect(small.outcome).toEqual({ kind: 'ack' });
    expect(big.outcome).toEqual({ kind: 'ack' });

    // Both were really assembled, the big one with all 20 x 10 lines.
    const { rows } = await pool.query<{ session_id: string; status: string; lists_json: string }>(
      "SELECT session_id, status, lists_json FROM ceb179.request WHERE session_id IN ('rt-small', 'rt-big') ORDER BY session_id",
    );
    expect(rows.map((r) => r.status)).toEqual(['assembled', 'assembled']);
    const lists = JSON.parse(rows[0]!.lists_json) as Array<{ orderNo: string; goodsInfo: unknown[] }>;
    expect(lists).toHaveLength(20);
    expect(lists.every((l) => l.goodsInfo.length === 10)).toBe(true);
    expect(JSON.parse(rows[1]!.lists_json)).toHaveLength(1);
    expect(published.map((j) => j.sessionID)).toEqual(['rt-small', 'rt-big']);

    expect(big.source).toBe(small.source);
    expect(big.ledger).toBe(small.ledger);
    expect(small.source).toBe(1); // the one aggregated statement
    expect(small.ledger).toBe(2); // read-or-create the ledger row, store the assembly
    expect(small.connects + big.connects).toBe(0); // nothing bypassed the counted query()
    expect(big.sourceSql[0]).toContain(`FROM ${SCHEMA}.payment_order o`);
  });

  it('a data fault and a missing order cost no more: one source query per look-up', async () => {
    const missing = await measure('rt-missing', 'SO-none');
    expect(missing.outcome).toMatchObject({ kind: 'retry' });
    expect(missing.source).toBe(1);
    expect(missing.connects).toBe(0);

    await pool.query(`UPDATE ${SCHEMA}.order_goods SET gname = repeat('x', 251) WHERE order_no = 'SO-big-20' AND line_no = 10`);
    const fault = await measure('rt-fault', 'SO-big-01');
    expect(fault.outcome).toEqual({ kind: 'ack' });
    expect(fault.source).toBe(1);
    expect(fault.ledger).toBe(2); // read-or-create, mark data_fault
    const { rows } = await pool.query<{ status: string; reason: string }>(
      "SELECT status, reason FROM ceb179.request WHERE session_id = 'rt-fault'",
    );
    expect(rows[0]).toEqual({
      status: 'data_fault',
      reason: 'payment document breaks protocol rules: payExchangeInfoLists[19].goodsInfo[9].gname longer than 250 characters (251)',
    });
  });
});
