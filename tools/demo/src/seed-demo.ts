import { Pool } from 'pg';
import { createSourceTables, insertSource, makeFixture, type SourceFixture } from '@ceb179/testkit';

/**
 * Seeds the demo's source relations (CEB179_SOURCE_SCHEMA, default ceb_source) with `count`
 * orders: mostly one order per payment, every fifth payment covering two orders. Re-running
 * replaces the demo rows, so the demo can be run any number of times.
 */
export async function seedDemo(databaseUrl: string, schema: string, count: number): Promise<string[]> {
  const pool = new Pool({ connectionString: databaseUrl, max: 2 });
  try {
    await createSourceTables(pool, schema);
    await pool.query(`DELETE FROM ${schema}.order_goods WHERE order_no LIKE 'SO-demo%'`);
    await pool.query(`DELETE FROM ${schema}.payment_order WHERE order_no LIKE 'SO-demo%'`);
    await pool.query(`DELETE FROM ${schema}.payment WHERE pay_transaction_id LIKE 'PAY-demo%'`);
    const fixtures: SourceFixture[] = [];
    let orders = 0;
    for (let i = 0; orders < count; i++) {
      const two = i % 5 === 4 && count - orders >= 2;
      const amounts = ['199.00', '100.50', '0.01', '12345678901234.12345', '7'];
      fixtures.push(makeFixture(`demo${i}`, { orders: two ? 2 : 1, amount: amounts[i % amounts.length] as string }));
      orders += two ? 2 : 1;
    }
    for (const fixture of fixtures) await insertSource(pool, schema, fixture);
    return fixtures.flatMap((f) => f.payment_order.map((o) => o.order_no));
  } finally {
    await pool.end();
  }
}
