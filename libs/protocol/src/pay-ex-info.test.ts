import { AppError } from '@ceb179/errors';
import {
  buildPayExInfoStr,
  buildPaymentDocument,
  buildSignString,
  buildUploadFormBody,
  extractUploadParts,
  parseSignString,
  type UploadParts,
} from './index';
import { loadGoldenVectors, sourceOf } from './testing/golden-vectors';

const vectors = loadGoldenVectors();
type Golden = (typeof vectors.cases)[0];
const golden = vectors.cases[0] as Golden;

function uploadOf(c: Golden): UploadParts {
  return {
    sessionID: c.sessionID,
    headJson: c.expected.headJson,
    listsJson: c.expected.listsJson,
    serviceTime: c.serviceTime,
    certNo: c.certNo,
    signValue: c.signValue,
  };
}

function invalid(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('INVALID_INPUT');
    return error as AppError;
  }
  throw new Error('did not throw');
}

describe('the full golden chain from source rows', () => {
  it.each(vectors.cases.map((c) => [c.name, c]))('%s', (_name, c) => {
    const document = buildPaymentDocument({ source: sourceOf(c), guid: c.guid });
    const parts = { sessionID: c.sessionID, headJson: document.headJson, listsJson: document.listsJson, serviceTime: c.serviceTime };
    const signString = buildSignString(parts);
    const payExInfoStr = buildPayExInfoStr({ ...parts, certNo: c.certNo, signValue: c.signValue });
    const formBody = buildUploadFormBody(payExInfoStr);
    expect(document.headJson).toBe(c.expected.headJson);
    expect(document.listsJson).toBe(c.expected.listsJson);
    expect(signString).toBe(c.expected.signString);
    expect(payExInfoStr).toBe(c.expected.payExInfoStr);
    expect(formBody).toBe(c.expected.formBody);
  });
});

describe('buildPayExInfoStr / buildUploadFormBody', () => {
  it('keeps the head and lists as objects, not strings', () => {
    const parsed = JSON.parse(buildPayExInfoStr(uploadOf(golden))) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(['sessionID', 'payExchangeInfoHead', 'payExchangeInfoLists', 'serviceTime', 'certNo', 'signValue']);
    expect(typeof parsed['payExchangeInfoHead']).toBe('object');
    expect(Array.isArray(parsed['payExchangeInfoLists'])).toBe(true);
    expect(parsed['serviceTime']).toBe(golden.serviceTime);
  });

  it('percent-encodes + / = & so a form decoder gives the text back', () => {
    const payExInfoStr = buildPayExInfoStr(uploadOf(vectors.cases[1] as Golden));
    const body = buildUploadFormBody(payExInfoStr);
    expect(body.startsWith('payExInfoStr=')).toBe(true);
    expect(body.slice('payExInfoStr='.length)).not.toMatch(/[+&=/ ]/);
    expect(new URLSearchParams(body).get('payExInfoStr')).toBe(payExInfoStr);
  });

  it('refuses head or lists text that would make the upload invalid JSON', () => {
    invalid(() => buildPayExInfoStr({ ...uploadOf(golden), headJson: golden.expected.headJson.slice(0, -1) }));
    invalid(() => buildPayExInfoStr({ ...uploadOf(golden), headJson: golden.expected.listsJson }));
    invalid(() => buildPayExInfoStr({ ...uploadOf(golden), listsJson: ` ${golden.expected.listsJson}` }));
    invalid(() => buildPayExInfoStr({ ...uploadOf(golden), certNo: '' }));
    invalid(() => buildPayExInfoStr({ ...uploadOf(golden), signValue: '' }));
    invalid(() => buildPayExInfoStr({ ...uploadOf(golden), serviceTime: 'now' }));
  });

  it('refuses text with no UTF-8 form', () => {
    invalid(() => buildUploadFormBody('{"x":"\ud800"}'));
  });
});

