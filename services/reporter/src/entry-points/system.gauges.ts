import type { Redis } from 'ioredis';
import { Queues } from '@ceb179/contracts';
import type { Pool } from '@ceb179/db';
import { bounded, type Gauge, type ServiceMetrics } from '@ceb179/metrics';
import type { Broker } from '@ceb179/mq';
import { countByStatus, IN_FLIGHT_STATUSES, readSigners, type SignerCard } from '@ceb179/operator';

/**
 * Scrape-time gauges the reporter exports for the whole system: requests by status, the oldest
 * request still in flight, dead letters waiting, and every signer's last heartbeat (state,
 * certificate days left), read from the ledger, RabbitMQ and Redis when Prometheus asks.
 */
export function registerSystemGauges(metrics: ServiceMetrics, pool: Pool, redis: Redis, broker: Broker): void {
  metrics.gauge('ceb179_requests', 'Requests received in the last 24 h by ledger status', ['status'], async (gauge) => {
    const counts = await bounded(() => countByStatus(pool, 24));
    if (!counts) return;
    for (const c of counts) gauge.set({ status: c.status }, c.count);
  });
  metrics.gauge(
    'ceb179_late_requests',
    'Requests of the last 24 h uploaded after the deadline, or still in flight past it',
    [],
    async (gauge) => {
      const result = await bounded(() =>
        pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ceb179.request WHERE received_at > now() - interval '24 hours'
          AND (late OR (status = ANY($1::text[]) AND deadline_at < now()))`,
          [IN_FLIGHT_STATUSES],
        ),
      );
      if (result) gauge.set(result.rows[0]?.n ?? 0);
    },
  );
  metrics.gauge(
    'ceb179_oldest_in_flight_seconds',
    "Age of the oldest request not finished yet (0 when none): the backlog's age",
    [],
    async (gauge) => {
      const result = await bounded(() =>
        pool.query<{ age: number | null }>(
          'SELECT extract(epoch FROM now() - min(received_at))::float8 AS age FROM ceb179.request WHERE status = ANY($1::text[])',
          [IN_FLIGHT_STATUSES],
        ),
      );
      if (result) gauge.set(result.rows[0]?.age ?? 0);
    },
  );
  metrics.gauge(
    'ceb179_dead_letters',
    'Messages waiting in ceb179.dead-letters (npx ceb179 redrive moves them back)',
    [],
    async (gauge) => {
      const depth = await bounded(() => broker.queueDepth(Queues.deadLetters));
      if (depth !== undefined) gauge.set(depth);
    },
  );
  // One Redis read per scrape, shared by the signer gauges (prom-client collects them side by side).
  let cached: { at: number; cards: Promise<SignerCard[] | undefined> } | undefined;
  const signers = () => {
    if (!cached || Date.now() - cached.at > 1_000) cached = { at: Date.now(), cards: bounded(() => readSigners(redis)) };
    return cached.cards;
  };
  const perSigner = <L extends string>(
    name: string,
    help: string,
    labels: readonly L[],
    set: (gauge: Gauge<L>, card: SignerCard) => void,
  ) =>
    metrics.gauge(name, help, labels, async (gauge) => {
      const cards = await signers();
      if (!cards) return;
      gauge.reset();
      for (const card of cards) set(gauge, card);
    });
  perSigner('ceb179_signer_up', 'A signer whose heartbeat is fresh (1) or silent (0)', ['signer'], (g, c) =>
    g.set({ signer: c.signerId }, c.silent ? 0 : 1),
  );
  perSigner(
    'ceb179_signer_state',
    "1 for a signer's current state (ready, starting, paused-for-pin, reader-fault, signing-fault, expired, silent)",
    ['signer', 'state'],
    (g, c) => g.set({ signer: c.signerId, state: c.state }, 1),
  );
  perSigner('ceb179_signer_certificate_days_left', "Days until the signer's card certificate expires", ['signer', 'cert_no'], (g, c) => {
    if (c.daysLeft !== null) g.set({ signer: c.signerId, cert_no: c.certNo ?? '' }, c.daysLeft);
  });
  perSigner('ceb179_signer_last_heartbeat_timestamp_seconds', "When the signer's last heartbeat was seen", ['signer'], (g, c) =>
    g.set({ signer: c.signerId }, Date.parse(c.lastSeenAt) / 1000),
  );
}
