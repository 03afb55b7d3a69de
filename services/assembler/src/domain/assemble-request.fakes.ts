import type { CallbackMessage } from '@ceb179/contracts';
import type { SourcePayment } from '@ceb179/protocol';
import type { SignJob } from '../clients/sign-job.publisher';
import type { PaymentLookup } from '../data-access/payment.repository';
import type { Assembly, RequestRow } from '../data-access/request.repository';
import type { PaymentSource, RequestLedger, SignJobs } from './assemble-request.use-case';

export interface StoredRequest extends RequestRow {
  reason: string | null;
  assembly: Assembly | undefined;
}

/** The ledger's request rows in memory, with the same guards as the SQL (status = 'received'). */
export class InMemoryRequests implements RequestLedger {
  readonly rows = new Map<string, StoredRequest>();
  /** Another delivery of the same callback assembles it between this one's read and its save. */
  anotherDeliveryAssemblesFirst = false;

  ensure(message: CallbackMessage): Promise<RequestRow> {
    const existing = this.rows.get(message.sessionID);
    if (existing) return Promise.resolve({ ...existing });
    const row: StoredRequest = {
      session_id: message.sessionID,
      order_no: message.orderNo,
      status: 'received',
      guid: null,
      ebp_code: null,
      sign_string: null,
      deadline_at: new Date(message.deadline),
      reason: null,
      assembly: undefined,
    };
    this.rows.set(message.sessionID, row);
    return Promise.resolve({ ...row });
  }

  saveAssembly(sessionID: string, assembly: Assembly): Promise<boolean> {
    const row = this.rows.get(sessionID);
    if (row && this.anotherDeliveryAssemblesFirst) row.status = 'assembled';
    if (row?.status !== 'received') return Promise.resolve(false);
    Object.assign(row, {
      status: 'assembled',
      reason: null,
      guid: assembly.guid,
      ebp_code: assembly.ebpCode,
      sign_string: assembly.signString,
      assembly,
    });
    return Promise.resolve(true);
  }

  noteRetry(sessionID: string, reason: string): Promise<void> {
    const row = this.rows.get(sessionID);
    if (row?.status === 'received') row.reason = reason;
    return Promise.resolve();
  }

  markDataFault(sessionID: string, reason: string): Promise<void> {
    const row = this.rows.get(sessionID);
    if (row?.status === 'received') Object.assign(row, { status: 'data_fault', reason });
    return Promise.resolve();
  }
}

/** The source tables in memory, by orderNo; counts look-ups. */
export class InMemoryPayments implements PaymentSource {
  readonly byOrderNo = new Map<string, SourcePayment>();
  lookups = 0;

  findByOrderNo(orderNo: string): Promise<PaymentLookup> {
    this.lookups += 1;
    const source = this.byOrderNo.get(orderNo);
    return Promise.resolve(
      source ? { found: true, source: structuredClone(source) } : { found: false, reason: `order ${orderNo} is not in payment_order` },
    );
  }
}

export class RecordingSignJobs implements SignJobs {
  readonly published: SignJob[] = [];
  failWith: Error | undefined;

  publish(job: SignJob): Promise<void> {
    if (this.failWith) return Promise.reject(this.failWith);
    this.published.push(job);
    return Promise.resolve();
  }
}

/** One payment for one order, as the protocol's first golden case has it. */
export function samplePayment(orderNo: string): SourcePayment {
  return {
    payment: {
      pay_transaction_id: '2018121222001354081010726129',
      ebp_code: '3301963K69',
      pay_code: '312226T001',
      total_amount: '100.00000',
      currency: '142',
      ver_dept: '3',
      pay_type: '1',
      trading_time: '2018-12-11T20:18:03Z',
      initial_request: 'https://openapi.alipay.com/gateway.do?method=alipay.trade.pay&app_id=13580',
      initial_response: 'ok',
      note: null,
    },
    orders: [
      {
        order_no: orderNo,
        pay_transaction_id: '2018121222001354081010726129',
        recp_account: 'OSA571908863132601',
        recp_code: null,
        recp_name: 'YUNJIHONGKONGLIMITED',
      },
    ],
    goods: [{ order_no: orderNo, line_no: 1, gname: 'lhy-gnsku3', item_link: 'http://m.example.com/idc/index.html#/detail?itemId=999761' }],
  };
}
