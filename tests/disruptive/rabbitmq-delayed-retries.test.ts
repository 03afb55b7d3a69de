import { Queues } from '@ceb179/contracts';
import { createLogger } from '@ceb179/logger';
import { ack, Broker, declareWorkQueue, delayQueueName, retryIn } from '@ceb179/mq';
import { infraControl, type InfraControl } from '@ceb179/harness';
import { createTestVhost, vhostQueues, waitFor, type TestVhost } from '@ceb179/testkit';

/**
 * Disruptive (runs alone, see scripts/test.sh): delayed retries wait in delay queues, and
 * RabbitMQ restarts while they wait. Every one of them must come back when its wait is over.
 * With classic delay queues (at-most-once dead-lettering) all of them were silently dropped when
 * their wait ended while RabbitMQ was stopped: the assembler's look-up retries, the reporter's
 * upload retries, and so the requests behind them.
 */
const logger = createLogger({ service: 'test', level: 'silent' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('delayed retries across a RabbitMQ restart', () => {
  let infra: InfraControl;
  let vhost: TestVhost;
  let broker: Broker;

  beforeAll(async () => {
    infra = await infraControl();
    await infra.ensureUp();
    vhost = await createTestVhost();
    broker = new Broker({
      url: vhost.url,
      logger,
      connectionName: 'delayed-retries-test',
      declareTopology: (c) => declareWorkQueue(c, Queues.callbacks),
      reconnectMaxDelayMs: 1_000,
    });
    await broker.start();
  }, 60_000);

  afterAll(async () => {
    await infra?.ensureUp();
    await broker?.stop();
    await vhost?.delete();
  }, 150_000);

  it('20 retries parked for 10 s while RabbitMQ is stopped for 12 s: all 20 delivered again', async () => {
    const first = new Set<number>();
    const retried = new Set<number>();
    await broker.consume(
      Queues.callbacks,
      async (m) => {
        const { i } = m.payload as { i: number };
        if (m.retries === 0) {
          first.add(i);
          return retryIn(10_000, 'not yet');
        }
        retried.add(i);
        return ack;
      },
      { prefetch: 20 },
    );
    for (let i = 0; i < 20; i++) await broker.sendToQueue(Queues.callbacks, { i }, { sessionID: `s${i}` });
    await waitFor('20 first deliveries', async () => (first.size === 20 ? true : undefined), 10_000, 20);
    await sleep(500); // the parked copies are confirmed before the originals are acked

    // Their wait ends while RabbitMQ is down.
    await infra.stopRabbit();
    try {
      await sleep(12_000);
    } finally {
      await infra.startRabbit();
    }
    await waitFor('all 20 retried', async () => (retried.size === 20 ? true : undefined), 60_000, 250).catch(() => undefined);
    expect(retried.size).toBe(20);
    const queues = await vhostQueues(vhost.name);
    expect(queues.find((q) => q.name === delayQueueName(Queues.callbacks, 10_000))?.messages).toBe(0);
  }, 120_000);
});
