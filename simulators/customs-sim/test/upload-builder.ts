import { randomUUID } from 'node:crypto';
import { buildPayExInfoStr, buildPaymentDocument, buildSignString, buildUploadFormBody, type SourcePayment } from '@ceb179/protocol';
import type { SoftCard } from '@ceb179/eport-sim';

export const EBP_CODE = '4403160Z9A';

/** One payment covering two orders, with the characters that break naive encoders (CJK, &, +, /, quotes). */
export function samplePayment(ebpCode = EBP_CODE): SourcePayment {
  return {
    payment: {
      pay_transaction_id: 'T2024010100001',
      ebp_code: ebpCode,
      pay_code: '31222699S7',
      total_amount: '1234.50',
      currency: '142',
      ver_dept: '3',
      pay_type: null,
      trading_time: new Date('2024-01-01T04:05:06Z'),
      initial_request: 'a=1&b=2+3&sign=ab/cd==',
      initial_response: '{"code":"SUCCESS","msg":"支付成功"}',
      note: null,
    },
    orders: [
      {
        order_no: 'O-2',
        pay_transaction_id: 'T2024010100001',
        recp_account: '6222000000000002',
        recp_code: null,
        recp_name: '深圳某某公司',
      },
      {
        order_no: 'O-1',
        pay_transaction_id: 'T2024010100001',
        recp_account: '6222000000000001',
        recp_code: '91440300MA5F000000',
        recp_name: '深圳某某公司',
      },
    ],
    goods: [
      { order_no: 'O-1', line_no: 1, gname: '婴儿奶粉 "金装" 900g', item_link: 'https://shop.example/item?id=1&sku=2' },
      { order_no: 'O-2', line_no: 1, gname: '面霜', item_link: 'https://shop.example/item?id=3;https://shop.example/item?id=4' },
    ],
  };
}

export interface BuiltUpload {
  sessionID: string;
  headJson: string;
  listsJson: string;
  serviceTime: string;
  signString: string;
  signValue: string;
  certNo: string;
  payExInfoStr: string;
  formBody: string;
}

export function buildUpload(card: SoftCard, options: { sessionID?: string; ebpCode?: string; certNo?: string } = {}): BuiltUpload {
  const document = buildPaymentDocument({ source: samplePayment(options.ebpCode), guid: randomUUID().toUpperCase() });
  const sessionID = options.sessionID ?? `sess-${randomUUID()}`;
  const serviceTime = String(Date.now());
  const signString = buildSignString({ sessionID, headJson: document.headJson, listsJson: document.listsJson, serviceTime });
  const signValue = card.sign(signString);
  const certNo = options.certNo ?? card.certNo;
  const payExInfoStr = buildPayExInfoStr({
    sessionID,
    headJson: document.headJson,
    listsJson: document.listsJson,
    serviceTime,
    certNo,
    signValue,
  });
  return {
    sessionID,
    headJson: document.headJson,
    listsJson: document.listsJson,
    serviceTime,
    signString,
    signValue,
    certNo,
    payExInfoStr,
    formBody: buildUploadFormBody(payExInfoStr),
  };
}

export interface PostResult {
  status: number;
  contentType: string;
  text: string;
  json: unknown;
}

export async function post(url: string, body: string, contentType = 'application/x-www-form-urlencoded'): Promise<PostResult> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text, json };
}
