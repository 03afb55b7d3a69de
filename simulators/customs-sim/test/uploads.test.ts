import { SoftCard } from '@ceb179/eport-sim';
import { startCustomsSim, type CustomsSim } from '../src/index';
import { buildPayExInfoStr, buildUploadFormBody } from '@ceb179/protocol';
import { EBP_CODE, buildUpload, post, type BuiltUpload } from './upload-builder';

/** The same upload with signValue written otherwise (still valid JSON: the text is escaped). */
function withSignValue(upload: BuiltUpload, signValue: string): string {
  return buildUploadFormBody(buildPayExInfoStr({ ...upload, signValue }));
}

describe('customs-sim upload endpoint', () => {
  const rsaCard = SoftCard.create({ algorithm: 'RSA', pin: '1' });
  const sm2Card = SoftCard.create({ algorithm: 'SM2', pin: '1' });
  const strangerCard = SoftCard.create({ algorithm: 'RSA', pin: '1' });
  let sim: CustomsSim;

  beforeEach(async () => {
    sim = await startCustomsSim({
      certificates: [
        { certificateBase64: rsaCard.certificateBase64, ebpCodes: [EBP_CODE] },
        { certificateBase64: sm2Card.certificateBase64 },
      ],
    });
  });
  afterEach(() => sim.stop());

  it('serves on 127.0.0.1 with the customs path', () => {
    expect(sim.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sim.uploadUrl).toBe(`${sim.url}/ceb2grab/grab/realTimeDataUpload`);
  });

  it.each([
    ['RSA', rsaCard],
    ['SM2', sm2Card],
  ] as const)('accepts a correct %s upload with 10000 and verifies it', async (_name, card) => {
    const upload = buildUpload(card);
    const before = Date.now();
    const reply = await post(sim.uploadUrl, upload.formBody);
    expect(reply.status).toBe(200);
    expect(reply.contentType).toBe('application/json;charset=utf-8');
    expect(reply.json).toEqual({ code: '10000', message: '上传成功', total: 0, serviceTime: expect.any(Number) });
    expect((reply.json as { serviceTime: number }).serviceTime).toBeGreaterThanOrEqual(before);

    const record = sim.accepted().get(upload.sessionID);
    expect(record).toMatchObject({
      httpStatus: 200,
      code: '10000',
      verified: true,
      sessionID: upload.sessionID,
      headJson: upload.headJson,
      listsJson: upload.listsJson,
      serviceTime: upload.serviceTime,
      certNo: card.certNo,
      signValue: upload.signValue,
      signString: upload.signString,
      rawBody: upload.formBody,
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(record?.verifyProblem).toBeUndefined();
    expect(sim.uploads()).toHaveLength(1);
  });

  it('answers 20006 to a second upload of the same sessionID and keeps the first', async () => {
    const first = buildUpload(rsaCard);
    await post(sim.uploadUrl, first.formBody);
    const again = await post(sim.uploadUrl, buildUpload(rsaCard, { sessionID: first.sessionID }).formBody);
    expect(again.json).toMatchObject({ code: '20006', total: 0 });
    expect(sim.accepted().get(first.sessionID)?.signValue).toBe(first.signValue);
    expect(sim.uploads().map((u) => u.code)).toEqual(['10000', '20006']);
  });

  it('answers 20004 to an unregistered certificate', async () => {
    const reply = await post(sim.uploadUrl, buildUpload(strangerCard).formBody);
    expect(reply.json).toMatchObject({ code: '20004' });
    expect(sim.accepted().size).toBe(0);
  });

  it('answers 20004 to an uppercase certNo: customs registered it in lowercase', async () => {
    const card = SoftCard.create({ algorithm: 'SM2', pin: '1', serialHex: '1a2b3c4d5e6f7a8b' });
    sim.registerCertificate({ certificateBase64: card.certificateBase64 });
    const reply = await post(sim.uploadUrl, buildUpload(card, { certNo: card.certNo.toUpperCase() }).formBody);
    expect(reply.json).toMatchObject({ code: '20004' });
    expect((reply.json as { message: string }).message).toContain('lowercase');
    expect((await post(sim.uploadUrl, buildUpload(card).formBody)).json).toMatchObject({ code: '10000' });
  });

  it('answers 20004 when the certificate is not registered for the ebpCode', async () => {
    const reply = await post(sim.uploadUrl, buildUpload(rsaCard, { ebpCode: '4403160Z9B' }).formBody);
    expect(reply.json).toMatchObject({ code: '20004' });
    // The SM2 card was registered without ebpCodes: any ebpCode goes.
    expect((await post(sim.uploadUrl, buildUpload(sm2Card, { ebpCode: '4403160Z9B' }).formBody)).json).toMatchObject({ code: '10000' });
    // Registering again for a further ebpCode adds it.
    sim.registerCertificate({ certificateBase64: rsaCard.certificateBase64, ebpCodes: ['4403160Z9B'] });
    expect((await post(sim.uploadUrl, buildUpload(rsaCard, { ebpCode: '4403160Z9B' }).formBody)).json).toMatchObject({ code: '10000' });
    expect((await post(sim.uploadUrl, buildUpload(rsaCard).formBody)).json).toMatchObject({ code: '10000' });
  });

  it('answers 10000 to a tampered upload, as customs does, but records it as not verified', async () => {
    const upload = buildUpload(rsaCard);
    const tampered = upload.formBody.replace(encodeURIComponent('"totalAmount":1234.5'), encodeURIComponent('"totalAmount":1.5'));
    expect(tampered).not.toBe(upload.formBody);
    const reply = await post(sim.uploadUrl, tampered);
    expect(reply.json).toMatchObject({ code: '10000' });
    const record = sim.accepted().get(upload.sessionID);
    expect(record?.verified).toBe(false);
    expect(record?.verifyProblem).toMatch(/does not verify/);
    expect(record?.headJson).toContain('"totalAmount":1.5');
  });

  it('catches a re-serialised head: the signature covers the exact bytes', async () => {
    const upload = buildUpload(sm2Card);
    // Same data, different text: what a platform that parses and re-stringifies with spaces would send.
    const spaced = upload.payExInfoStr.replace(upload.headJson, JSON.stringify(JSON.parse(upload.headJson), null, 1));
    await post(sim.uploadUrl, `payExInfoStr=${encodeURIComponent(spaced)}`);
    expect(sim.accepted().get(upload.sessionID)?.verified).toBe(false);
  });

  it('treats "+" left unencoded in signValue as a space, so the signature fails as it would at customs', async () => {
    let upload = buildUpload(rsaCard);
    while (!upload.signValue.includes('+')) upload = buildUpload(rsaCard);
    await post(sim.uploadUrl, `payExInfoStr=${encodeURIComponent(upload.payExInfoStr).replace(/%2B/g, '+')}`);
    expect(sim.accepted().get(upload.sessionID)?.verified).toBe(false);
  });

  it('answers 20000 to a bad signature when configured to reject them', async () => {
    const strict = await startCustomsSim({ certificates: [{ certificateBase64: rsaCard.certificateBase64 }], rejectBadSignatures: true });
    try {
      const upload = buildUpload(rsaCard);
      const forged = upload.formBody.replace(
        encodeURIComponent(upload.signValue),
        encodeURIComponent(strangerCard.sign(upload.signString)),
      );
      const reply = await post(strict.uploadUrl, forged);
      expect(reply.json).toMatchObject({ code: '20000' });
      expect(strict.accepted().size).toBe(0);
      expect(strict.uploads()[0]).toMatchObject({ verified: false, code: '20000' });
      expect((await post(strict.uploadUrl, upload.formBody)).json).toMatchObject({ code: '10000' });
    } finally {
      await strict.stop();
    }
  });

  it.each([
    ['in CRLF lines', (v: string) => v.replace(/(.{64})(?=.)/g, '$1\r\n')],
    ['as PEM', (v: string) => `-----BEGIN SIGNATURE-----\n${v}\n-----END SIGNATURE-----`],
    ['with blanks', (v: string) => ` ${v} `],
  ])('in strict mode answers 20000 to a signValue %s, and 10000 to the same signature in canonical form', async (_name, reformat) => {
    const strict = await startCustomsSim({ certificates: [{ certificateBase64: rsaCard.certificateBase64 }], strict: true });
    try {
      const upload = buildUpload(rsaCard);
      const reply = await post(strict.uploadUrl, withSignValue(upload, reformat(upload.signValue)));
      expect(reply.json).toMatchObject({ code: '20000', message: expect.stringContaining('signValue不是规范的base64') });
      expect(strict.accepted().size).toBe(0);
      expect((await post(strict.uploadUrl, upload.formBody)).json).toMatchObject({ code: '10000' });
    } finally {
      await strict.stop();
    }
  });

  it('in lenient mode (the default) takes a line-broken signValue, as a forgiving customs might', async () => {
    const upload = buildUpload(rsaCard);
    const bent = withSignValue(upload, upload.signValue.replace(/(.{64})(?=.)/g, '$1\r\n'));
    expect((await post(sim.uploadUrl, bent)).json).toMatchObject({ code: '10000' });
  });

  it.each([
    ['no payExInfoStr field', 'foo=bar', 'application/x-www-form-urlencoded'],
    ['not JSON', 'payExInfoStr=hello', 'application/x-www-form-urlencoded'],
    ['a JSON array', `payExInfoStr=${encodeURIComponent('[1,2]')}`, 'application/x-www-form-urlencoded'],
    ['missing keys', `payExInfoStr=${encodeURIComponent('{"sessionID":"x"}')}`, 'application/x-www-form-urlencoded'],
    ['an empty body', '', 'application/x-www-form-urlencoded'],
    ['a JSON body', '{"payExInfoStr":"x"}', 'application/json'],
    [
      'a sessionID with a quote',
      `payExInfoStr=${encodeURIComponent('{"sessionID":"a\\"b","payExchangeInfoHead":{"ebpCode":"x"},"payExchangeInfoLists":[],"serviceTime":"1","certNo":"ab","signValue":"AA=="}')}`,
      'application/x-www-form-urlencoded',
    ],
  ])('answers 20000 to garbage: %s', async (_name, body, contentType) => {
    const reply = await post(sim.uploadUrl, body, contentType);
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ code: '20000', total: 0, serviceTime: expect.any(Number) });
    expect((reply.json as { message: string }).message).not.toBe('');
    expect(sim.uploads()[0]).toMatchObject({ code: '20000', verified: false, rawBody: body });
    expect(sim.accepted().size).toBe(0);
  });

  it('accepts serviceTime sent as a JSON number and signs over its decimal text', async () => {
    const upload = buildUpload(sm2Card);
    const numeric = upload.payExInfoStr.replace(`"serviceTime":"${upload.serviceTime}"`, `"serviceTime":${upload.serviceTime}`);
    expect(numeric).not.toBe(upload.payExInfoStr);
    const reply = await post(sim.uploadUrl, `payExInfoStr=${encodeURIComponent(numeric)}`);
    expect(reply.json).toMatchObject({ code: '10000' });
    expect(sim.accepted().get(upload.sessionID)).toMatchObject({ serviceTime: upload.serviceTime, verified: true });
  });

  it('injects HTTP faults with a non-JSON body, then answers normally again', async () => {
    sim.failNextUploads(2);
    const upload = buildUpload(rsaCard);
    const first = await post(sim.uploadUrl, upload.formBody);
    expect(first.status).toBe(503);
    expect(first.json).toBeUndefined();
    expect(first.text).toContain('503');
    sim.failNextUploads(0);
    expect((await post(sim.uploadUrl, upload.formBody)).status).toBe(503);
    expect((await post(sim.uploadUrl, upload.formBody)).json).toMatchObject({ code: '10000' });
    expect(sim.uploads().map((u) => [u.httpStatus, u.code, u.sessionID])).toEqual([
      [503, '', upload.sessionID],
      [503, '', upload.sessionID],
      [200, '10000', upload.sessionID],
    ]);

    sim.failNextUploads(1, 502);
    expect((await post(sim.uploadUrl, buildUpload(rsaCard).formBody)).status).toBe(502);
  });

  it('waits for accepted uploads and says what arrived when they do not', async () => {
    const waiting = sim.waitForUploads(2, 5000);
    await post(sim.uploadUrl, buildUpload(rsaCard).formBody);
    await post(sim.uploadUrl, 'garbage');
    await post(sim.uploadUrl, buildUpload(sm2Card).formBody);
    expect((await waiting).map((u) => u.code)).toEqual(['10000', '10000']);

    await expect(sim.waitForUploads(3, 100)).rejects.toThrow(
      /waited 100 ms for 3 accepted uploads, got 2 \(3 upload requests, 1 not accepted; last not accepted: HTTP 200 code "20000"/,
    );
    await expect(sim.waitForUploads(1, 10)).resolves.toHaveLength(2);
  });
});
