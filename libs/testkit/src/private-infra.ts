import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { waitFor } from './wait';

const run = promisify(execFile);

/**
 * Redis and Postgres instances a test starts for itself, so it may stall them (SIGSTOP: the
 * process keeps its sockets but answers nothing, like a hung server or a network black hole),
 * stop and start them, without touching the machine's shared services. stall() stops the server
 * and every process it forked (Postgres: the postmaster, its backends and helpers). destroy() kills
 * them all and deletes the data; call it in afterAll, even after a failure.
 */
export interface PrivateServer {
  url: string;
  port: number;
  /** SIGSTOP the whole process group. */
  stall(): void;
  /** SIGCONT the whole process group. */
  resume(): void;
  destroy(): Promise<void>;
}

export interface PrivatePostgres extends PrivateServer {
  /** Fast shutdown: sessions are cut, connections refused until start(). */
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Whether something accepts TCP connections on host:port within `timeoutMs`. */
export function portAccepts(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** Child process ids of `pid`, from /proc (Postgres backends each start a session of their own). */
export function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // the process went away meanwhile
    }
  }
  return children;
}

/**
 * Stops or continues a server and every process it forked. Stopping goes parent first (so it
 * forks no new backend meanwhile), continuing goes children first.
 */
function signalTree(child: ChildProcess, signal: 'SIGSTOP' | 'SIGCONT'): void {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const send = (target: number) => {
    try {
      process.kill(target, signal);
    } catch {
      // already gone
    }
  };
  if (signal === 'SIGSTOP') send(pid);
  for (const descendant of childrenOf(pid)) send(descendant);
  if (signal === 'SIGCONT') send(pid);
}

async function endGroup(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const pid = child.pid as number;
  const descendants = childrenOf(pid);
  signalGroup(child, 'SIGKILL');
  for (const descendant of descendants) {
    try {
      process.kill(descendant, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
}

/** `redis-server` on a free loopback port, no persistence. */
export async function startPrivateRedis(): Promise<PrivateServer> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
    {
      detached: true,
      stdio: 'ignore',
    },
  );
  try {
    await waitFor(`private Redis on port ${port}`, async () => ((await portAccepts('127.0.0.1', port)) ? true : undefined), 10_000, 50);
  } catch (error) {
    await endGroup(child);
    throw error;
  }
  return {
    url: `redis://127.0.0.1:${port}/0`,
    port,
    stall: () => signalTree(child, 'SIGSTOP'),
    resume: () => signalTree(child, 'SIGCONT'),
    destroy: () => endGroup(child),
  };
}

const PG_BIN = process.env.CEB179_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const PG_USER = 'ceb179';

/** The uid/gid to run Postgres as: it refuses to run as root. */
async function postgresAccount(): Promise<{ uid: number; gid: number } | undefined> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const [{ stdout: uid }, { stdout: gid }] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}

/** Whether Postgres at `url` answers a query within `timeoutMs` (never throws). */
export async function postgresAnswers(url: string, timeoutMs = 1_000): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * A throw-away Postgres cluster (initdb in a temp dir, trust auth for the superuser `ceb179`, no
 * fsync) on a free loopback port. Its URL points at the `postgres` database: use it as the admin
 * URL from which test databases are created (startPipeline's adminDatabaseUrl).
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  if (!existsSync(path.join(PG_BIN, 'initdb'))) throw new Error(`${PG_BIN}/initdb not found: set CEB179_TEST_PG_BIN`);
  const account = await postgresAccount();
  const dir = mkdtempSync(path.join(tmpdir(), 'ceb179-pg-'));
  if (account) chownSync(dir, account.uid, account.gid);
  const data = path.join(dir, 'data');
  const port = await freePort();
  const url = `postgres://${PG_USER}@127.0.0.1:${port}/postgres`;
  const as = account ? { uid: account.uid, gid: account.gid } : {};
  let child: ChildProcess | undefined;
  const cleanup = async () => {
    await endGroup(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const init = spawn(
        path.join(PG_BIN, 'initdb'),
        ['-D', data, '-U', PG_USER, '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions'],
        {
          ...as,
          stdio: 'ignore',
          cwd: dir,
        },
      );
      init.once('error', reject);
      init.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`initdb exited ${code}`))));
    });
  } catch (error) {
    await cleanup();
    throw error;
  }
  const start = async () => {
    if (child && child.exitCode === null && child.signalCode === null) return; // running already
    child = spawn(
      path.join(PG_BIN, 'postgres'),
      [
        '-D',
        data,
        '-p',
        String(port),
        '-k',
        dir,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=200',
      ],
      { ...as, detached: true, stdio: 'ignore', cwd: dir },
    );
    await waitFor(`private Postgres on port ${port}`, async () => ((await postgresAnswers(url)) ? true : undefined), 30_000, 100);
  };
  try {
    await start();
  } catch (error) {
    await cleanup();
    throw error;
  }
  return {
    url,
    port,
    stall: () => child && signalTree(child, 'SIGSTOP'),
    resume: () => child && signalTree(child, 'SIGCONT'),
    async stop() {
      const current = child;
      if (!current || current.exitCode !== null) return;
      const exited = new Promise((resolve) => current.once('exit', resolve));
      current.kill('SIGINT'); // fast shutdown: sessions cut, then the postmaster exits
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
      await endGroup(current);
    },
    start,
    destroy: cleanup,
  };
}
