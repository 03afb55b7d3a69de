/**
 * The unit project's guarantee: its tests run on a machine without RabbitMQ, Postgres or Redis. Any
 * connection a unit test opens to their ports (or to Postgres' and Redis' unix sockets) fails at once
 * with the test's name, instead of passing here and failing where nothing is running. Every client
 * (pg, ioredis, amqplib, fetch to the management API) opens its sockets through net.Socket#connect.
 *
 * Installed when a test file loads (before its imports run) and removed after it: a jest worker may
 * run a component test file next. A unit file that fails to load never gets to remove it, so the
 * other projects put the original back before each of their files (infrastructure-allowed.ts).
 */
import net from 'node:net';
import { ORIGINAL_CONNECT, restoreSocketConnect } from './socket-connect';

const INFRASTRUCTURE_PORTS: ReadonlyMap<number, string> = new Map([
  [5432, 'Postgres'],
  [5672, 'RabbitMQ'],
  [15672, 'the RabbitMQ management API'],
  [6379, 'Redis'],
]);

interface Destination {
  port?: unknown;
  path?: unknown;
}

function destinationOf(args: unknown[]): Destination {
  const [first] = args;
  if (Array.isArray(first)) return destinationOf(first); // net.connect's normalised form: [options, callback]
  if (first !== null && typeof first === 'object') return first;
  if (typeof first === 'string' && !/^\d+$/.test(first)) return { path: first };
  return { port: first };
}

/** The infrastructure a connection would reach, or undefined when it is something else (a local test server). */
function infrastructureDialled(args: unknown[]): string | undefined {
  const { port, path } = destinationOf(args);
  if (typeof path === 'string') {
    if (path.includes('.s.PGSQL.')) return `Postgres (unix socket ${path})`;
    if (/redis/i.test(path)) return `Redis (unix socket ${path})`;
    return undefined;
  }
  const service = INFRASTRUCTURE_PORTS.get(Number(port));
  return service && `${service} (port ${String(port)})`;
}

restoreSocketConnect(); // a guard a unit file before this one failed to remove
// The prototype's own method, called later with .apply(socket, ...): `this` is supplied then.
// eslint-disable-next-line @typescript-eslint/unbound-method -- re-bound with apply() in guardedConnect
const originalConnect = net.Socket.prototype.connect;
/** Connections refused since the last check: a client may swallow the error (fetch wraps it, ioredis retries). */
const refused: string[] = [];

function guardedConnect(this: net.Socket, ...args: unknown[]): net.Socket {
  const service = infrastructureDialled(args);
  if (service) {
    const { currentTestName, testPath } = expect.getState();
    // currentTestName is the last test started: the connection may come from it or from a hook after it.
    const where = `${testPath ?? 'a unit test file'}${currentTestName ? ` (in or after the test "${currentTestName}")` : ''}`;
    const problem =
      `unit test ${where} tried to connect to ${service}: unit tests run without RabbitMQ, Postgres or Redis. ` +
      "Use an in-memory fake of the port, or move the test to its package's test/ directory (component tier).";
    refused.push(problem);
    throw new Error(problem);
  }
  return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
}

Object.defineProperty(net.Socket.prototype, ORIGINAL_CONNECT, { value: originalConnect, configurable: true });
net.Socket.prototype.connect = guardedConnect;

function failOnRefusedConnections(): void {
  const problems = refused.splice(0);
  if (problems.length > 0) throw new Error([...new Set(problems)].join('\n'));
}

afterEach(failOnRefusedConnections);

afterAll(() => {
  restoreSocketConnect();
  failOnRefusedConnections();
});
