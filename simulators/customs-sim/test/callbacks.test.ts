import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { CUSTOMS_USER_AGENT, startCustomsSim, type CustomsSim } from '../src/index';

interface Seen {
  contentType: string | undefined;
  userAgent: string | undefined;
  raw: string;
}

/** A stand-in for the platform's ingress that keeps exactly what customs sent. */
async function startIngress(
  reply: (seen: Seen, res: express.Response) => void = (_s, res) => void res.json({ code: '10000', message: '', serviceTime: Date.now() }),
) {
  const seen: Seen[] = [];
  const app = express();
  app.post('/platDataOpen', express.text({ type: () => true }), (req, res) => {
    const entry = { contentType: req.get('content-type'), userAgent: req.get('user-agent'), raw: String(req.body) };
    seen.push(entry);
    reply(entry, res);
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    seen,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/platDataOpen`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('customs-sim callbacks', () => {
  let sim: CustomsSim;
  let ingress: Awaited<ReturnType<typeof startIngress>>;

  beforeEach(async () => {
    sim = await startCustomsSim();
    ingress = await startIngress();
  });
  afterEach(async () => {
    await sim.stop();
    await ingress.stop();
  });

  it("posts one openReq form field with serviceTime as a string, as customs' Java client does", async () => {
    const result = await sim.fireCallback({ ingressUrl: ingress.url, orderNo: 'O-1 测试&x', sessionID: 'S-1', serviceTime: 1700000000123 });
    const [seen] = ingress.seen;
    expect(seen?.contentType).toMatch(/^application\/x-www-form-urlencoded/);
    expect(seen?.userAgent).toBe('Apache-HttpClient/4.5.3 (Java/1.8.0_60)');
    expect(CUSTOMS_USER_AGENT).toBe(seen?.userAgent);
    const form = new URLSearchParams(seen?.raw);
    expect([...form.keys()]).toEqual(['openReq']);
    expect(form.get('openReq')).toBe('{"orderNo":"O-1 测试&x","sessionID":"S-1","serviceTime":"1700000000123"}');
    expect(seen?.raw.startsWith('openReq=%7B%22orderNo%22%3A%22O-1+%E6%B5%8B%E8%AF%95%26x%22')).toBe(true);

    expect(result).toMatchObject({
      orderNo: 'O-1 测试&x',
      sessionID: 'S-1',
      serviceTimeSentAs: 'string',
      httpStatus: 200,
      body: { code: '10000' },
    });
    expect(result.contentType).toMatch(/^application\/json/);
    expect(result.latencyMs).toBeGreaterThan(0);
  });

  it('sends serviceTime as a number when asked, and makes up a sessionID and a time', async () => {
    const before = Date.now();
    const result = await sim.fireCallback({ ingressUrl: ingress.url, orderNo: 'O-2', serviceTimeAs: 'number', userAgent: 'test-agent' });
    const openReq = JSON.parse(new URLSearchParams(ingress.seen[0]?.raw).get('openReq') as string) as Record<string, unknown>;
    expect(Object.keys(openReq)).toEqual(['orderNo', 'sessionID', 'serviceTime']);
    expect(typeof openReq['serviceTime']).toBe('number');
    expect(openReq['serviceTime'] as number).toBeGreaterThanOrEqual(before);
    expect(openReq['sessionID']).toBe(result.sessionID);
    expect(result.sessionID).toMatch(/^[0-9a-f]{32}$/);
    expect(result.serviceTimeSentAs).toBe('number');
    expect(ingress.seen[0]?.userAgent).toBe('test-agent');
  });

  it('reports a non-JSON reply as text and its latency', async () => {
    const slow = await startIngress((_s, res) => void setTimeout(() => res.status(500).type('text/plain').send('oops'), 120));
    try {
      const result = await sim.fireCallback({ ingressUrl: slow.url, orderNo: 'O-3' });
      expect(result).toMatchObject({ httpStatus: 500, body: 'oops' });
      expect(result.latencyMs).toBeGreaterThanOrEqual(100);
    } finally {
      await slow.stop();
    }
  });

  it('rejects when the platform cannot be reached', async () => {
    const gone = await startIngress();
    await gone.stop();
    await expect(sim.fireCallback({ ingressUrl: gone.url, orderNo: 'O-4' })).rejects.toMatchObject({ code: 'TRANSPORT' });
  });
});
