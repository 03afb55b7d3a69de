import { randomUUID } from 'node:crypto';
import { parseCertificate } from '@ceb179/protocol';
import { waitFor, type SourceFixture } from '@ceb179/testkit';
import type { UploadRecord } from '@ceb179/customs-sim';
import { ledgerRow, startPipeline, type Pipeline } from './pipeline-harness';

/**
 * Awkward but legal data, through the whole pipeline (ingress, assembler, signer, reporter as real
 * processes; customs and the card simulated): Chinese text, quotes, backslashes, newlines, tabs and
 * CR in the raw payment texts, `/ < > & =` in links, amounts at both ends of N19,5, nulls, a
 * three-order payment, trading times just after midnight in China, a leap day, the 250-character
 * gname limit. Every expected head and lists JSON below is written out by hand, byte for byte;
 * only the guid (random per upload) is spliced in.
 */

interface UploadCase {
  name: string;
  fixture: SourceFixture;
  /** The order customs asks for. */
  orderNo: string;
  head: (guid: string) => string;
  lists: string;
}

const EBP = '3301963K69';
const RECP_CN = '深圳市某某跨境电子商务有限公司';

/** One payment, one order, one goods line; the fields a case does not care about are plain. */
function single(
  key: string,
  payment: Partial<SourceFixture['payment']>,
  goods: { gname: string; item_link: string },
  recp: { recp_code?: string | null; recp_name?: string } = {},
): SourceFixture {
  const payId = payment.pay_transaction_id as string;
  return {
    payment: {
      pay_transaction_id: payId,
      ebp_code: EBP,
      pay_code: '312226T001',
      total_amount: '1',
      currency: '142',
      ver_dept: '3',
      pay_type: '1',
      trading_time: '2023-11-14T08:00:00Z',
      initial_request: `req-${key}`,
      initial_response: `resp-${key}`,
      note: null,
      ...payment,
    },
    payment_order: [
      {
        order_no: `TRK-${key}-1`,
        pay_transaction_id: payId,
        recp_account: 'OSA571908863132601',
        recp_code: recp.recp_code === undefined ? null : recp.recp_code,
        recp_name: recp.recp_name ?? 'YUNJIHONGKONGLIMITED',
      },
    ],
    order_goods: [{ order_no: `TRK-${key}-1`, line_no: 1, ...goods }],
  };
}