describe('extractUploadParts', () => {
  it.each(vectors.cases.map((c) => [c.name, c]))('returns the received spans byte for byte: %s', (_name, c) => {
    const parts = extractUploadParts(c.expected.payExInfoStr);
    expect(parts).toEqual(uploadOf(c));
    expect(buildSignString(parts)).toBe(c.expected.signString);
  });

  it('accepts serviceTime as a JSON number', () => {
    const text = golden.expected.payExInfoStr.replace(`"serviceTime":"${golden.serviceTime}"`, `"serviceTime":${golden.serviceTime}`);
    expect(text).not.toBe(golden.expected.payExInfoStr);
    expect(extractUploadParts(text)).toEqual(uploadOf(golden));
  });

  it('keeps a huge amount exactly, which re-serialising would lose', () => {
    const source = sourceOf(golden);
    source.payment.total_amount = '12345678901234.12345';
    const document = buildPaymentDocument({ source, guid: golden.guid });
    const payExInfoStr = buildPayExInfoStr({ ...uploadOf(golden), headJson: document.headJson, listsJson: document.listsJson });
    const parts = extractUploadParts(payExInfoStr);
    expect(parts.headJson).toBe(document.headJson);
    expect(parts.headJson).toContain('"totalAmount":12345678901234.12345,');
    expect(JSON.stringify(JSON.parse(document.headJson))).not.toBe(document.headJson);
    expect(parseSignString(buildSignString(parts)).headJson).toBe(document.headJson);
  });

  it('tolerates whitespace, other key orders and unknown keys, and keeps the spans raw', () => {
    const head = golden.expected.headJson.replace('{"guid"', '{ "guid"');
    const text = `{\n "certNo": "${golden.certNo}",\n "signValue": "${golden.signValue}",\n "serviceTime": "${golden.serviceTime}",\n "extra": [1, {"a": null}],\n "payExchangeInfoLists": ${golden.expected.listsJson} ,\n "payExchangeInfoHead":${head},\n "sessionID": "${golden.sessionID}"\n}\n`;
    const parts = extractUploadParts(text);
    expect(parts).toEqual({ ...uploadOf(golden), headJson: head });
  });

  it('decodes escaped string fields', () => {
    const text = golden.expected.payExInfoStr.replace(`"signValue":"${golden.signValue}"`, '"signValue":"a\\/b\\u002b=="');
    expect(extractUploadParts(text).signValue).toBe('a/b+==');
  });

  it.each([
    ['not JSON', 'payExInfoStr=%7B'],
    ['an array', '[]'],
    ['empty', ''],
  ])('rejects %s', (_what, text) => {
    invalid(() => extractUploadParts(text));
  });

  it('rejects missing, duplicate or mistyped keys', () => {
    const text = golden.expected.payExInfoStr;
    expect(invalid(() => extractUploadParts(text.replace(`,"certNo":"${golden.certNo}"`, ''))).message).toMatch(/certNo/);
    invalid(() => extractUploadParts(text.replace('"certNo"', '"signValue"')));
    invalid(() => extractUploadParts(text.replace(`"sessionID":"${golden.sessionID}"`, '"sessionID":123')));
    const quotedHead = text.replace(golden.expected.headJson, JSON.stringify(golden.expected.headJson));
    expect(invalid(() => extractUploadParts(quotedHead)).message).toMatch(/payExchangeInfoHead must be a JSON object/);
    invalid(() => extractUploadParts(text.replace(golden.expected.listsJson, '{}')));
    invalid(() => extractUploadParts(text.replace(`"serviceTime":"${golden.serviceTime}"`, '"serviceTime":"12a"')));
    invalid(() => extractUploadParts(text.replace(`"serviceTime":"${golden.serviceTime}"`, '"serviceTime":1.5')));
    invalid(() => extractUploadParts(text.replace(`"serviceTime":"${golden.serviceTime}"`, '"serviceTime":-1')));
    invalid(() => extractUploadParts(text.replace(`"serviceTime":"${golden.serviceTime}"`, '"serviceTime":null')));
  });
});
