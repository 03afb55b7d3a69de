import type { Server } from 'node:http';

/** Listens with bounded header and request times; resolves with the port actually bound (0 = any free one). */
export async function listenBounded(server: Server, port: number, requestTimeoutMs: number): Promise<number> {
  server.headersTimeout = 10_000;
  server.requestTimeout = requestTimeoutMs;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
  const address = server.address();
  return typeof address === 'object' && address ? address.port : port;
}

/** Stops accepting, lets requests in flight finish, drops idle keep-alive connections. */
export function closeGracefully(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
