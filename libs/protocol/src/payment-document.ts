import { AppError, isAppError, type FieldFault } from '@ceb179/errors';
import { checkAmount } from './amount';
import { MAX_LENGTH, PAY_TYPE_VALUES, VER_DEPT_VALUES } from './document-shape';
import { DEFAULT_TIME_ZONE, formatTradingTime } from './trading-time';

/** Rows of the source relations, as docs/data-source-mapping.md §1 names them (pg returns numeric as text). */
export interface PaymentRow {
  pay_transaction_id: string;
  ebp_code: string;
  pay_code: string;
  total_amount: string;
  currency: string;
  ver_dept: string;
  pay_type: string | null;
  trading_time: Date | string;
  initial_request: string;
  initial_response: string;
  note: string | null;
}

export interface PaymentOrderRow {
  order_no: string;
  pay_transaction_id: string;
  recp_account: string;
  recp_code: string | null;
  recp_name: string;
}

export interface OrderGoodsRow {
  order_no: string;
  line_no: number;
  gname: string;
  item_link: string;
}

export interface SourcePayment {
  payment: PaymentRow;
  orders: PaymentOrderRow[];
  goods: OrderGoodsRow[];
}

export interface PaymentDocument {
  /** Serialise once, keep this text: it is spliced verbatim into the sign string and the upload (§3 rule 5). */
  headJson: string;
  listsJson: string;
  ebpCode: string;
  /** The orders covered, in the order of payExchangeInfoLists. */
  orderNos: string[];
}

const HEAD = 'payExchangeInfoHead';
const LISTS = 'payExchangeInfoLists';
const UPPERCASE_UUID = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;

/** Faults are collected, not thrown one by one, so an operator fixes the source data in one pass. */
class Faults {
  readonly list: FieldFault[] = [];

  add(field: string, problem: string): void {
    this.list.push({ field, problem });
  }

  /**
   * Returns the text to emit, or '' after recording a fault. Optional nulls become '' (§3 rule 9);
   * nothing is trimmed or cut: the data is what the platform recorded.
   */
  text(field: string, value: unknown, max: number, required: boolean): string {
    if (value === null || value === undefined) {
      if (required) this.add(field, 'is required but missing');
      return '';
    }
    if (typeof value !== 'string') {
      this.add(field, `is not text (${typeof value})`);
      return '';
    }
    if (required && value.trim() === '') {
      this.add(field, value === '' ? 'is required but empty' : 'is required but blank');
      return value;
    }
    const length = characterCount(value);
    if (length > max) this.add(field, `longer than ${max} characters (${length})`);
    return value;
  }

  oneOf(field: string, value: string, allowed: readonly string[]): void {
    if (!allowed.includes(value)) {
      const shown = allowed.map((v) => (v === '' ? '""' : v)).join(', ');
      this.add(field, `must be one of ${shown} (got ${shortQuote(value)})`);
    }
  }
}

/** The protocol's limits are in characters; a CJK gname must not be measured in UTF-16 units or bytes. */
export function characterCount(value: string): number {
  let count = 0;
  for (const _ of value) count++;
  return count;
}

