import * as amqp from 'amqplib';
import { Redis } from 'ioredis';
import { commonSettings, loadConfig } from '@ceb179/config';
import { AmqpHeaders } from '@ceb179/contracts';
import { createPool } from '@ceb179/db';
import { deadLetterCount } from '@ceb179/mq';
import { readSigners } from '@ceb179/operator';
import { faultDoc } from './error-doc';

/**
 * `npm run status` — what an operator asks first: how many requests are where, which ones
 * need a person, how many were late, and what every signer (card PC) last said. Reads the
 * ledger (CEB179_DATABASE_URL) and the heartbeats the reporter keeps in Redis (CEB179_REDIS_URL).
 */
async function main(): Promise<void> {
  const config = loadConfig({
    databaseUrl: commonSettings.databaseUrl,
    redisUrl: commonSettings.redisUrl,
    amqpUrl: commonSettings.amqpUrl,
  });
  const hours = Number(process.argv[2] ?? '24');
  const pool = createPool(config.databaseUrl, { applicationName: 'ceb179-status', max: 1 });
  const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, commandTimeout: 5_000, connectTimeout: 5_000 });
  try {
    const since = `now() - make_interval(hours => ${Math.max(1, Math.floor(hours))})`;
    const counts = await pool.query<{ status: string; n: number; late: number }>(
      `SELECT status, count(*)::int AS n, count(*) FILTER (WHERE late)::int AS late
         FROM ceb179.request WHERE received_at > ${since} GROUP BY status ORDER BY status`,
    );
    console.log(`requests received in the last ${hours} h`);
    for (const row of counts.rows)
      console.log(`  ${row.status.padEnd(16)} ${String(row.n).padStart(7)}${row.late ? `   (${row.late} late)` : ''}`);
    if (counts.rows.length === 0) console.log('  none');

    const stuck = await pool.query<{ session_id: string; status: string; age_s: number; reason: string | null; ebp_code: string | null }>(
      `SELECT session_id, status, extract(epoch FROM now() - received_at)::int AS age_s, reason, ebp_code
         FROM ceb179.request
        WHERE status IN ('received', 'assembled', 'signed') AND received_at < now() - interval '2 minutes'
        ORDER BY received_at LIMIT 20`,
    );
    console.log('\npast the 2-minute deadline and not finished');
    for (const r of stuck.rows)
      console.log(`  ${r.session_id}  ${r.status.padEnd(9)} ${r.age_s}s  ebpCode ${r.ebp_code ?? '-'}  ${r.reason ?? ''}`);
    if (stuck.rows.length === 0) console.log('  none');

    const faults = await pool.query<{
      session_id: string;
      order_no: string;
      status: string;
      reason: string | null;
      customs_code: string | null;
    }>(
      `SELECT session_id, order_no, status, reason, customs_code FROM ceb179.request
        WHERE status IN ('data_fault', 'config_fault', 'upload_rejected') AND received_at > ${since}
        ORDER BY updated_at DESC LIMIT 20`,
    );
    console.log('\nneeding a person (latest 20)');
    for (const f of faults.rows) {
      console.log(
        `  ${f.session_id}  order ${f.order_no}  ${f.status}${f.customs_code ? ` ${f.customs_code}` : ''}: ${f.reason ?? ''}  (see ${faultDoc(f.status, f.customs_code)})`,
      );
    }
    if (faults.rows.length === 0) console.log('  none');

    console.log(`\ndead letters: ${await deadLetters(config.amqpUrl)}`);

    console.log('\nsigners (card PCs)');
    try {
      await redis.connect();
      const signers = await readSigners(redis, 100);
      if (signers.length === 0) console.log('  none has reported');
      for (const h of signers) {
        const id = h.signerId;
        if (h.silent) {
          console.log(`  ${id.padEnd(20)} SILENT since ${h.lastSeenAt}: is the card PC on and the signer service running?`);
          continue;
        }
        const expiry = h.daysLeft === null ? '' : `  certificate ${h.daysLeft} days left${h.daysLeft <= 30 ? ' (RENEW)' : ''}`;
        console.log(
          `  ${id.padEnd(20)} ${h.state.padEnd(15)} certNo ${h.certNo ?? '-'} ${h.algorithm ?? ''}  ebpCodes ${h.ebpCodes.join(',') || 'all'}  last signature ${h.lastSuccessAt ?? 'none'}${expiry}${h.reason ? `\n${' '.repeat(23)}${h.reason}` : ''}`,
        );
      }
    } catch (error) {
      console.log(`  unknown: Redis unreachable (${(error as Error).message})`);
    }
  } finally {
    await pool.end();
    redis.disconnect();
  }
}

main().catch((error: unknown) => {
  console.error(`status failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

/** How many messages wait in ceb179.dead-letters, with what to do about them. */
async function deadLetters(amqpUrl: string): Promise<string> {
  let connection: amqp.ChannelModel | undefined;
  try {
    connection = await amqp.connect(amqpUrl, { timeout: 5_000, clientProperties: { connection_name: 'ceb179-status' } });
    const count = await deadLetterCount(await connection.createConfirmChannel());
    return count === 0
      ? '0'
      : `${count}: see the reason in their header ${AmqpHeaders.deadLetterReason}; once fixed, \`npm run redrive\` moves them back`;
  } catch (error) {
    return `unknown: RabbitMQ unreachable (${(error as Error).message})`;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}