const ESCAPES: UploadCase = {
  name: 'Chinese, quotes, backslashes, newline/tab/CR in initalResponse, XML request, / < > & = in links, 100.50, nulls, 00:00:01 China time',
  orderNo: 'TRK-A-1',
  fixture: {
    payment: {
      pay_transaction_id: '4200001234202311140000000001',
      ebp_code: EBP,
      pay_code: '4403169D3W',
      total_amount: '100.50',
      currency: '142',
      ver_dept: '2',
      pay_type: null,
      trading_time: '2023-11-14T16:00:01Z',
      initial_request:
        '<xml><appid>wx2421b1c4370ec43b</appid><body>爱他美奶粉 "Gold" 1段</body><out_trade_no>TRK-A-1</out_trade_no>' +
        '<notify_url>https://pay.example.cn/notify?a=1&b=2</notify_url></xml>',
      initial_response: '{"return_code":"SUCCESS","return_msg":"OK",\n\t"attach":"奶粉 \\"A2\\" 1段 C:\\\\dir\\\\",\r\n\t"sign":"a+b/c="}',
      note: null,
    },
    payment_order: [
      {
        order_no: 'TRK-A-1',
        pay_transaction_id: '4200001234202311140000000001',
        recp_account: '6217000010001234567',
        recp_code: null,
        recp_name: RECP_CN,
      },
    ],
    order_goods: [
      // line 2 first: the order inside goodsInfo comes from line_no, not from insertion
      {
        order_no: 'TRK-A-1',
        line_no: 2,
        gname: 'Swisse 维生素C\t60粒',
        item_link: 'https://shop.example.cn/item?id=2;https://m.shop.example.cn/item?id=2&from=<app>',
      },
      {
        order_no: 'TRK-A-1',
        line_no: 1,
        gname: 'Aptamil 爱他美 "Gold" <Pro> & 1段 \\ 900g',
        item_link: 'https://shop.example.cn/item/detail.html?id=1&sku=a/b&ref=<home>&q=x>y',
      },
    ],
  },
  head: (guid) =>
    String.raw`{"guid":"${guid}","initalRequest":"<xml><appid>wx2421b1c4370ec43b</appid><body>爱他美奶粉 \"Gold\" 1段</body><out_trade_no>TRK-A-1</out_trade_no><notify_url>https://pay.example.cn/notify?a=1&b=2</notify_url></xml>","initalResponse":"{\"return_code\":\"SUCCESS\",\"return_msg\":\"OK\",\n\t\"attach\":\"奶粉 \\\"A2\\\" 1段 C:\\\\dir\\\\\",\r\n\t\"sign\":\"a+b/c=\"}","ebpCode":"3301963K69","payCode":"4403169D3W","payTransactionId":"4200001234202311140000000001","totalAmount":100.5,"currency":"142","verDept":"2","payType":"","tradingTime":"20231115000001","note":""}`,
  lists: String.raw`[{"orderNo":"TRK-A-1","goodsInfo":[{"gname":"Aptamil 爱他美 \"Gold\" <Pro> & 1段 \\ 900g","itemLink":"https://shop.example.cn/item/detail.html?id=1&sku=a/b&ref=<home>&q=x>y"},{"gname":"Swisse 维生素C\t60粒","itemLink":"https://shop.example.cn/item?id=2;https://m.shop.example.cn/item?id=2&from=<app>"}],"recpAccount":"6217000010001234567","recpCode":"","recpName":"深圳市某某跨境电子商务有限公司"}]`,
};

const TINY: UploadCase = {
  name: '0.00001, an Alipay gateway URL with + / =, a quoted note with a backslash, 23:59:59 China time',
  orderNo: 'TRK-B-1',
  fixture: single(
    'B',
    {
      pay_transaction_id: '2023123122001400000000000002',
      total_amount: '0.00001',
      pay_type: '2',
      trading_time: '2023-12-31T15:59:59Z',
      initial_request:
        'https://openapi.alipay.com/gateway.do?method=alipay.trade.page.pay&out_trade_no=TRK-B-1&total_amount=0.00001&sign=AbC+/=',
      initial_response: 'success',
      note: '备注 "quoted" \\ back',
    },
    { gname: 'B 商品', item_link: 'https://shop.example.cn/b?x=1&y=2' },
    { recp_code: '91440300MA5XXXXX1X' },
  ),
  head: (guid) =>
    String.raw`{"guid":"${guid}","initalRequest":"https://openapi.alipay.com/gateway.do?method=alipay.trade.page.pay&out_trade_no=TRK-B-1&total_amount=0.00001&sign=AbC+/=","initalResponse":"success","ebpCode":"3301963K69","payCode":"312226T001","payTransactionId":"2023123122001400000000000002","totalAmount":0.00001,"currency":"142","verDept":"3","payType":"2","tradingTime":"20231231235959","note":"备注 \"quoted\" \\ back"}`,
  lists: String.raw`[{"orderNo":"TRK-B-1","goodsInfo":[{"gname":"B 商品","itemLink":"https://shop.example.cn/b?x=1&y=2"}],"recpAccount":"OSA571908863132601","recpCode":"91440300MA5XXXXX1X","recpName":"YUNJIHONGKONGLIMITED"}]`,
};

