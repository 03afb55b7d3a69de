import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { childrenOf, portAccepts, postgresAnswers, repoRoot, testInfra, waitFor } from '@ceb179/testkit';

const run = promisify(execFile);

/**
 * Stops and starts the shared RabbitMQ, Postgres and Redis that scripts/infra-up.sh brought up,
 * for the fault tests in tests/disruptive (which run alone, never beside other test files) and
 * the chaos tool. Everyone using the machine's infrastructure feels these: never call them from
 * a test that runs in parallel with others.
 *
 * Local services (Debian packages) are driven with rabbitmqctl, pg_ctlcluster and redis-cli /
 * redis-server, as root or through `sudo -n`; when infra-up.sh used Docker (CEB179_INFRA not
 * "local" and a Docker engine answers), the same happens inside the compose containers.
 */
export interface InfraControl {
  /** `rabbitmqctl stop_app`: connections drop, the port refuses; queues and messages stay on disk. */
  stopRabbit(): Promise<void>;
  /** `rabbitmqctl start_app`, then waits until AMQP and the management API answer. */
  startRabbit(): Promise<void>;
  /** Restarts the Postgres cluster (fast shutdown: sessions are cut) and waits until it answers. */
  restartPostgres(): Promise<void>;
  /** Stops the Postgres cluster (fast shutdown): connections are refused until startPostgres(). */
  stopPostgres(): Promise<void>;
  startPostgres(): Promise<void>;
  /** Shuts Redis down without saving (its keys are gone, as after a crash) and starts it again. */
  restartRedis(): Promise<void>;
  /**
   * SIGSTOPs Postgres (the postmaster and every backend) or Redis: the server keeps its sockets
   * open but answers nothing, as a hung server or a network black hole does. `docker compose
   * pause` where the services run in Docker.
   */
  stall(service: 'postgres' | 'redis'): Promise<void>;
  /** SIGCONT (docker compose unpause): what stall() stopped answers again. Harmless when not stalled. */
  resume(service: 'postgres' | 'redis'): Promise<void>;
  /** Starts whatever of the three is not running or stalled (after a failed test, an interrupted chaos run). */
  ensureUp(): Promise<void>;
}

const READY_TIMEOUT_MS = 120_000;

function hostPort(url: string, defaultPort: number): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname || '127.0.0.1', port: parsed.port ? Number(parsed.port) : defaultPort };
}

const portOpen = (host: string, port: number): Promise<boolean> => portAccepts(host, port, 2_000);

function sharedPostgresAnswers(): Promise<boolean> {
  return postgresAnswers(testInfra.adminDatabaseUrl, 3_000);
}

async function rabbitApiAnswers(): Promise<boolean> {
  const auth = Buffer.from(`${testInfra.rabbitUser}:${testInfra.rabbitPassword}`).toString('base64');
  try {
    const response = await fetch(`${testInfra.rabbitApiUrl}/overview`, {
      headers: { authorization: `Basic ${auth}` },
      signal: AbortSignal.timeout(3_000),
    });
    return response.ok;
  } catch {
    return false;
  }
}

async function until(what: string, probe: () => Promise<boolean>): Promise<void> {
  await waitFor(what, async () => ((await probe()) ? true : undefined), READY_TIMEOUT_MS, 250);
}

