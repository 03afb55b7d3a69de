import { AppError } from '@ceb179/errors';
import { buildPaymentDocument, buildSignString, parseSignString, type SignStringParts, type SourcePayment } from './index';
import { loadGoldenVectors, sourceOf } from './testing/golden-vectors';

const vectors = loadGoldenVectors();
const golden = vectors.cases[0] as (typeof vectors.cases)[0];

function partsOf(c: typeof golden): SignStringParts {
  return { sessionID: c.sessionID, headJson: c.expected.headJson, listsJson: c.expected.listsJson, serviceTime: c.serviceTime };
}

function rejectionOf(text: string): AppError {
  try {
    parseSignString(text);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('INVALID_INPUT');
    return error as AppError;
  }
  throw new Error(`accepted: ${text.slice(0, 80)}`);
}

const session = `"sessionID":"${golden.sessionID}"`;
const head = `"payExchangeInfoHead":"${golden.expected.headJson}"`;
const lists = `"payExchangeInfoLists":"${golden.expected.listsJson}"`;
const time = `"serviceTime":"${golden.serviceTime}"`;

describe('buildSignString', () => {
  it.each(vectors.cases.map((c) => [c.name, c]))('matches golden case: %s', (_name, c) => {
    expect(buildSignString(partsOf(c))).toBe(c.expected.signString);
  });

  it('is the four segments joined by ||', () => {
    expect(buildSignString(partsOf(golden))).toBe([session, head, lists, time].join('||'));
  });

  it.each([
    [{ sessionID: '' }, /sessionID is empty/],
    [{ sessionID: 'a"b' }, /sessionID contains/],
    [{ serviceTime: '17e11' }, /serviceTime/],
    [{ serviceTime: '' }, /serviceTime/],
  ])('refuses parts that could not be parsed back: %j', (override, problem) => {
    expect(() => buildSignString({ ...partsOf(golden), ...override })).toThrow(problem);
  });
});

describe('parseSignString', () => {
  it.each(vectors.cases.map((c) => [c.name, c]))('round-trips golden case: %s', (_name, c) => {
    expect(parseSignString(c.expected.signString)).toEqual(partsOf(c));
  });

  it('splits correctly when values hold quotes, || and the segment markers themselves', () => {
    const source: SourcePayment = sourceOf(golden);
    source.payment.note = 'a||b "||"payExchangeInfoLists":"[]"||"serviceTime":"1" \\ end';
    source.payment.initial_response = '}"||"{';
    (source.goods[0] as SourcePayment['goods'][0]).gname = '"||"serviceTime":"0"';
    (source.orders[0] as SourcePayment['orders'][0]).recp_name = 'x"||"y';
    const document = buildPaymentDocument({ source, guid: golden.guid });
    const parts = { sessionID: 'S-1|2', headJson: document.headJson, listsJson: document.listsJson, serviceTime: '1' };
    expect(parseSignString(buildSignString(parts))).toEqual(parts);
  });

  it('rejects a missing segment', () => {
    expect(rejectionOf([session, head, lists].join('||')).message).toMatch(/serviceTime/);
    expect(rejectionOf([session, head, time].join('||')).message).toMatch(/payExchangeInfoLists/);
    expect(rejectionOf([head, lists, time].join('||')).message).toMatch(/sessionID/);
  });

  it('rejects segments in the wrong order', () => {
    expect(rejectionOf([session, lists, head, time].join('||')).message).toMatch(/payExchangeInfoHead/);
    expect(rejectionOf([time, session, head, lists].join('||')).message).toMatch(/sessionID/);
  });

  it('rejects outer braces', () => {
    rejectionOf(`{${golden.expected.signString}}`);
  });

  it('rejects unquoted values (the wrong official sample)', () => {
    const unquotedHead = `"payExchangeInfoHead":${golden.expected.headJson}`;
    rejectionOf([session, unquotedHead, lists, time].join('||'));
    rejectionOf([session, head, lists, `"serviceTime":${golden.serviceTime}`].join('||'));
  });

  it('rejects the singular payExchangeInfoList', () => {
    rejectionOf([session, head, lists.replace('payExchangeInfoLists', 'payExchangeInfoList'), time].join('||'));
  });

  it('rejects an extra segment', () => {
    expect(rejectionOf(`${golden.expected.signString}||"certNo":"01691f7f"`).message).toMatch(/after serviceTime/);
  });

  it('rejects a head with the wrong key order', () => {
    const swapped = golden.expected.headJson.replace(/^\{("guid":"[^"]*"),("initalRequest":"[^"]*")/, '{$2,$1');
    expect(swapped).not.toBe(golden.expected.headJson);
    expect(rejectionOf([session, `"payExchangeInfoHead":"${swapped}"`, lists, time].join('||')).message).toMatch(/keys must be exactly/);
  });

  it('rejects a head with a missing or extra key and a quoted amount', () => {
    const noNote = golden.expected.headJson.replace(/,"note":"[^"]*"\}$/, '}');
    rejectionOf([session, `"payExchangeInfoHead":"${noNote}"`, lists, time].join('||'));
    const quoted = golden.expected.headJson.replace('"totalAmount":100', '"totalAmount":"100"');
    expect(rejectionOf([session, `"payExchangeInfoHead":"${quoted}"`, lists, time].join('||')).message).toMatch(/totalAmount/);
  });

  it('rejects lists that are empty or have the wrong keys', () => {
    rejectionOf([session, head, '"payExchangeInfoLists":"[]"', time].join('||'));
    const reordered = golden.expected.listsJson
      .replace('"gname":"lhy-gnsku3","itemLink"', '"itemLink"')
      .replace('999761&shopId=453"}', '999761&shopId=453","gname":"lhy-gnsku3"}');
    expect(rejectionOf([session, head, `"payExchangeInfoLists":"${reordered}"`, time].join('||')).message).toMatch(/gname,itemLink/);
  });

  it('rejects non-digit serviceTime', () => {
    expect(rejectionOf([session, head, lists, '"serviceTime":"1544519952469a"'].join('||')).message).toMatch(/serviceTime/);
    rejectionOf([session, head, lists, '"serviceTime":""'].join('||'));
    rejectionOf([session, head, lists, '"serviceTime":"-1"'].join('||'));
  });

  it('rejects an empty sessionID', () => {
    rejectionOf(golden.expected.signString.replace(golden.sessionID, ''));
  });

  it('rejects whitespace inside the JSON (it must be compact)', () => {
    const pretty = JSON.stringify(JSON.parse(golden.expected.headJson), null, 1);
    expect(rejectionOf([session, `"payExchangeInfoHead":"${pretty}"`, lists, time].join('||')).message).toMatch(/compact/);
    rejectionOf(golden.expected.signString.replace('||', ' || '));
  });

  it('rejects garbage', () => {
    rejectionOf('');
    rejectionOf('hello');
    rejectionOf('"sessionID":"x"');
    rejectionOf(golden.expected.signString.slice(0, -1));
  });
});
