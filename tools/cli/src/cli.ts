import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { commonSettings, loadConfig, type ConfigOf } from '@ceb179/config';
import { createPool, type Pool } from '@ceb179/db';
import { isAppError } from '@ceb179/errors';
import {
  AmqpResendPublisher,
  awaitResendOutcome,
  findTimelines,
  knownCertificate,
  listRequests,
  loadStoredDocument,
  readSigners,
  redrive,
  requestResend,
  verifyStoredDocument,
  type ListKind,
} from '@ceb179/operator';
import { renderList, renderRedrive, renderSigners, renderTimeline, renderVerify } from './render';

/**
 * `npx ceb179 <command>`: look a request up, list what needs a person, re-send, re-drive dead
 * letters, re-verify a stored signature, see the signers: without SQL or the RabbitMQ UI. Reads
 * CEB179_DATABASE_URL, CEB179_REDIS_URL and CEB179_AMQP_URL (or their _FILE variants).
 */
export const ExitCode = {
  ok: 0,
  /** A dependency (Postgres, Redis, RabbitMQ) failed or something unexpected happened. */
  failure: 1,
  usage: 2,
  notFound: 3,
  /** Refused (re-send of a request customs holds) or a check failed (signature does not verify). */
  refused: 4,
} as const;

const USAGE = `usage: ceb179 <command> [options]   (add --json for machine-readable output)
  show <sessionID|orderNo>              the whole timeline: stages, deadline, every upload attempt
  list --failed|--late|--in-flight|--all [--limit N (20)] [--hours H]
  resend <sessionID> [--wait-ms N (30000)] [--no-wait]
                                        upload the stored document again (refused if customs holds it)
  redrive [--queue <source queue>] [--limit N]
                                        move dead letters back to the queue each came from
  verify <sessionID> [--certificate <file>]
                                        re-verify the stored signature (certificate: the one the signers reported, or the file)
  signers                               every signer's last heartbeat
exit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 refused or verification failed`;

class UsageError extends Error {}
class CommandExit extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const settingsSchema = { databaseUrl: commonSettings.databaseUrl, redisUrl: commonSettings.redisUrl, amqpUrl: commonSettings.amqpUrl };
type Settings = ConfigOf<typeof settingsSchema>;

function settings(): Settings {
  return loadConfig(settingsSchema);
}

async function withPool<T>(work: (pool: Pool) => Promise<T>): Promise<T> {
  const pool = createPool(settings().databaseUrl, { applicationName: 'ceb179-cli', max: 1 });
  try {
    return await work(pool);
  } finally {
    await pool.end();
  }
}

async function withRedis<T>(work: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(settings().redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 5_000,
    enableOfflineQueue: false,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await work(redis);
  } finally {
    redis.disconnect();
  }
}

