import type { Pool } from 'pg';
import type { OrderGoodsRow, PaymentOrderRow, PaymentRow } from '@ceb179/protocol';

/**
 * The three source relations of docs/data-source-mapping.md §1 as plain tables, for tests and the demo.
 * A platform creates them as views over its own tables (see docs/data-source-mapping.md).
 */
export async function createSourceTables(pool: Pool, schema: string): Promise<void> {
  await pool.query(`
    CREATE SCHEMA IF NOT EXISTS ${schema};
    CREATE TABLE IF NOT EXISTS ${schema}.payment (
      pay_transaction_id text PRIMARY KEY,
      ebp_code text NOT NULL,
      pay_code text NOT NULL,
      total_amount numeric(19,5) NOT NULL,
      currency text NOT NULL,
      ver_dept text NOT NULL,
      pay_type text,
      trading_time timestamptz NOT NULL,
      initial_request text NOT NULL,
      initial_response text NOT NULL,
      note text
    );
    CREATE TABLE IF NOT EXISTS ${schema}.payment_order (
      order_no text PRIMARY KEY,
      pay_transaction_id text NOT NULL,
      recp_account text NOT NULL,
      recp_code text,
      recp_name text NOT NULL
    );
    CREATE INDEX IF NOT EXISTS payment_order_pay_idx ON ${schema}.payment_order (pay_transaction_id);
    CREATE TABLE IF NOT EXISTS ${schema}.order_goods (
      order_no text NOT NULL,
      line_no integer NOT NULL,
      gname text NOT NULL,
      item_link text NOT NULL,
      PRIMARY KEY (order_no, line_no)
    );
  `);
}

export interface SourceFixture {
  payment: PaymentRow;
  payment_order: PaymentOrderRow[];
  order_goods: OrderGoodsRow[];
}

/**
 * Inserts one payment with its orders and goods in a single transaction, as a platform's own write
 * would be: a concurrently running assembler (the replica-lag tests) sees all of it or none of it,
 * never a payment with only some of its orders or goods (which it would assemble as they are).
 */
export async function insertSource(pool: Pool, schema: string, fixture: SourceFixture): Promise<void> {
  const p = fixture.payment;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO ${schema}.payment (pay_transaction_id, ebp_code, pay_code, total_amount, currency, ver_dept,
         pay_type, trading_time, initial_request, initial_response, note)
       VALUES ($1,$2,$3,$4::numeric,$5,$6,$7,$8,$9,$10,$11)`,
      [
        p.pay_transaction_id,
        p.ebp_code,
        p.pay_code,
        p.total_amount,
        p.currency,
        p.ver_dept,
        p.pay_type,
        p.trading_time,
        p.initial_request,
        p.initial_response,
        p.note,
      ],
    );
    for (const o of fixture.payment_order) {
      await client.query(
        `INSERT INTO ${schema}.payment_order (order_no, pay_transaction_id, recp_account, recp_code, recp_name)
         VALUES ($1,$2,$3,$4,$5)`,
        [o.order_no, o.pay_transaction_id, o.recp_account, o.recp_code, o.recp_name],
      );
    }
    for (const g of fixture.order_goods) {
      await client.query(`INSERT INTO ${schema}.order_goods (order_no, line_no, gname, item_link) VALUES ($1,$2,$3,$4)`, [
        g.order_no,
        g.line_no,
        g.gname,
        g.item_link,
      ]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