const HUGE: UploadCase = {
  name: '12345678901234.12345 exactly, a new year in China while still the old one in UTC',
  orderNo: 'TRK-C-1',
  fixture: single(
    'C',
    {
      pay_transaction_id: '2023123122001400000000000003',
      total_amount: '12345678901234.12345',
      ver_dept: '1',
      pay_type: '4',
      trading_time: '2023-12-31T16:00:00Z',
      note: 'C',
    },
    { gname: 'C 商品', item_link: 'https://shop.example.cn/c' },
    { recp_name: '某某国际贸易（香港）有限公司' },
  ),
  head: (guid) =>
    String.raw`{"guid":"${guid}","initalRequest":"req-C","initalResponse":"resp-C","ebpCode":"3301963K69","payCode":"312226T001","payTransactionId":"2023123122001400000000000003","totalAmount":12345678901234.12345,"currency":"142","verDept":"1","payType":"4","tradingTime":"20240101000000","note":"C"}`,
  lists: String.raw`[{"orderNo":"TRK-C-1","goodsInfo":[{"gname":"C 商品","itemLink":"https://shop.example.cn/c"}],"recpAccount":"OSA571908863132601","recpCode":"","recpName":"某某国际贸易（香港）有限公司"}]`,
};

const INTEGER: UploadCase = {
  name: '7 (stored as 7.00000), a leap day in China with milliseconds dropped',
  orderNo: 'TRK-D-1',
  fixture: single(
    'D',
    {
      pay_transaction_id: '2024022922001400000000000004',
      total_amount: '7',
      trading_time: '2024-02-28T16:30:00.999Z',
    },
    { gname: 'D', item_link: 'https://shop.example.cn/d' },
  ),
  head: (guid) =>
    String.raw`{"guid":"${guid}","initalRequest":"req-D","initalResponse":"resp-D","ebpCode":"3301963K69","payCode":"312226T001","payTransactionId":"2024022922001400000000000004","totalAmount":7,"currency":"142","verDept":"3","payType":"1","tradingTime":"20240229003000","note":""}`,
  lists: String.raw`[{"orderNo":"TRK-D-1","goodsInfo":[{"gname":"D","itemLink":"https://shop.example.cn/d"}],"recpAccount":"OSA571908863132601","recpCode":"","recpName":"YUNJIHONGKONGLIMITED"}]`,
};

