import type { AddressInfo } from 'node:net';
import express from 'express';
import { createLogger } from '@ceb179/logger';
import { parseAllowList, sourceAllowList } from './source-allow-list.middleware';

const logger = createLogger({ service: 'test', level: 'silent' });

async function call(entries: string[]): Promise<{ status: number; body: unknown; reached: boolean }> {
  let reached = false;
  const app = express();
  app.use(sourceAllowList(parseAllowList(entries), logger));
  app.post('/platDataOpen', (_request, response) => {
    reached = true;
    response.json({ ok: true });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/platDataOpen`, { method: 'POST' });
    return { status: response.status, body: await response.json(), reached };
  } finally {
    server.close();
  }
}

describe('customs source allow-list', () => {
  it('lets everyone in when no list is configured', async () => {
    expect((await call([])).reached).toBe(true);
  });

  it('lets a listed address or block in', async () => {
    expect((await call(['127.0.0.1'])).reached).toBe(true);
    expect((await call(['10.0.0.0/8', '127.0.0.0/8'])).reached).toBe(true);
  });

  it('refuses anyone else with a customs-shaped 20000 reply, before the handler', async () => {
    const refused = await call(['203.0.113.0/24']);
    expect(refused.reached).toBe(false);
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ code: '20000', message: 'source address not allowed', serviceTime: expect.any(Number) });
  });

  it('stops start-up on an entry that is not an address', () => {
    expect(() => parseAllowList(['203.0.113.0/24', 'customs.gov.cn'])).toThrow(
      'CEB179_INGRESS_ALLOWED_SOURCES: "customs.gov.cn" is not an IP address or CIDR block',
    );
    expect(() => parseAllowList(['10.0.0.0/33'])).toThrow('invalid prefix length');
  });
});
