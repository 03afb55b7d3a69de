import * as amqp from 'amqplib';
import { Queues, type CallbackMessage } from '@ceb179/contracts';
import { createLogger } from '@ceb179/logger';
import { declareCallbackConsumption } from '@ceb179/mq';
import { createTestVhost, testRedisUrl, waitFor, type TestVhost } from '@ceb179/testkit';
import { composeIngress, type Ingress } from '../src/compose';
import { loadIngressConfig } from '../src/config';
import { FORM, post } from './http-client';

/**
 * Postgres unreachable from the start (a restart, a failover): ingress still starts, and a call
 * is answered 10000 only because it was recorded in RabbitMQ instead, for the assembler to put in
 * the ledger. With neither, the caller is told it was not accepted.
 */
describe('ingress with the ledger down', () => {
  let vhost: TestVhost;
  let ingress: Ingress | undefined;

  beforeAll(async () => {
    vhost = await createTestVhost();
  });
  afterEach(async () => {
    await ingress?.stop();
    ingress = undefined;
  });
  afterAll(() => vhost.delete());

  async function start(amqpUrl: string): Promise<Ingress> {
    ingress = composeIngress(
      loadIngressConfig({
        CEB179_AMQP_URL: amqpUrl,
        CEB179_DATABASE_URL: 'postgres://nobody:nothing@127.0.0.1:1/none',
        CEB179_REDIS_URL: testRedisUrl(),
        CEB179_INGRESS_PORT: '0',
        CEB179_INGRESS_HEALTH_PORT: '0',
        CEB179_METRICS_PORT: '0',
      }),
      createLogger({ service: 'test', level: 'silent' }),
    );
    await ingress.start();
    return ingress;
  }

  const form = (sessionID: string) =>
    `openReq=${encodeURIComponent(JSON.stringify({ orderNo: 'SO-1', sessionID, serviceTime: 1700000000000 }))}`;

  it('starts, answers 10000 and records the call in RabbitMQ', async () => {
    const connection = await amqp.connect(vhost.url);
    const channel = await connection.createChannel();
    await declareCallbackConsumption(channel); // the assembler's queue, bound to ingress's exchange
    const running = await start(vhost.url);
    // Until ingress has reached RabbitMQ it cannot record anything and answers 20000 (recording nothing).
    const sessionID = await waitFor('ingress connected to RabbitMQ', async () => {
      const attempt = `ledger-down-${Date.now()}`;
      const reply = await post(running.port, form(attempt), { 'content-type': FORM });
      return (JSON.parse(reply.text) as { code: string }).code === '10000' ? attempt : undefined;
    });
    const message = await waitFor('the callback message', async () => (await channel.get(Queues.callbacks, { noAck: true })) || undefined);
    expect(JSON.parse(message.content.toString()) as CallbackMessage).toMatchObject({
      sessionID,
      orderNo: 'SO-1',
      customsServiceTime: '1700000000000',
    });
    await connection.close();
  });

  it('answers 20000 when neither the ledger nor RabbitMQ can record the call', async () => {
    const running = await start('amqp://nobody:nothing@127.0.0.1:1/none');
    const reply = await post(running.port, form(`nowhere-${Date.now()}`), { 'content-type': FORM });
    expect(JSON.parse(reply.text)).toEqual({
      code: '20000',
      message: 'the platform could not accept the call; nothing was recorded',
      serviceTime: expect.any(Number),
    });
  });
});