function print(json: boolean, data: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${text}\n`);
}

function oneArgument(positionals: string[], what: string): string {
  const [value, extra] = positionals;
  if (!value) throw new UsageError(`missing ${what}`);
  if (extra !== undefined) throw new UsageError(`unexpected argument ${extra}`);
  return value;
}

function positiveInt(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`${name} must be a positive whole number, not ${value}`);
  return Number(value);
}

export async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return command ? ExitCode.ok : ExitCode.usage;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: 'boolean', default: false },
      failed: { type: 'boolean' },
      late: { type: 'boolean' },
      'in-flight': { type: 'boolean' },
      all: { type: 'boolean' },
      limit: { type: 'string' },
      hours: { type: 'string' },
      'wait-ms': { type: 'string' },
      'no-wait': { type: 'boolean' },
      queue: { type: 'string' },
      certificate: { type: 'string' },
    },
  });
  const json = values.json === true;

  switch (command) {
    case 'show': {
      const key = oneArgument(positionals, 'sessionID or orderNo');
      const timelines = await withPool((pool) => findTimelines(pool, key));
      if (timelines.length === 0) throw new CommandExit(ExitCode.notFound, `no request with sessionID or orderNo ${key} in the ledger`);
      print(json, timelines.length === 1 ? timelines[0] : timelines, timelines.map(renderTimeline).join('\n\n'));
      return ExitCode.ok;
    }
    case 'list': {
      if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
      const kinds = (['failed', 'late', 'in-flight', 'all'] as const).filter((k) => values[k] === true);
      if (kinds.length !== 1) throw new UsageError('list needs exactly one of --failed, --late, --in-flight, --all');
      const kind = kinds[0] as ListKind;
      const limit = positiveInt(values.limit, '--limit', 20);
      const hours = values.hours === undefined ? undefined : positiveInt(values.hours, '--hours', 24);
      const rows = await withPool((pool) => listRequests(pool, { kind, limit, ...(hours === undefined ? {} : { sinceHours: hours }) }));
      print(json, rows, renderList(rows));
      return ExitCode.ok;
    }
    case 'resend': {
      const sessionID = oneArgument(positionals, 'sessionID');
      const waitMs = values['no-wait'] ? 0 : positiveInt(values['wait-ms'], '--wait-ms', 30_000);
      const { amqpUrl } = settings();
      return withPool(async (pool) => {
        const accepted = await requestResend(
          pool,
          new AmqpResendPublisher(amqpUrl, 'ceb179-cli-resend'),
          sessionID,
          `cli:${userInfo().username}`,
        );
        if (waitMs === 0) {
          print(json, { ...accepted, queued: true }, `re-send of ${sessionID} queued for the reporter`);
          return ExitCode.ok;
        }
        const outcome = await awaitResendOutcome(pool, accepted, waitMs);
        const text = outcome.answered
          ? `re-sent ${sessionID}: now ${outcome.timeline.status}\n\n${renderTimeline(outcome.timeline)}`
          : `re-send of ${sessionID} queued, but the reporter recorded no new attempt within ${waitMs} ms (is it running? its log says if it refused)`;
        print(json, { ...accepted, ...outcome }, text);
        if (!outcome.answered) return ExitCode.failure;
        return outcome.timeline.status === 'uploaded' ? ExitCode.ok : ExitCode.refused;
      });
    }
    case 'redrive': {
      if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
      const limit = values.limit === undefined ? undefined : positiveInt(values.limit, '--limit', 1);
      const result = await redrive(settings().amqpUrl, {
        ...(values.queue ? { fromQueue: values.queue } : {}),
        ...(limit ? { limit } : {}),
      });
      print(json, result, renderRedrive(result));
      return ExitCode.ok;
    }
    case 'verify': {
      const sessionID = oneArgument(positionals, 'sessionID');
      const doc = await withPool((pool) => loadStoredDocument(pool, sessionID));
      if (!doc) throw new CommandExit(ExitCode.notFound, `no request with sessionID ${sessionID} in the ledger`);
      if (!doc.certNo || !doc.signValue)
        throw new CommandExit(ExitCode.refused, `${sessionID} is ${doc.status}: the ledger holds no signature to verify`);
      let certificate: string;
      let source: string;
      if (values.certificate) {
        certificate = readFileSync(values.certificate, 'utf8');
        source = `file ${values.certificate}`;
      } else {
        const certNo = doc.certNo;
        const known = await withRedis((redis) => knownCertificate(redis, certNo));
        if (!known) {
          throw new CommandExit(
            ExitCode.notFound,
            `no certificate for certNo ${certNo} reported by any signer (Redis ceb179:certificates); give one with --certificate <file>`,
          );
        }
        certificate = known;
        source = `the certificate a signer reported for certNo ${certNo} (Redis ceb179:certificates)`;
      }
      const report = verifyStoredDocument(doc, certificate, source);
      print(json, report, renderVerify(report));
      return report.signatureValid && report.certNoMatches && report.signStringMatchesDocument ? ExitCode.ok : ExitCode.refused;
    }
    case 'signers': {
      if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
      const cards = await withRedis((redis) => readSigners(redis));
      print(json, cards, renderSigners(cards));
      return ExitCode.ok;
    }
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

/** Runs the command line and sets the exit code (bin/ceb179.js calls this). */
export function main(argv = process.argv.slice(2)): Promise<void> {
  return run(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      const code = (error as { code?: unknown }).code;
      if (error instanceof CommandExit) {
        process.stderr.write(`ceb179: ${error.message}\n`);
        process.exitCode = error.code;
      } else if (error instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
        process.stderr.write(`ceb179: ${(error as Error).message}\n${USAGE}\n`);
        process.exitCode = ExitCode.usage;
      } else if (isAppError(error) && (error.code === 'NOT_FOUND' || error.code === 'INVALID_INPUT')) {
        process.stderr.write(`ceb179: ${error.message}\n`);
        process.exitCode = error.code === 'NOT_FOUND' ? ExitCode.notFound : ExitCode.refused;
      } else {
        process.stderr.write(`ceb179: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = ExitCode.failure;
      }
    },
  );
}

if (require.main === module) void main();
