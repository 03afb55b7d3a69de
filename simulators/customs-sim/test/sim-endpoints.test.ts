import { SoftCard } from '@ceb179/eport-sim';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { startCustomsSim, type CustomsSim } from '../src/index';
import { buildUpload, post } from './upload-builder';

async function getJson(url: string): Promise<{ status: number; json: unknown }> {
  const response = await fetch(url);
  return { status: response.status, json: await response.json() };
}

describe('customs-sim /sim endpoints', () => {
  const card = SoftCard.create({ algorithm: 'SM2', pin: '1' });
  let sim: CustomsSim;

  beforeEach(async () => {
    sim = await startCustomsSim();
  });
  afterEach(() => sim.stop());

  it('registers certificates over HTTP, then lists uploads without their raw body', async () => {
    const registered = await post(
      `${sim.url}/sim/certificates`,
      JSON.stringify({ certificateBase64: card.certificateBase64, ebpCodes: ['4403160Z9A'] }),
      'application/json',
    );
    expect(registered.status).toBe(201);
    expect(registered.json).toEqual({ certNo: card.certNo, algorithm: 'SM2-SM3', ebpCodes: ['4403160Z9A'] });
    expect((await getJson(`${sim.url}/sim/certificates`)).json).toEqual([registered.json]);

    const upload = buildUpload(card);
    expect((await post(sim.uploadUrl, upload.formBody)).json).toMatchObject({ code: '10000' });

    const list = await getJson(`${sim.url}/sim/uploads`);
    expect(list.json).toEqual([expect.objectContaining({ sessionID: upload.sessionID, code: '10000', verified: true })]);
    expect((list.json as object[])[0]).not.toHaveProperty('rawBody');

    const one = await getJson(`${sim.url}/sim/uploads/${upload.sessionID}`);
    expect(one.json).toMatchObject({ sessionID: upload.sessionID, rawBody: upload.formBody, signString: upload.signString });
    expect((await getJson(`${sim.url}/sim/uploads/nope`)).status).toBe(404);
  });

  it('accepts a PEM certificate too', async () => {
    const pem = `-----BEGIN CERTIFICATE-----\n${card.certificateBase64.match(/.{1,64}/g)?.join('\n')}\n-----END CERTIFICATE-----\n`;
    const registered = await post(`${sim.url}/sim/certificates`, JSON.stringify({ certificateBase64: pem }), 'application/json');
    expect(registered.json).toEqual({ certNo: card.certNo, algorithm: 'SM2-SM3', ebpCodes: null });
  });

  it('injects faults over HTTP', async () => {
    const set = await post(`${sim.url}/sim/faults`, JSON.stringify({ count: 1, httpStatus: 500 }), 'application/json');
    expect(set.json).toEqual({ count: 1, httpStatus: 500 });
    expect((await post(sim.uploadUrl, 'payExInfoStr=x')).status).toBe(500);
    expect((await post(sim.uploadUrl, 'payExInfoStr=x')).json).toMatchObject({ code: '20000' });
  });

  it('holds replies over HTTP: the upload is stored at once, the answer comes after holdMs', async () => {
    await post(`${sim.url}/sim/certificates`, JSON.stringify({ certificateBase64: card.certificateBase64 }), 'application/json');
    expect((await post(`${sim.url}/sim/holds`, JSON.stringify({ count: 1, holdMs: 600 }), 'application/json')).json).toEqual({
      count: 1,
      holdMs: 600,
    });
    const upload = buildUpload(card);
    const started = Date.now();
    const answered = post(sim.uploadUrl, upload.formBody);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sim.accepted().has(upload.sessionID)).toBe(true); // stored while the reply is held
    expect((await answered).json).toMatchObject({ code: '10000' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    // Only the next one was held; a resend of the same sessionID is refused as a duplicate at once.
    const again = Date.now();
    expect((await post(sim.uploadUrl, upload.formBody)).json).toMatchObject({ code: '20006' });
    expect(Date.now() - again).toBeLessThan(500);
  });

  it('answers the next upload with a given code over HTTP, storing nothing (20006 with a storage error)', async () => {
    await post(`${sim.url}/sim/certificates`, JSON.stringify({ certificateBase64: card.certificateBase64 }), 'application/json');
    const set = await post(
      `${sim.url}/sim/refusals`,
      JSON.stringify({ count: 1, code: '20006', message: '数据存储失败' }),
      'application/json',
    );
    expect(set.json).toEqual({ count: 1, code: '20006', message: '数据存储失败' });
    const upload = buildUpload(card);
    expect((await post(sim.uploadUrl, upload.formBody)).json).toMatchObject({ code: '20006', message: '数据存储失败' });
    expect(sim.accepted().has(upload.sessionID)).toBe(false);
    expect((await post(sim.uploadUrl, upload.formBody)).json).toMatchObject({ code: '10000' });
    expect((await post(`${sim.url}/sim/refusals`, JSON.stringify({ count: 1, code: 'x', message: '' }), 'application/json')).status).toBe(
      400,
    );
  });

  it('fires callbacks concurrently and reports each, failures included', async () => {
    const arrivals: string[] = [];
    const app = express();
    app.post('/platDataOpen', express.urlencoded({ extended: false }), (req, res) => {
      arrivals.push(JSON.parse((req.body as { openReq: string }).openReq).orderNo);
      setTimeout(() => res.json({ code: '10000', message: '', serviceTime: Date.now() }), 150);
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const ingressUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/platDataOpen`;
      const started = Date.now();
      const fired = await post(
        `${sim.url}/sim/callbacks`,
        JSON.stringify({
          ingressUrl,
          callbacks: [{ orderNo: 'A' }, { orderNo: 'B', sessionID: 'S-B', serviceTimeAs: 'number' }, { orderNo: 'C' }],
        }),
        'application/json',
      );
      expect(Date.now() - started).toBeLessThan(400); // three 150 ms replies, not one after the other
      expect(fired.status).toBe(200);
      expect(fired.json).toEqual([
        expect.objectContaining({
          orderNo: 'A',
          httpStatus: 200,
          serviceTimeSentAs: 'string',
          body: expect.objectContaining({ code: '10000' }),
        }),
        expect.objectContaining({ orderNo: 'B', sessionID: 'S-B', serviceTimeSentAs: 'number' }),
        expect.objectContaining({ orderNo: 'C' }),
      ]);
      expect(arrivals.sort()).toEqual(['A', 'B', 'C']);

      const unreachable = await post(
        `${sim.url}/sim/callbacks`,
        JSON.stringify({ ingressUrl: 'http://127.0.0.1:1/platDataOpen', callbacks: [{ orderNo: 'D' }] }),
        'application/json',
      );
      expect(unreachable.json).toEqual([
        { orderNo: 'D', sessionID: expect.stringMatching(/^[0-9a-f]{32}$/), error: expect.stringContaining('failed') },
      ]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('answers bad requests with JSON and no stack trace', async () => {
    const badJson = await post(`${sim.url}/sim/certificates`, '{not json', 'application/json');
    expect(badJson.status).toBe(400);
    expect(badJson.text).not.toMatch(/at .*\.(js|ts):\d+/);
    expect(badJson.json).toMatchObject({ error: 'INVALID_INPUT' });

    const badCert = await post(
      `${sim.url}/sim/certificates`,
      JSON.stringify({ certificateBase64: 'bm90IGEgY2VydA==' }),
      'application/json',
    );
    expect(badCert.status).toBe(400);
    expect(badCert.json).toMatchObject({ error: 'INVALID_INPUT', message: expect.stringContaining('certificate') });

    const badCallbacks = await post(
      `${sim.url}/sim/callbacks`,
      JSON.stringify({ ingressUrl: 'http://x', callbacks: [{}] }),
      'application/json',
    );
    expect(badCallbacks.status).toBe(400);

    const missing = await getJson(`${sim.url}/nowhere`);
    expect(missing).toEqual({ status: 404, json: { error: 'NOT_FOUND', message: 'no route for GET /nowhere' } });
    expect((await getJson(`${sim.url}/health`)).json).toEqual({ status: 'ok' });
  });
});
