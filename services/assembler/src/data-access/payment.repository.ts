import type { Pool } from '@ceb179/db';
import type { OrderGoodsRow, PaymentOrderRow, PaymentRow, SourcePayment } from '@ceb179/protocol';

export type PaymentLookup = { found: true; source: SourcePayment } | { found: false; reason: string };

interface LookupRow {
  pay_transaction_id: string;
  payments: PaymentRow[] | null;
  orders: PaymentOrderRow[] | null;
  goods: OrderGoodsRow[] | null;
}

/**
 * The one statement the assembler sends to the source (parameter $1 = the orderNo customs asked
 * for). Exported so that mapping tests and docs/data-source-mapping.md can run or EXPLAIN the very
 * same text against a platform's views.
 *
 * `trading_time` must be a timestamptz (docs/data-source-mapping.md §1). A `timestamp without time zone` carries no
 * zone, and `AT TIME ZONE 'UTC'` would silently read it as UTC (8 hours off for China local time):
 * any other type is passed on as its bare text, which has no offset, so the protocol library
 * reports `tradingTime` as a data fault instead of guessing a zone.
 *
 * Text columns are cast to text so a view that exposes, say, currency 142 or ver_dept 3 as an
 * integer still yields the JSON strings the protocol requires.
 */
export function paymentLookupSql(schema: string): string {
  return `
      SELECT o.pay_transaction_id,
        (SELECT json_agg(p) FROM (
           SELECT pay_transaction_id::text, ebp_code::text, pay_code::text, total_amount::text AS total_amount,
                  currency::text, ver_dept::text, pay_type::text,
                  CASE WHEN pg_typeof(trading_time) = 'timestamp with time zone'::regtype
                       THEN to_char(trading_time::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                       ELSE trading_time::text END AS trading_time,
                  initial_request::text, initial_response::text, note::text
             FROM ${schema}.payment WHERE pay_transaction_id = o.pay_transaction_id) p) AS payments,
        (SELECT json_agg(po) FROM (
           SELECT order_no::text, pay_transaction_id::text, recp_account::text, recp_code::text, recp_name::text
             FROM ${schema}.payment_order WHERE pay_transaction_id = o.pay_transaction_id) po) AS orders,
        (SELECT json_agg(g) FROM (
           SELECT g.order_no::text, g.line_no, g.gname::text, g.item_link::text
             FROM ${schema}.order_goods g
             JOIN ${schema}.payment_order po ON po.order_no = g.order_no
            WHERE po.pay_transaction_id = o.pay_transaction_id) g) AS goods
      FROM ${schema}.payment_order o
      WHERE o.order_no = $1`;
}

/**
 * Reads the payment behind an order from the three source relations (docs/data-source-mapping.md §1), which
 * may be tables or views. One round trip whatever the number of orders and goods: the
 * relations are aggregated to JSON inside Postgres. Amounts leave Postgres as text
 * (numeric::text) and times as UTC ISO text, so no binary float or local zone is involved.
 */
export class PaymentRepository {
  private readonly sql: string;

  constructor(
    private readonly pool: Pool,
    schema: string,
  ) {
    this.sql = paymentLookupSql(schema);
  }

  async findByOrderNo(orderNo: string): Promise<PaymentLookup> {
    const { rows } = await this.pool.query<LookupRow>(this.sql, [orderNo]);
    if (rows.length === 0) return { found: false, reason: `order ${orderNo} is not in payment_order` };
    if (rows.length > 1) return { found: false, reason: `order ${orderNo} has ${rows.length} rows in payment_order` };
    const row = rows[0] as LookupRow;
    const payments = row.payments ?? [];
    if (payments.length === 0) return { found: false, reason: `payment ${row.pay_transaction_id} of order ${orderNo} is not in payment` };
    if (payments.length > 1) return { found: false, reason: `payment ${row.pay_transaction_id} has ${payments.length} rows in payment` };
    const goods = row.goods ?? [];
    if (!goods.some((g) => g.order_no === orderNo)) return { found: false, reason: `order ${orderNo} has no rows in order_goods` };
    return { found: true, source: { payment: payments[0] as PaymentRow, orders: row.orders ?? [], goods } };
  }
}