function shortQuote(value: string): string {
  return JSON.stringify(value.length > 32 ? `${value.slice(0, 32)}…` : value);
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function objectText(entries: Array<[string, string]>): string {
  return `{${entries.map(([key, raw]) => `${JSON.stringify(key)}:${raw}`).join(',')}}`;
}

/**
 * Builds head and lists JSON text for one payment (docs/protocol.md §2/§3, docs/data-source-mapping.md §1),
 * or throws one AppError('DATA_FAULT') listing every broken field. Nothing is truncated or guessed.
 */
export function buildPaymentDocument(input: { source: SourcePayment; guid: string; timeZone?: string }): PaymentDocument {
  const { source, guid } = input;
  const timeZone = input.timeZone ?? DEFAULT_TIME_ZONE;
  const faults = new Faults();
  const payment = source.payment;
  if (payment === null || typeof payment !== 'object') {
    throw new AppError('DATA_FAULT', 'payment document breaks protocol rules', {
      fields: [{ field: HEAD, problem: 'the order has no payment (no payment row)' }],
    });
  }

  if (typeof guid !== 'string' || !UPPERCASE_UUID.test(guid)) {
    const lowercase = typeof guid === 'string' && UPPERCASE_UUID.test(guid.toUpperCase());
    faults.add(`${HEAD}.guid`, lowercase ? 'must be an uppercase UUID (has lowercase letters)' : 'must be an uppercase UUID with hyphens');
  }
  const initalRequest = faults.text(`${HEAD}.initalRequest`, payment.initial_request, MAX_LENGTH.initalRequest, true);
  const initalResponse = faults.text(`${HEAD}.initalResponse`, payment.initial_response, MAX_LENGTH.initalResponse, true);
  const ebpCode = faults.text(`${HEAD}.ebpCode`, payment.ebp_code, MAX_LENGTH.ebpCode, true);
  const payCode = faults.text(`${HEAD}.payCode`, payment.pay_code, MAX_LENGTH.payCode, true);
  const payTransactionId = faults.text(`${HEAD}.payTransactionId`, payment.pay_transaction_id, MAX_LENGTH.payTransactionId, true);

  const amount = checkAmount(payment.total_amount);
  if (!amount.ok) faults.add(`${HEAD}.totalAmount`, amount.problem);

  const currency = faults.text(`${HEAD}.currency`, payment.currency, MAX_LENGTH.currency, true);
  const verDept = faults.text(`${HEAD}.verDept`, payment.ver_dept, MAX_LENGTH.verDept, true);
  // Enumerations are checked only where the length was right, so one bad value is reported once.
  if (verDept.trim() !== '' && characterCount(verDept) <= MAX_LENGTH.verDept) {
    faults.oneOf(`${HEAD}.verDept`, verDept, VER_DEPT_VALUES);
  }
  const payType = faults.text(`${HEAD}.payType`, payment.pay_type, MAX_LENGTH.payType, false);
  if (characterCount(payType) <= MAX_LENGTH.payType) faults.oneOf(`${HEAD}.payType`, payType, PAY_TYPE_VALUES);

  let tradingTime = '';
  try {
    tradingTime = formatTradingTime(payment.trading_time, timeZone);
  } catch (error) {
    // A bad time zone is configuration, not data: let it through as it is.
    if (!isAppError(error) || error.code !== 'DATA_FAULT') throw error;
    for (const f of error.fields) faults.add(`${HEAD}.tradingTime`, f.problem);
  }
  const note = faults.text(`${HEAD}.note`, payment.note, MAX_LENGTH.note, false);

  const lists = buildLists(source, str(payment.pay_transaction_id), faults);

  if (faults.list.length > 0) {
    throw new AppError('DATA_FAULT', 'payment document breaks protocol rules', { fields: faults.list });
  }

  const headJson = objectText([
    ['guid', JSON.stringify(guid)],
    ['initalRequest', JSON.stringify(initalRequest)],
    ['initalResponse', JSON.stringify(initalResponse)],
    ['ebpCode', JSON.stringify(ebpCode)],
    ['payCode', JSON.stringify(payCode)],
    ['payTransactionId', JSON.stringify(payTransactionId)],
    // A bare JSON number, from exact text (§3 rule 6): never through a float.
    ['totalAmount', amount.ok ? amount.json : '0'],
    ['currency', JSON.stringify(currency)],
    ['verDept', JSON.stringify(verDept)],
    ['payType', JSON.stringify(payType)],
    ['tradingTime', JSON.stringify(tradingTime)],
    ['note', JSON.stringify(note)],
  ]);
  return { headJson, listsJson: lists.json, ebpCode, orderNos: lists.orderNos };
}

function buildLists(source: SourcePayment, payTransactionId: string, faults: Faults): { json: string; orderNos: string[] } {
  const orders = Array.isArray(source.orders) ? source.orders : [];
  const goods = Array.isArray(source.goods) ? source.goods : [];
  if (orders.length === 0) faults.add(LISTS, 'the payment has no order (no payment_order row)');

  const sortedOrders = [...orders].sort((a, b) => byCodeUnits(str(a.order_no), str(b.order_no)));
  const knownOrderNos = new Set(sortedOrders.map((o) => str(o.order_no)));
  const goodsByOrder = new Map<string, OrderGoodsRow[]>();
  for (const line of goods) {
    const orderNo = str(line.order_no);
    if (!knownOrderNos.has(orderNo)) {
      faults.add(
        LISTS,
        `goods line ${String(line.line_no)} belongs to order ${shortQuote(orderNo)}, which is not an order of this payment`,
      );
      continue;
    }
    const lines = goodsByOrder.get(orderNo) ?? [];
    lines.push(line);
    goodsByOrder.set(orderNo, lines);
  }

  const seen = new Set<string>();
  const items: string[] = [];
  for (const [i, order] of sortedOrders.entries()) {
    const at = `${LISTS}[${i}]`;
    const orderNo = faults.text(`${at}.orderNo`, order.order_no, MAX_LENGTH.orderNo, true);
    if (orderNo !== '' && seen.has(orderNo)) faults.add(`${at}.orderNo`, `duplicate order ${shortQuote(orderNo)}`);
    seen.add(orderNo);
    if (order.pay_transaction_id !== payTransactionId) {
      faults.add(
        `${at}.orderNo`,
        `order ${shortQuote(orderNo)} belongs to payment ${shortQuote(str(order.pay_transaction_id))}, not to this payment`,
      );
    }

    const lines = [...(goodsByOrder.get(orderNo) ?? [])].sort((a, b) => a.line_no - b.line_no);
    if (lines.length === 0) faults.add(`${at}.goodsInfo`, 'the order has no goods (no order_goods row)');
    const lineNos = new Set<number>();
    const goodsItems: string[] = [];
    for (const [j, line] of lines.entries()) {
      const lineAt = `${at}.goodsInfo[${j}]`;
      if (!Number.isSafeInteger(line.line_no)) {
        faults.add(lineAt, `line_no is not an integer (${String(line.line_no)})`);
      } else if (lineNos.has(line.line_no)) {
        faults.add(lineAt, `duplicate line_no ${line.line_no}: the goods order would be a guess`);
      }
      lineNos.add(line.line_no);
      const gname = faults.text(`${lineAt}.gname`, line.gname, MAX_LENGTH.gname, true);
      const itemLink = faults.text(`${lineAt}.itemLink`, line.item_link, MAX_LENGTH.itemLink, true);
      goodsItems.push(
        objectText([
          ['gname', JSON.stringify(gname)],
          ['itemLink', JSON.stringify(itemLink)],
        ]),
      );
    }

    const recpAccount = faults.text(`${at}.recpAccount`, order.recp_account, MAX_LENGTH.recpAccount, true);
    const recpCode = faults.text(`${at}.recpCode`, order.recp_code, MAX_LENGTH.recpCode, false);
    const recpName = faults.text(`${at}.recpName`, order.recp_name, MAX_LENGTH.recpName, true);
    items.push(
      objectText([
        ['orderNo', JSON.stringify(orderNo)],
        ['goodsInfo', `[${goodsItems.join(',')}]`],
        ['recpAccount', JSON.stringify(recpAccount)],
        ['recpCode', JSON.stringify(recpCode)],
        ['recpName', JSON.stringify(recpName)],
      ]),
    );
  }
  return { json: `[${items.join(',')}]`, orderNos: sortedOrders.map((o) => str(o.order_no)) };
}