/** Running processes whose command name is `name`, with their command lines, from /proc. */
function processesNamed(name: string): Array<{ pid: number; cmdline: string }> {
  const found: Array<{ pid: number; cmdline: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== name) continue;
      found.push({ pid: Number(entry), cmdline: readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ') });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** `docker compose <args>` in the repository (where docker-compose.yml is). */
async function compose(...args: string[]): Promise<void> {
  await run('docker', ['compose', ...args], { timeout: 120_000, cwd: repoRoot() });
}

function useDocker(): Promise<boolean> {
  if (process.env.CEB179_INFRA === 'local') return Promise.resolve(false);
  return run('docker', ['info'], { timeout: 10_000 }).then(
    () => true,
    () => false,
  );
}

/** Runs a command as root (directly, or through sudo -n), or inside a compose service's container. */
function commandRunner(docker: boolean) {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  return async (service: 'rabbitmq' | 'postgres' | 'redis', command: string[], timeout = 120_000): Promise<string> => {
    const [file, args] = docker
      ? ['docker', ['compose', 'exec', '-T', service, ...command]]
      : root
        ? [command[0] as string, command.slice(1)]
        : ['sudo', ['-n', ...command]];
    try {
      const { stdout } = await run(file, args, {
        timeout,
        cwd: docker ? repoRoot() : '/',
        env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/usr/lib/rabbitmq/bin` },
      });
      return stdout;
    } catch (error) {
      const detail = error as { stderr?: string; message: string };
      throw new Error(`${[file, ...args].join(' ')} failed: ${detail.stderr?.trim() || detail.message}`);
    }
  };
}

/** The local Postgres cluster ("15 main") serving the tests' port, from pg_lsclusters. */
async function localCluster(exec: ReturnType<typeof commandRunner>): Promise<[string, string]> {
  const [version, name] = await localClusterLine(exec);
  return [version as string, name as string];
}

/** pg_lsclusters' line for the tests' port: version, name, port, status, owner, data directory, log. */
async function localClusterLine(exec: ReturnType<typeof commandRunner>): Promise<string[]> {
  const { port } = hostPort(testInfra.adminDatabaseUrl, 5432);
  const listing = await exec('postgres', ['pg_lsclusters', '-h']);
  for (const line of listing.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields[0] && fields[1] && Number(fields[2]) === port) return fields;
  }
  throw new Error(`no local Postgres cluster listens on port ${port} (pg_lsclusters: ${listing.trim()})`);
}

export async function infraControl(): Promise<InfraControl> {
  const docker = await useDocker();
  const exec = commandRunner(docker);
  const amqp = hostPort(testInfra.amqpBaseUrl, 5672);
  const redis = hostPort(testInfra.redisBaseUrl, 6379);

  const startRabbit = async () => {
    await exec('rabbitmq', ['rabbitmqctl', 'start_app']);
    await until('RabbitMQ to accept connections', () => portOpen(amqp.host, amqp.port));
    await until('the RabbitMQ management API', rabbitApiAnswers);
  };
  /** pg_ctlcluster (or docker compose) with `action`; then waits until Postgres answers unless it was stopped. */
  const postgres = async (action: 'start' | 'stop' | 'restart') => {
    if (docker) await compose(action === 'start' ? 'start' : action, 'postgres');
    else {
      const [version, name] = await localCluster(exec);
      await exec('postgres', ['pg_ctlcluster', '--skip-systemctl-redirect', version, name, action]);
    }
    if (action !== 'stop') await until('Postgres to answer', sharedPostgresAnswers);
  };
  const startRedis = async () => {
    if (docker) await compose('up', '-d', 'redis');
    else {
      await exec('redis', [
        'redis-server',
        '--daemonize',
        'yes',
        '--port',
        String(redis.port),
        '--bind',
        redis.host,
        '--save',
        '',
        '--appendonly',
        'no',
      ]);
    }
    await until('Redis to accept connections', () => portOpen(redis.host, redis.port));
  };
  /** The processes to stop for a stall: the postmaster and its children, or redis-server. */
  const stallTargets = async (service: 'postgres' | 'redis'): Promise<number[]> => {
    if (service === 'redis') {
      // From /proc, not redis-cli: a stalled Redis does not answer, and must still be found to continue it.
      const listens = new RegExp(`(:|--port )${redis.port}(\\s|$)`);
      const pids = processesNamed('redis-server')
        .filter((p) => listens.test(p.cmdline))
        .map((p) => p.pid);
      if (pids.length === 0) throw new Error(`no redis-server process for port ${redis.port}`);
      return pids;
    }
    const dataDir = (await localClusterLine(exec))[5];
    const postmaster = Number((await exec('postgres', ['head', '-1', `${dataDir}/postmaster.pid`], 10_000)).trim());
    if (!postmaster) throw new Error(`no postmaster.pid in ${dataDir}`);
    return [postmaster, ...childrenOf(postmaster)];
  };
  const signal = async (service: 'postgres' | 'redis', action: 'STOP' | 'CONT') => {
    if (docker) {
      await compose(action === 'STOP' ? 'pause' : 'unpause', service).catch((error: unknown) => {
        if (action === 'STOP') throw error; // unpausing what is not paused fails: fine
      });
      return;
    }
    const pids = await stallTargets(service);
    // Stop the parent first (it forks no new backend meanwhile), continue it last.
    const ordered = action === 'STOP' ? pids : [...pids].reverse();
    await exec(service, ['kill', `-${action}`, ...ordered.map(String)], 10_000);
  };
  return {
    stall: (service) => signal(service, 'STOP'),
    resume: (service) => signal(service, 'CONT'),
    stopRabbit: async () => void (await exec('rabbitmq', ['rabbitmqctl', 'stop_app'])),
    startRabbit,
    restartPostgres: () => postgres('restart'),
    stopPostgres: () => postgres('stop'),
    startPostgres: () => postgres('start'),
    async restartRedis() {
      if (docker) {
        await compose('restart', 'redis');
        await until('Redis to accept connections', () => portOpen(redis.host, redis.port));
        return;
      }
      await exec('redis', ['redis-cli', '-h', redis.host, '-p', String(redis.port), 'shutdown', 'nosave']).catch(() => undefined);
      await until('Redis to stop', async () => !(await portOpen(redis.host, redis.port)));
      await startRedis();
    },
    async ensureUp() {
      await signal('postgres', 'CONT').catch(() => undefined);
      await signal('redis', 'CONT').catch(() => undefined);
      if (!(await portOpen(amqp.host, amqp.port)) || !(await rabbitApiAnswers())) await startRabbit();
      if (!(await sharedPostgresAnswers())) {
        if (docker) await compose('up', '-d', 'postgres');
        else {
          const [version, name] = await localCluster(exec);
          // "already running" is fine: it may just be starting.
          await exec('postgres', ['pg_ctlcluster', '--skip-systemctl-redirect', version, name, 'start']).catch(() => undefined);
        }
        await until('Postgres to answer', sharedPostgresAnswers);
      }
      if (!(await portOpen(redis.host, redis.port))) await startRedis();
    },
  };
}
