import type { AppError } from '@ceb179/errors';
import { buildPaymentDocument, buildPayExInfoStr, buildSignString, buildUploadFormBody, parseSignString } from './index';
import { loadGoldenVectors, sourceOf } from './testing/golden-vectors';

/** Traps of docs/traps.md that no other test pins down by name. */
const [single] = loadGoldenVectors().cases as [ReturnType<typeof loadGoldenVectors>['cases'][0]];

describe('escaping (docs/traps.md#escaping)', () => {
  it('writes / and Chinese text as they are, and escapes only quotes, backslashes and control characters', () => {
    const source = sourceOf(single);
    const goods = source.goods[0];
    if (!goods) throw new Error('golden case 0 has goods');
    goods.gname = '奶粉 "A2" 800g\\罐\n<新>&=';
    goods.item_link = 'https://m.example.com/item/1?a=1&b=2';
    const document = buildPaymentDocument({ source, guid: single.guid });
    const lists = document.listsJson;
    expect(lists).toContain('"gname":"奶粉 \\"A2\\" 800g\\\\罐\\n<新>&="');
    expect(lists).toContain('"itemLink":"https://m.example.com/item/1?a=1&b=2"');
    expect(lists).not.toContain('\\/');
    expect(lists).not.toMatch(/\\u[0-9a-fA-F]{4}/);
    // The same text as JSON.stringify gives: what customs' JSON reader will rebuild.
    expect(lists).toContain(JSON.stringify(goods.gname));
  });
});

describe('guid (docs/traps.md#guid-case)', () => {
  it('refuses a lowercase guid: customs wants an uppercase UUID', () => {
    let fault: AppError | undefined;
    try {
      buildPaymentDocument({ source: sourceOf(single), guid: single.guid.toLowerCase() });
    } catch (error) {
      fault = error as AppError;
    }
    expect(fault?.fields).toEqual([{ field: 'payExchangeInfoHead.guid', problem: 'must be an uppercase UUID (has lowercase letters)' }]);
    expect(buildPaymentDocument({ source: sourceOf(single), guid: single.guid }).headJson).toContain(`"guid":"${single.guid}"`);
  });
});

describe('the head and lists are spliced, never re-serialised (docs/traps.md#sign-string-format)', () => {
  it('puts the very same head and lists text into the sign string and payExInfoStr', () => {
    const document = buildPaymentDocument({ source: sourceOf(single), guid: single.guid });
    const parts = {
      sessionID: single.sessionID,
      headJson: document.headJson,
      listsJson: document.listsJson,
      serviceTime: single.serviceTime,
    };
    const signString = buildSignString(parts);
    const upload = buildPayExInfoStr({ ...parts, certNo: single.certNo, signValue: single.signValue });
    expect(parseSignString(signString)).toEqual(parts);
    expect(upload).toContain(`"payExchangeInfoHead":${document.headJson},"payExchangeInfoLists":${document.listsJson},`);
    expect(signString).toContain(`"payExchangeInfoHead":"${document.headJson}"||`);
    // And the form body decodes back to exactly that text.
    expect(new URLSearchParams(buildUploadFormBody(upload)).get('payExInfoStr')).toBe(upload);
  });
});
