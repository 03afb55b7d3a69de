import type { SourceFixture } from './source-data';

/**
 * Generates a payment with `orders` orders (each with two goods lines), names derived from
 * `key` so fixtures never collide. Text covers the escaping rules (quotes, backslash,
 * newline, Chinese, `& / < > =`).
 */
export function makeFixture(key: string, options: { orders?: number; ebpCode?: string; amount?: string } = {}): SourceFixture {
  const payId = `PAY-${key}`;
  const orderCount = options.orders ?? 1;
  const orderNos = Array.from({ length: orderCount }, (_, i) => `SO-${key}-${i + 1}`);
  return {
    payment: {
      pay_transaction_id: payId,
      ebp_code: options.ebpCode ?? '3301963K69',
      pay_code: '312226T001',
      total_amount: options.amount ?? '100.50',
      currency: '142',
      ver_dept: '3',
      pay_type: '1',
      trading_time: '2023-11-14T16:30:05Z',
      initial_request: `https://openapi.alipay.com/gateway.do?out_trade_no=${key}&sign=a+b/c=`,
      initial_response: '{"code":"10000","msg":"Success",\n"note":"奶粉 \\"A2\\""}',
      note: null,
    },
    payment_order: orderNos.map((orderNo) => ({
      order_no: orderNo,
      pay_transaction_id: payId,
      recp_account: 'OSA571908863132601',
      recp_code: null,
      recp_name: '云集香港有限公司',
    })),
    order_goods: orderNos.flatMap((orderNo) => [
      { order_no: orderNo, line_no: 2, gname: 'Swisse 维生素C <60粒>', item_link: `https://shop.example.cn/item?id=${orderNo}&sku=2` },
      { order_no: orderNo, line_no: 1, gname: 'Aptamil 爱他美 "Gold"', item_link: `https://shop.example.cn/item?id=${orderNo}&sku=1` },
    ]),
  };
}
