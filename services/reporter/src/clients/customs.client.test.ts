import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CustomsClient } from './customs.client';

/** A local HTTP server standing in for customs, answering every upload with `body`. */
async function customsAnswering(body: string): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/realTimeDataUpload`, server };
}

describe('CustomsClient reading the code', () => {
  const servers: Server[] = [];
  afterAll(async () => {
    for (const server of servers) await new Promise((resolve) => server.close(resolve));
  });

  async function upload(body: string) {
    const customs = await customsAnswering(body);
    servers.push(customs.server);
    return new CustomsClient(customs.url, 5_000).upload('payExInfoStr=x');
  }

  it('takes a code sent as a number as its text', async () => {
    await expect(upload('{"code":10000,"message":"ok"}')).resolves.toMatchObject({ code: '10000', message: 'ok' });
  });

  it('treats a code that is neither text nor a number as not customs, rather than "[object Object]"', async () => {
    await expect(upload('{"code":{"value":"10000"}}')).rejects.toMatchObject({
      code: 'TRANSPORT',
      message: 'customs answered HTTP 200 with a code that is neither text nor a number',
    });
  });
});
