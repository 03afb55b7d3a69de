import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CustomsClient, CustomsHttpError, CustomsUnreachableError } from '../src/clients/customs.client';

/** The customs client over real HTTP against a bare server that answers what customs' side might. */
describe('CustomsClient', () => {
  let server: Server;
  let url: string;
  let answer: (response: ServerResponse) => void;
  const bodies: string[] = [];
  const sockets = new Set<unknown>();

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        bodies.push(body);
        answer(response);
      });
    });
    server.on('connection', (socket) => sockets.add(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ceb2grab/grab/realTimeDataUpload`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => (bodies.length = 0));

  it('posts the form body and returns customs code and message; keeps the connection for the next upload', async () => {
    answer = (response) =>
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"code":"10000","message":"ok","serviceTime":1}');
    const client = new CustomsClient(url, 5_000);
    const connectionsBefore = sockets.size;
    expect(await client.upload('payExInfoStr=a%20b')).toEqual({
      httpStatus: 200,
      code: '10000',
      message: 'ok',
      latencyMs: expect.any(Number),
    });
    expect(await client.upload('payExInfoStr=c')).toMatchObject({ code: '10000' });
    expect(bodies).toEqual(['payExInfoStr=a%20b', 'payExInfoStr=c']);
    expect(sockets.size - connectionsBefore).toBe(1);
    client.close();
  });

  it('a redirect is a configuration fault naming where it points, and nothing is sent there', async () => {
    answer = (response) => response.writeHead(307, { location: 'https://elsewhere.example/upload' }).end();
    const client = new CustomsClient(url, 5_000);
    const failure = await client.upload('payExInfoStr=x').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CustomsHttpError);
    expect(failure).toMatchObject({ code: 'CONFIG', httpStatus: 307 });
    expect(String((failure as Error).message)).toContain('https://elsewhere.example/upload');
    expect(bodies).toHaveLength(1);
    client.close();
  });

  it('no answer within the time limit is a transport fault that may have reached customs', async () => {
    answer = () => undefined; // holds the reply
    const client = new CustomsClient(url, 300);
    const failure = await client.upload('payExInfoStr=x').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CustomsUnreachableError);
    expect(failure).toMatchObject({ code: 'TRANSPORT', mayHaveReached: true });
    client.close();
  });

  it('a refused connection never reached customs', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const client = new CustomsClient(`http://127.0.0.1:${port}/upload`, 2_000);
    const failure = await client.upload('payExInfoStr=x').catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'TRANSPORT', mayHaveReached: false });
    expect(String((failure as Error).message)).toContain('ECONNREFUSED');
    client.close();
  });
});
