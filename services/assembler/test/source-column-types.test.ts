import { Pool } from 'pg';
import { buildPaymentDocument } from '@ceb179/protocol';
import { createTestDatabase, type TestDatabase } from '@ceb179/testkit';
import { PaymentRepository } from '../src/data-access/payment.repository';

/**
 * Platforms' views do not always use text where docs/data-source-mapping.md §1 says text: a currency of 142 or a
 * verDept of 3 often sits in an integer column. The document must still carry JSON strings.
 */
describe('source relations with non-text columns', () => {
  let db: TestDatabase;
  let pool: Pool;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url, max: 2 });
    await pool.query(`
      CREATE SCHEMA typed;
      CREATE TABLE typed.payment (pay_transaction_id bigint, ebp_code text, pay_code text, total_amount numeric(12,2),
        currency integer, ver_dept smallint, pay_type integer, trading_time timestamptz,
        initial_request jsonb, initial_response text, note text);
      CREATE TABLE typed.payment_order (order_no bigint, pay_transaction_id bigint, recp_account text, recp_code text, recp_name text);
      CREATE TABLE typed.order_goods (order_no bigint, line_no bigint, gname varchar(250), item_link text);
      INSERT INTO typed.payment VALUES (4200001234, 'EBP01', 'PAY01', 88.80, 142, 3, NULL, '2024-02-29T15:59:59Z',
        '{"out_trade_no": "T1"}', 'ok', NULL);
      INSERT INTO typed.payment_order VALUES (20240229001, 4200001234, 'ACC', NULL, 'Shop');
      INSERT INTO typed.order_goods VALUES (20240229001, 1, 'Milk', 'https://x.example/1');
    `);
  });

  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  it('reads them as the JSON strings the protocol requires', async () => {
    const lookup = await new PaymentRepository(pool, 'typed').findByOrderNo('20240229001');
    if (!lookup.found) throw new Error(lookup.reason);
    const document = buildPaymentDocument({ source: lookup.source, guid: 'A1B2C3D4-0000-4000-8000-00000000000A' });
    expect(document.headJson).toBe(
      '{"guid":"A1B2C3D4-0000-4000-8000-00000000000A","initalRequest":"{\\"out_trade_no\\": \\"T1\\"}","initalResponse":"ok",' +
        '"ebpCode":"EBP01","payCode":"PAY01","payTransactionId":"4200001234","totalAmount":88.8,"currency":"142","verDept":"3",' +
        '"payType":"","tradingTime":"20240229235959","note":""}',
    );
    expect(document.listsJson).toBe(
      '[{"orderNo":"20240229001","goodsInfo":[{"gname":"Milk","itemLink":"https://x.example/1"}],"recpAccount":"ACC","recpCode":"","recpName":"Shop"}]',
    );
  });
});
