import { readFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import * as amqp from 'amqplib';
import { Client } from 'pg';
import { Exchanges, Queues, retryExchangeFor, signJobQueueFor } from '@ceb179/contracts';
import { createVhostUser, makeFixture, repoRoot, waitFor } from '@ceb179/testkit';
import { ledgerRow, startPipeline, type Pipeline } from './pipeline-harness';

type Service = 'ingress' | 'assembler' | 'signer' | 'reporter';

/** Publishes one message with a service's credentials and says what the broker made of it. */
async function tryPublish(url: string, exchange: string, routingKey: string): Promise<string> {
  const connection = await amqp.connect(url);
  try {
    const channel = await connection.createConfirmChannel();
    const closed = new Promise<string>((resolve) => channel.on('error', (error: Error) => resolve(error.message)));
    channel.publish(exchange, routingKey, Buffer.from('{"v":1,"forged":true}'), { persistent: true });
    return await Promise.race([
      channel.waitForConfirms().then(
        () => 'accepted',
        async () => closed,
      ),
      closed,
    ]);
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** Starts consuming a queue with a service's credentials. */
async function tryConsume(url: string, queue: string): Promise<string> {
  const connection = await amqp.connect(url);
  try {
    const channel = await connection.createChannel();
    const closed = new Promise<string>((resolve) => channel.on('error', (error: Error) => resolve(error.message)));
    return await Promise.race([
      channel
        .consume(queue, () => undefined)
        .then(
          () => 'accepted',
          async () => closed,
        ),
      closed,
    ]);
  } finally {
    await connection.close().catch(() => undefined);
  }
}

const EBP_CODE = '3301963K69';

// deploy/rabbitmq/card-grants.js: what scripts/rabbitmq-users.sh gives a card PC's own user.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS file outside every package, loaded by path
const { cardSignerGrants } = require(path.join(repoRoot(), 'deploy/rabbitmq/card-grants.js')) as {
  cardSignerGrants: (signer: Grant, ebpCodes: string[]) => Grant;
};
interface Grant {
  configure: string;
  write: string;
  read: string;
}
const permissions = JSON.parse(readFileSync(path.join(repoRoot(), 'deploy/rabbitmq/permissions.json'), 'utf8')) as {
  services: Record<Service, Grant>;
};
const DEFAULT_EXCHANGE = '';

/** Runs one statement as a service's Postgres role; returns 'ok' or the error message. */
async function trySql(url: string, sql: string): Promise<string> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
    return 'ok';
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.end();
  }
}

/**
 * Each service as its own RabbitMQ user with only the permissions of
 * deploy/rabbitmq/permissions.json, and its own Postgres role with only the grants of
 * libs/db/src/roles.ts (the ledger owned by the migrate role): the whole pipeline still works,
 * retries and dead letters included, so the documented grants are neither too narrow nor stale;
 * and a publish to any other role's exchange or queue is refused by the broker itself.
 */
describe('least-privilege RabbitMQ users and Postgres roles, one per service', () => {
  const fixtures = Array.from({ length: 4 }, (_, i) => makeFixture(`perm${i}`, { orders: i === 3 ? 2 : 1 }));
  let pipeline: Pipeline;
  const url = (service: Service): string => pipeline.amqpUrls?.[service] as string;

  beforeAll(async () => {
    pipeline = await startPipeline({
      cards: [{ algorithm: 'RSA', ebpCodes: [EBP_CODE] }],
      fixtures,
      perServiceUsers: true,
      perServiceDbRoles: true,
      extraEnv: { CEB179_ASSEMBLER_LOOKUP_RETRIES: '1', CEB179_ASSEMBLER_LOOKUP_RETRY_DELAY_MS: '500' },
    });
  }, 60_000);
  afterAll(() => pipeline?.stop());

  it('uploads every request, with a customs retry, a reader fault and an unknown order on the way', async () => {
    pipeline.customs.failNextUploads(1, 503); // the reporter's delayed retry goes through its delay queue
    pipeline.eport.failNextRequests(1); // a reader fault: the signer's retry goes through its own retry exchange
    const orderNos = [...fixtures.flatMap((f) => f.payment_order.map((o) => o.order_no)), 'NOT-IN-SOURCE'];
    const results = await Promise.all(
      orderNos.map((orderNo) => pipeline.customs.fireCallback({ ingressUrl: pipeline.ingressUrl, orderNo, sessionID: randomUUID() })),
    );
    for (const r of results) expect(r.body).toMatchObject({ code: '10000' });
    const uploads = await pipeline.customs.waitForUploads(5, 30_000);
    expect(uploads.every((u) => u.verified)).toBe(true);
    // The unknown order went through the assembler's delay queue before it became a data fault.
    const unknown = results[results.length - 1]?.sessionID as string;
    await waitFor(
      'the unknown order recorded as a data fault',
      async () => ((await ledgerRow(pipeline.db.url, unknown))?.status === 'data_fault' ? true : undefined),
      15_000,
    );
    expect(pipeline.customs.uploads().filter((u) => u.code === '').length).toBe(1); // the one injected 503
    expect(pipeline.current('signer-0')?.output()).toMatch(/card or control fault; job returns to the queue/);
    for (const service of pipeline.services) expect(service.output()).not.toMatch(/ACCESS_REFUSED|access to .* refused/i);
  });

  // [service, exchange, routing key]: every way onto a flow the service has no business writing.
  const forbiddenPublishes: Array<[Service, string, string]> = [];
  const everyQueue = [Queues.callbacks, Queues.signJobsAny, signJobQueueFor(EBP_CODE), Queues.signatures, Queues.signerHeartbeats];
  for (const service of ['ingress', 'assembler', 'signer', 'reporter'] as const) {
    for (const queue of everyQueue) forbiddenPublishes.push([service, DEFAULT_EXCHANGE, queue]);
  }
  forbiddenPublishes.push(
    ['ingress', Exchanges.signJobs, EBP_CODE],
    ['ingress', Exchanges.signJobsUnrouted, ''],
    ['ingress', Exchanges.signatures, ''],
    ['ingress', Exchanges.signerHeartbeats, ''],
    ['ingress', retryExchangeFor(Queues.callbacks), 'due'],
    ['ingress', Exchanges.deadLetters, ''],
    ['assembler', Exchanges.signatures, ''],
    ['assembler', Exchanges.signerHeartbeats, ''],
    ['assembler', Exchanges.callbacks, ''],
    ['assembler', retryExchangeFor(Queues.signatures), 'due'],
    ['assembler', retryExchangeFor(signJobQueueFor(EBP_CODE)), 'due'],
    ['signer', Exchanges.signJobs, EBP_CODE],
    ['signer', Exchanges.signJobsUnrouted, ''],
    ['signer', Exchanges.callbacks, ''],
    ['signer', retryExchangeFor(Queues.callbacks), 'due'],
    ['signer', retryExchangeFor(Queues.signatures), 'due'],
    ['reporter', Exchanges.signatures, ''],
    ['reporter', Exchanges.signJobs, EBP_CODE],
    ['reporter', Exchanges.signJobsUnrouted, ''],
    ['reporter', Exchanges.callbacks, ''],
    ['reporter', Exchanges.signerHeartbeats, ''],
    ['reporter', retryExchangeFor(Queues.callbacks), 'due'],
    ['reporter', retryExchangeFor(signJobQueueFor(EBP_CODE)), 'due'],
  );

  it.each(forbiddenPublishes)(
    '%s may not publish to exchange "%s" with key "%s": the broker refuses',
    async (service, exchange, routingKey) => {
      const outcome = await tryPublish(url(service), exchange, routingKey);
      expect(outcome).toMatch(/ACCESS_REFUSED/);
      expect(outcome).toContain(`access to exchange '${exchange === '' ? 'amq.default' : exchange}' in vhost`);
    },
  );

  // The control: what each role must be able to do is accepted with the same helper, so the refusals above are real.
  it.each([
    ['ingress', Exchanges.callbacks, ''],
    ['assembler', Exchanges.signJobs, 'NO-SUCH-EBP'],
    ['signer', Exchanges.signerHeartbeats, ''],
  ] as Array<[Service, string, string]>)('%s may publish to its own exchange "%s"', async (service, exchange, routingKey) => {
    expect(await tryPublish(url(service), exchange, routingKey)).toBe('accepted');
  });

  it.each([
    ['ingress', Queues.callbacks],
    ['assembler', Queues.signatures],
    ['signer', Queues.signatures],
    ['signer', Queues.callbacks],
    ['reporter', Queues.signJobsAny],
    ['reporter', signJobQueueFor(EBP_CODE)],
  ] as Array<[Service, string]>)('%s may not consume %s: the broker refuses', async (service, queue) => {
    const outcome = await tryConsume(url(service), queue);
    expect(outcome).toMatch(/ACCESS_REFUSED/);
    expect(outcome).toContain(`access to queue '${queue}' in vhost`);
  });

  it.each([
    ['ingress', 'DELETE FROM ceb179.request'],
    ['ingress', "INSERT INTO ceb179.upload_attempt (session_id, latency_ms, outcome) VALUES ('x', 1, 'accepted')"],
    ['ingress', 'SELECT * FROM ceb179.upload_attempt'],
    ['assembler', 'DELETE FROM ceb179.request'],
    ['assembler', "UPDATE ceb179.upload_attempt SET error = 'x'"],
    ['reporter', "INSERT INTO ceb179.request (session_id, order_no, deadline_at) VALUES ('x', 'y', now())"],
    ['reporter', 'DELETE FROM ceb179.upload_attempt'],
    ['reporter', 'TRUNCATE ceb179.request'],
    ['ingress', 'CREATE TABLE ceb179.intruder (x int)'],
    ['assembler', 'ALTER TABLE ceb179.request ADD COLUMN intruder text'],
    ['reporter', 'DROP TABLE ceb179.upload_attempt'],
    ['ingress', 'CREATE TABLE public.intruder (x int)'],
  ] as Array<['ingress' | 'assembler' | 'reporter', string]>)('the %s Postgres role may not: %s', async (service, sql) => {
    expect(await trySql(pipeline.databaseUrls?.[service] as string, sql)).toMatch(/permission denied|must be owner/);
  });

  it("a card PC with a user of its own reads only its ebpCodes' sign-job queues, and its signer still signs", async () => {
    const cardUrl = await createVhostUser(pipeline.vhost, 'card1', cardSignerGrants(permissions.services.signer, [EBP_CODE]));
    const admin = await amqp.connect(pipeline.vhost.url);
    const otherQueue = signJobQueueFor('4403160Z9A'); // another card's queue
    await (
      await admin.createChannel()
    ).assertQueue(otherQueue, {
      durable: true,
      arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': 10, 'x-dead-letter-exchange': Exchanges.deadLetters },
    });
    await admin.close();
    for (const queue of [otherQueue, Queues.signJobsAny, Queues.signatures]) {
      const outcome = await tryConsume(cardUrl, queue);
      expect(outcome).toContain(`access to queue '${queue}' in vhost`);
    }
    expect(await tryPublish(cardUrl, Exchanges.signJobs, EBP_CODE)).toMatch(/ACCESS_REFUSED/);

    await pipeline.current('signer-0')?.stop();
    const signer = await pipeline.startSigner(0, { CEB179_AMQP_URL: cardUrl });
    const sessionID = randomUUID();
    const orderNo = fixtures[0]?.payment_order[0]?.order_no as string;
    expect((await pipeline.customs.fireCallback({ ingressUrl: pipeline.ingressUrl, orderNo, sessionID })).body).toMatchObject({
      code: '10000',
    });
    await waitFor(
      'the request uploaded, signed by the card with its own user',
      async () => pipeline.customs.uploads().find((u) => u.sessionID === sessionID && u.code === '10000' && u.verified) ?? undefined,
      20_000,
    );
    expect(signer.output()).not.toMatch(/ACCESS_REFUSED|access to .* refused/i);
  });
});
