import { AppError } from '@ceb179/errors';
import { buildPaymentDocument, type SourcePayment } from './index';
import { loadGoldenVectors, sourceOf } from './testing/golden-vectors';

const vectors = loadGoldenVectors();
const [single, twoOrders] = vectors.cases as [(typeof vectors.cases)[0], (typeof vectors.cases)[0]];

function faultsOf(source: SourcePayment, guid = twoOrders.guid): Array<{ field: string; problem: string }> {
  try {
    buildPaymentDocument({ source, guid });
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    const e = error as AppError;
    expect(e.code).toBe('DATA_FAULT');
    expect(e.message).toBe('payment document breaks protocol rules');
    return e.fields;
  }
  throw new Error('buildPaymentDocument did not throw');
}

describe('buildPaymentDocument: golden cases', () => {
  it.each(vectors.cases.map((c) => [c.name, c]))('%s', (_name, golden) => {
    const document = buildPaymentDocument({ source: sourceOf(golden), guid: golden.guid });
    expect(document.headJson).toBe(golden.expected.headJson);
    expect(document.listsJson).toBe(golden.expected.listsJson);
    expect(document.ebpCode).toBe(golden.source.payment.ebp_code);
  });

  it('lists the orders sorted by order_no', () => {
    expect(buildPaymentDocument({ source: sourceOf(twoOrders), guid: twoOrders.guid }).orderNos).toEqual(['ORD-A-1', 'ORD-B-2']);
  });

  it('does not reorder the caller rows', () => {
    const source = sourceOf(twoOrders);
    buildPaymentDocument({ source, guid: twoOrders.guid });
    expect(source.orders.map((o) => o.order_no)).toEqual(['ORD-B-2', 'ORD-A-1']);
  });

  it('takes trading_time as a Date as pg returns it', () => {
    const source = sourceOf(single);
    source.payment.trading_time = new Date('2018-12-11T20:18:03Z');
    expect(buildPaymentDocument({ source, guid: single.guid }).headJson).toBe(single.expected.headJson);
  });

  it('formats tradingTime in the given zone', () => {
    const document = buildPaymentDocument({ source: sourceOf(twoOrders), guid: twoOrders.guid, timeZone: 'UTC' });
    expect(document.headJson).toContain('"tradingTime":"20231114163000"');
  });

  it('sorts by code units, not locale', () => {
    const source = sourceOf(twoOrders);
    const [b, a] = source.orders as [SourcePayment['orders'][0], SourcePayment['orders'][0]];
    b.order_no = 'a-lower';
    a.order_no = 'Z-upper';
    for (const line of source.goods) line.order_no = line.order_no === 'ORD-B-2' ? 'a-lower' : 'Z-upper';
    expect(buildPaymentDocument({ source, guid: twoOrders.guid }).orderNos).toEqual(['Z-upper', 'a-lower']);
  });

  it('writes a huge amount exactly', () => {
    const source = sourceOf(single);
    source.payment.total_amount = '12345678901234.12345';
    expect(buildPaymentDocument({ source, guid: single.guid }).headJson).toContain('"totalAmount":12345678901234.12345,');
  });

  it('never emits null', () => {
    const document = buildPaymentDocument({ source: sourceOf(twoOrders), guid: twoOrders.guid });
    expect(document.headJson + document.listsJson).not.toContain('null');
  });

  it('measures lengths in characters, not UTF-16 units or bytes', () => {
    const source = sourceOf(single);
    (source.goods[0] as SourcePayment['goods'][0]).gname = '奶'.repeat(249) + '😀';
    expect(() => buildPaymentDocument({ source, guid: single.guid })).not.toThrow();
  });
});

