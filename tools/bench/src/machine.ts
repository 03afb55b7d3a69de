import { readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import os from 'node:os';
import { Client } from 'pg';
import { testInfra } from '@ceb179/testkit';
import type { MachineFigures } from './report-types';

/** The machine and the versions of what the figures depend on, printed with them. */
export async function describeMachine(): Promise<MachineFigures> {
  const cpuinfo = safeRead('/proc/cpuinfo');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  const osRelease = /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(safeRead('/etc/os-release'))?.[1] ?? `${os.type()} ${os.release()}`;
  return {
    cpu: model,
    cores: os.cpus().length,
    memoryGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: osRelease,
    kernel: os.release(),
    node: process.version,
    rabbitmq: await rabbitVersion(),
    postgres: await postgresVersion(),
    redis: await redisVersion(),
    loadAverage: os
      .loadavg()
      .map((n) => n.toFixed(2))
      .join(' '),
  };
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

async function rabbitVersion(): Promise<string> {
  try {
    const auth = Buffer.from(`${testInfra.rabbitUser}:${testInfra.rabbitPassword}`).toString('base64');
    const response = await fetch(`${testInfra.rabbitApiUrl}/overview`, {
      headers: { authorization: `Basic ${auth}` },
      signal: AbortSignal.timeout(5_000),
    });
    const body = (await response.json()) as { rabbitmq_version?: string; erlang_version?: string };
    return `${body.rabbitmq_version ?? 'unknown'} (Erlang ${body.erlang_version ?? '?'})`;
  } catch {
    return 'unknown';
  }
}

async function postgresVersion(): Promise<string> {
  const client = new Client({ connectionString: testInfra.adminDatabaseUrl, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    return rows[0]?.server_version ?? 'unknown';
  } catch {
    return 'unknown';
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** INFO server over a plain socket: the bench needs no Redis client for one line. */
function redisVersion(): Promise<string> {
  const url = new URL(testInfra.redisBaseUrl);
  return new Promise((resolve) => {
    const socket = createConnection({ host: url.hostname || '127.0.0.1', port: Number(url.port || 6379) });
    let text = '';
    const finish = (value: string) => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(5_000, () => finish('unknown'));
    socket.on('error', () => finish('unknown'));
    socket.on('connect', () => socket.write('INFO server\r\n'));
    socket.on('data', (chunk) => {
      text += chunk.toString();
      const version = /redis_version:(\S+)/.exec(text)?.[1];
      if (version) finish(version);
    });
  });
}