const E_RECP = {
  pay_transaction_id: '4200001234202311140000000005',
  recp_account: '6217000010001234567',
  recp_code: '91440300MA5XXXXX1X',
  recp_name: RECP_CN,
};
const THREE_ORDERS: UploadCase = {
  name: 'a three-order payment (asked for by its middle order): every order, sorted, goods by line_no',
  orderNo: 'TRK-E-2',
  fixture: {
    payment: {
      pay_transaction_id: '4200001234202311140000000005',
      ebp_code: EBP,
      pay_code: '4403169D3W',
      total_amount: '300.03',
      currency: '142',
      ver_dept: '2',
      pay_type: '3',
      trading_time: '2023-11-15T01:02:03Z',
      initial_request: '<xml><out_trade_no>TRK-E</out_trade_no></xml>',
      initial_response: '<xml><return_code><![CDATA[SUCCESS]]></return_code></xml>',
      note: '合并支付：3 单',
    },
    payment_order: [
      { order_no: 'TRK-E-3', ...E_RECP },
      { order_no: 'TRK-E-1', ...E_RECP },
      { order_no: 'TRK-E-2', ...E_RECP },
    ],
    order_goods: [
      { order_no: 'TRK-E-2', line_no: 3, gname: 'E2 第三', item_link: 'https://shop.example.cn/e2?n=3' },
      { order_no: 'TRK-E-2', line_no: 1, gname: 'E2 第一', item_link: 'https://shop.example.cn/e2?n=1' },
      { order_no: 'TRK-E-3', line_no: 1, gname: 'E3', item_link: 'https://shop.example.cn/e3' },
      { order_no: 'TRK-E-2', line_no: 2, gname: 'E2 第二', item_link: 'https://shop.example.cn/e2?n=2' },
      { order_no: 'TRK-E-1', line_no: 1, gname: 'E1', item_link: 'https://shop.example.cn/e1;https://m.shop.example.cn/e1' },
    ],
  },
  head: (guid) =>
    String.raw`{"guid":"${guid}","initalRequest":"<xml><out_trade_no>TRK-E</out_trade_no></xml>","initalResponse":"<xml><return_code><![CDATA[SUCCESS]]></return_code></xml>","ebpCode":"3301963K69","payCode":"4403169D3W","payTransactionId":"4200001234202311140000000005","totalAmount":300.03,"currency":"142","verDept":"2","payType":"3","tradingTime":"20231115090203","note":"合并支付：3 单"}`,
  lists:
    String.raw`[{"orderNo":"TRK-E-1","goodsInfo":[{"gname":"E1","itemLink":"https://shop.example.cn/e1;https://m.shop.example.cn/e1"}],"recpAccount":"6217000010001234567","recpCode":"91440300MA5XXXXX1X","recpName":"深圳市某某跨境电子商务有限公司"},` +
    String.raw`{"orderNo":"TRK-E-2","goodsInfo":[{"gname":"E2 第一","itemLink":"https://shop.example.cn/e2?n=1"},{"gname":"E2 第二","itemLink":"https://shop.example.cn/e2?n=2"},{"gname":"E2 第三","itemLink":"https://shop.example.cn/e2?n=3"}],"recpAccount":"6217000010001234567","recpCode":"91440300MA5XXXXX1X","recpName":"深圳市某某跨境电子商务有限公司"},` +
    String.raw`{"orderNo":"TRK-E-3","goodsInfo":[{"gname":"E3","itemLink":"https://shop.example.cn/e3"}],"recpAccount":"6217000010001234567","recpCode":"91440300MA5XXXXX1X","recpName":"深圳市某某跨境电子商务有限公司"}]`,
};

const NAME_250 = '名'.repeat(250);
const GNAME_AT_LIMIT: UploadCase = {
  name: 'a gname of exactly 250 characters (750 UTF-8 bytes) is within the limit',
  orderNo: 'TRK-G-1',
  fixture: single('G', { pay_transaction_id: '4200001234202311140000000007' }, { gname: NAME_250, item_link: 'https://shop.example.cn/g' }),
  head: (guid) =>
    String.raw`{"guid":"${guid}","initalRequest":"req-G","initalResponse":"resp-G","ebpCode":"3301963K69","payCode":"312226T001","payTransactionId":"4200001234202311140000000007","totalAmount":1,"currency":"142","verDept":"3","payType":"1","tradingTime":"20231114160000","note":""}`,
  lists: `[{"orderNo":"TRK-G-1","goodsInfo":[{"gname":"${NAME_250}","itemLink":"https://shop.example.cn/g"}],"recpAccount":"OSA571908863132601","recpCode":"","recpName":"YUNJIHONGKONGLIMITED"}]`,
};

const GNAME_TOO_LONG = {
  orderNo: 'TRK-F-1',
  fixture: single(
    'F',
    { pay_transaction_id: '4200001234202311140000000006' },
    { gname: '名'.repeat(251), item_link: 'https://shop.example.cn/f' },
  ),
  reason: 'payment document breaks protocol rules: payExchangeInfoLists[0].goodsInfo[0].gname longer than 250 characters (251)',
};