describe('buildPaymentDocument: data faults, field by field', () => {
  it('reports an over-long gname with its position in the lists', () => {
    const source = sourceOf(single);
    // goods[0] is line_no 2, i.e. goodsInfo[1] once sorted.
    (source.goods[0] as SourcePayment['goods'][0]).gname = 'g'.repeat(251);
    expect(faultsOf(source, single.guid)).toEqual([
      { field: 'payExchangeInfoLists[0].goodsInfo[1].gname', problem: 'longer than 250 characters (251)' },
    ]);
  });

  it('accepts a gname of exactly 250 characters', () => {
    const source = sourceOf(single);
    (source.goods[0] as SourcePayment['goods'][0]).gname = 'g'.repeat(250);
    expect(() => buildPaymentDocument({ source, guid: single.guid })).not.toThrow();
  });

  it('collects every fault into one error', () => {
    const source = sourceOf(twoOrders);
    source.payment.ver_dept = '4';
    source.payment.total_amount = '1.123456';
    source.goods = source.goods.filter((g) => g.order_no !== 'ORD-B-2');
    (source.goods[0] as SourcePayment['goods'][0]).gname = 'x'.repeat(251);
    expect(faultsOf(source, twoOrders.guid.toLowerCase())).toEqual([
      { field: 'payExchangeInfoHead.guid', problem: 'must be an uppercase UUID (has lowercase letters)' },
      { field: 'payExchangeInfoHead.totalAmount', problem: 'has more than 5 fraction digits (6)' },
      { field: 'payExchangeInfoHead.verDept', problem: 'must be one of 1, 2, 3 (got "4")' },
      { field: 'payExchangeInfoLists[0].goodsInfo[0].gname', problem: 'longer than 250 characters (251)' },
      { field: 'payExchangeInfoLists[1].goodsInfo', problem: 'the order has no goods (no order_goods row)' },
    ]);
  });

  it.each([
    ['9d55ba71-55de-41f4-8b50-c36c83b3b419', /uppercase/],
    ['9D55BA7155DE41F48B50C36C83B3B419', /hyphens/],
    ['{9D55BA71-55DE-41F4-8B50-C36C83B3B419}', /uppercase UUID/],
    ['', /uppercase UUID/],
  ])('rejects guid %j', (guid, problem) => {
    const [fault] = faultsOf(sourceOf(single), guid);
    expect(fault?.field).toBe('payExchangeInfoHead.guid');
    expect(fault?.problem).toMatch(problem);
  });

  it.each(['0', '4', 'A', ''])('rejects verDept %j', (verDept) => {
    const source = sourceOf(single);
    source.payment.ver_dept = verDept;
    expect(faultsOf(source, single.guid).map((f) => f.field)).toEqual(['payExchangeInfoHead.verDept']);
  });

  it('reports a two-character verDept once', () => {
    const source = sourceOf(single);
    source.payment.ver_dept = '12';
    expect(faultsOf(source, single.guid)).toEqual([{ field: 'payExchangeInfoHead.verDept', problem: 'longer than 1 characters (2)' }]);
  });

  it.each([null, '', '1', '2', '3', '4'])('accepts payType %j', (payType) => {
    const source = sourceOf(single);
    source.payment.pay_type = payType;
    const head = buildPaymentDocument({ source, guid: single.guid }).headJson;
    expect(head).toContain(`"payType":"${payType ?? ''}"`);
  });

  it.each(['0', '5', ' '])('rejects payType %j', (payType) => {
    const source = sourceOf(single);
    source.payment.pay_type = payType;
    expect(faultsOf(source, single.guid).map((f) => f.field)).toEqual(['payExchangeInfoHead.payType']);
  });

  it('checks currency length and presence', () => {
    const source = sourceOf(single);
    source.payment.currency = '14200';
    expect(faultsOf(source, single.guid)).toEqual([{ field: 'payExchangeInfoHead.currency', problem: 'longer than 4 characters (5)' }]);
    source.payment.currency = '';
    expect(faultsOf(source, single.guid)).toEqual([{ field: 'payExchangeInfoHead.currency', problem: 'is required but empty' }]);
  });

  it('requires the mandatory head fields', () => {
    const source = sourceOf(single);
    source.payment.initial_request = '';
    source.payment.initial_response = '   ';
    source.payment.ebp_code = null as unknown as string;
    expect(faultsOf(source, single.guid)).toEqual([
      { field: 'payExchangeInfoHead.initalRequest', problem: 'is required but empty' },
      { field: 'payExchangeInfoHead.initalResponse', problem: 'is required but blank' },
      { field: 'payExchangeInfoHead.ebpCode', problem: 'is required but missing' },
    ]);
  });

  it('checks the head maximum lengths', () => {
    const source = sourceOf(single);
    source.payment.initial_request = 'r'.repeat(8001);
    source.payment.pay_transaction_id = 't'.repeat(61);
    for (const order of source.orders) order.pay_transaction_id = source.payment.pay_transaction_id;
    source.payment.note = 'n'.repeat(1001);
    expect(faultsOf(source, single.guid)).toEqual([
      { field: 'payExchangeInfoHead.initalRequest', problem: 'longer than 8000 characters (8001)' },
      { field: 'payExchangeInfoHead.payTransactionId', problem: 'longer than 60 characters (61)' },
      { field: 'payExchangeInfoHead.note', problem: 'longer than 1000 characters (1001)' },
    ]);
  });

  it('checks the order fields', () => {
    const source = sourceOf(single);
    const order = source.orders[0] as SourcePayment['orders'][0];
    order.recp_account = '';
    order.recp_code = 'c'.repeat(19);
    order.recp_name = 'n'.repeat(101);
    (source.goods[1] as SourcePayment['goods'][0]).item_link = '';
    expect(faultsOf(source, single.guid)).toEqual([
      { field: 'payExchangeInfoLists[0].goodsInfo[0].itemLink', problem: 'is required but empty' },
      { field: 'payExchangeInfoLists[0].recpAccount', problem: 'is required but empty' },
      { field: 'payExchangeInfoLists[0].recpCode', problem: 'longer than 18 characters (19)' },
      { field: 'payExchangeInfoLists[0].recpName', problem: 'longer than 100 characters (101)' },
    ]);
  });

  it('reports an order without goods', () => {
    const source = sourceOf(single);
    source.goods = [];
    expect(faultsOf(source, single.guid)).toEqual([
      { field: 'payExchangeInfoLists[0].goodsInfo', problem: 'the order has no goods (no order_goods row)' },
    ]);
  });

  it('reports a payment without orders', () => {
    const source = sourceOf(single);
    source.orders = [];
    const faults = faultsOf(source, single.guid);
    expect(faults[0]).toEqual({ field: 'payExchangeInfoLists', problem: 'the payment has no order (no payment_order row)' });
  });

  it('reports a missing payment row', () => {
    const source = sourceOf(single);
    source.payment = null as unknown as SourcePayment['payment'];
    expect(faultsOf(source, single.guid)).toEqual([{ field: 'payExchangeInfoHead', problem: 'the order has no payment (no payment row)' }]);
  });

  it('reports an order of another payment and goods of an unknown order', () => {
    const source = sourceOf(twoOrders);
    (source.orders[0] as SourcePayment['orders'][0]).pay_transaction_id = 'other';
    source.goods.push({ order_no: 'ORD-C-3', line_no: 1, gname: 'x', item_link: 'y' });
    const faults = faultsOf(source, twoOrders.guid);
    expect(faults.map((f) => f.field)).toEqual(['payExchangeInfoLists', 'payExchangeInfoLists[1].orderNo']);
    expect(faults[0]?.problem).toMatch(/ORD-C-3/);
    expect(faults[1]?.problem).toMatch(/belongs to payment "other"/);
  });

  it('reports duplicate orders and duplicate line numbers instead of guessing an order', () => {
    const source = sourceOf(single);
    for (const line of source.goods) line.line_no = 1;
    source.orders.push({ ...(source.orders[0] as SourcePayment['orders'][0]) });
    const fields = faultsOf(source, single.guid).map((f) => f.field);
    expect(fields).toContain('payExchangeInfoLists[1].orderNo');
    expect(fields).toContain('payExchangeInfoLists[0].goodsInfo[1]');
  });

  it('reports a trading time without offset as a data fault', () => {
    const source = sourceOf(single);
    source.payment.trading_time = '2018-12-11 20:18:03';
    const [fault] = faultsOf(source, single.guid);
    expect(fault?.field).toBe('payExchangeInfoHead.tradingTime');
  });

  it('lets a bad time zone through as configuration', () => {
    expect(() => buildPaymentDocument({ source: sourceOf(single), guid: single.guid, timeZone: 'Nowhere/Land' })).toThrow(
      expect.objectContaining({ code: 'CONFIG' }),
    );
  });
});