function runTrickyData(algorithm: 'RSA' | 'SM2', cases: UploadCase[]): void {
  describe(`tricky data end to end with an ${algorithm} card`, () => {
    let pipeline: Pipeline;

    beforeAll(async () => {
      pipeline = await startPipeline({ algorithm, fixtures: [...cases.map((c) => c.fixture), GNAME_TOO_LONG.fixture] });
    }, 60_000);

    afterAll(async () => {
      await pipeline?.stop();
    });

    it(`uploads ${cases.length} payments whose head and lists are exactly the hand-written bytes, signatures verified; the 251-character gname is a data fault, not uploaded`, async () => {
      const fired = await Promise.all(
        [...cases.map((c) => c.orderNo), GNAME_TOO_LONG.orderNo].map((orderNo) =>
          pipeline.customs.fireCallback({ ingressUrl: pipeline.ingressUrl, orderNo, sessionID: randomUUID().toUpperCase() }),
        ),
      );
      for (const result of fired) expect(result.body).toMatchObject({ code: '10000', message: '' });
      const sessionOf = new Map(fired.map((r) => [r.orderNo, r.sessionID]));

      await pipeline.customs.waitForUploads(cases.length, 60_000);
      const certNo = parseCertificate(pipeline.eport.card.certificateBase64).certNo;
      expect(certNo).toMatch(algorithm === 'RSA' ? /^[0-9a-f]{8}$/ : /^[0-9a-f]{16}$/);

      for (const c of cases) {
        const sessionID = sessionOf.get(c.orderNo) as string;
        const mine = pipeline.customs.uploads().filter((u) => u.sessionID === sessionID);
        expect(mine).toHaveLength(1);
        const upload = mine[0] as UploadRecord;
        const guid = /^\{"guid":"([0-9A-F-]{36})",/.exec(upload.headJson ?? '')?.[1] ?? '(no guid)';
        expect(guid).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
        // The raw text customs received, as customs rebuilds the sign string from it.
        expect({ case: c.name, head: upload.headJson }).toEqual({ case: c.name, head: c.head(guid) });
        expect({ case: c.name, lists: upload.listsJson }).toEqual({ case: c.name, lists: c.lists });
        // The whole form field, decoded: key order, serviceTime as a string, nothing else in it.
        const payExInfoStr = new URLSearchParams(upload.rawBody).get('payExInfoStr');
        expect(payExInfoStr).toBe(
          `{"sessionID":"${sessionID}","payExchangeInfoHead":${c.head(guid)},"payExchangeInfoLists":${c.lists},` +
            `"serviceTime":"${upload.serviceTime}","certNo":"${certNo}","signValue":"${upload.signValue}"}`,
        );
        expect(upload.signValue).toHaveLength(algorithm === 'RSA' ? 172 : 88);
        expect({ case: c.name, verified: upload.verified, problem: upload.verifyProblem, code: upload.code }).toEqual({
          case: c.name,
          verified: true,
          problem: undefined,
          code: '10000',
        });
        // Customs answered before the reporter wrote it down: wait for the ledger, do not race it.
        const row = await waitFor(
          `${sessionID} uploaded in the ledger`,
          async () => {
            const found = await ledgerRow(pipeline.db.url, sessionID);
            return found?.status === 'uploaded' ? found : undefined;
          },
          10_000,
        );
        expect(row).toMatchObject({ status: 'uploaded', head_json: c.head(guid), lists_json: c.lists, cert_no: certNo });
      }

      const faultSession = sessionOf.get(GNAME_TOO_LONG.orderNo) as string;
      const fault = await waitFor(
        'the data fault',
        async () => {
          const row = await ledgerRow(pipeline.db.url, faultSession);
          return row?.status === 'data_fault' ? row : undefined;
        },
        30_000,
      );
      expect(fault.reason).toBe(GNAME_TOO_LONG.reason);
      expect(fault).toMatchObject({ head_json: null, sign_string: null });
      expect(pipeline.customs.uploads().filter((u) => u.sessionID === faultSession)).toHaveLength(0);
      expect(pipeline.customs.uploads()).toHaveLength(cases.length); // nothing else, nothing twice
    });
  });
}

runTrickyData('RSA', [ESCAPES, TINY, HUGE, INTEGER, THREE_ORDERS, GNAME_AT_LIMIT]);
runTrickyData('SM2', [ESCAPES, THREE_ORDERS]);
