import type { Channel } from 'amqplib';
import { Exchanges, Queues, signJobQueueFor } from '@ceb179/contracts';
import { AppError } from '@ceb179/errors';
import { workQueueArguments } from './queue-arguments';

/*
 * Declare by owner: each service declares what it owns and nothing more, so its RabbitMQ user
 * needs configure permission on its own resources only (deploy/rabbitmq/permissions.json).
 * A producer declares the exchange it publishes to; the consumer declares that exchange too,
 * its queue and the binding. Producers publish "mandatory": a message no queue is bound for yet
 * comes back as a failed publish (retried by the producer), never silently dropped.
 */

/** The dead-letter exchange and queue every work queue points at. */
export async function declareDeadLetters(channel: Channel): Promise<void> {
  await channel.assertExchange(Exchanges.deadLetters, 'fanout', { durable: true });
  await channel.assertQueue(Queues.deadLetters, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await channel.bindQueue(Queues.deadLetters, Exchanges.deadLetters, '');
}

export async function declareWorkQueue(channel: Channel, queue: string): Promise<void> {
  await declareDeadLetters(channel);
  await channel.assertQueue(queue, { durable: true, arguments: workQueueArguments() });
}

/** A work queue fed by a fanout exchange of its own: what a consumer of that flow declares. */
export async function declareFedWorkQueue(channel: Channel, exchange: string, queue: string): Promise<void> {
  await declareWorkQueue(channel, queue);
  await channel.assertExchange(exchange, 'fanout', { durable: true });
  await channel.bindQueue(queue, exchange, '');
}

/** ingress: the exchange it hands callbacks to. */
export async function declareCallbackPublishing(channel: Channel): Promise<void> {
  await channel.assertExchange(Exchanges.callbacks, 'fanout', { durable: true });
}

/** assembler: the callbacks queue it consumes. */
export async function declareCallbackConsumption(channel: Channel): Promise<void> {
  await declareFedWorkQueue(channel, Exchanges.callbacks, Queues.callbacks);
}

/**
 * assembler: sign-job routing, a direct exchange keyed by ebpCode. A card serving given
 * ebpCodes binds one queue per ebpCode (signers of the same ebpCode compete on it: failover);
 * jobs for an ebpCode with no bound queue fall through the alternate exchange into the "any"
 * queue, which signers configured for all ebpCodes consume. The assembler owns all of it, so a
 * job is never published before its catch-all queue exists.
 */
export async function declareSignJobRouting(channel: Channel): Promise<void> {
  await declareDeadLetters(channel);
  await channel.assertExchange(Exchanges.signJobsUnrouted, 'fanout', { durable: true });
  await channel.assertExchange(Exchanges.signJobs, 'direct', {
    durable: true,
    alternateExchange: Exchanges.signJobsUnrouted,
  });
  await channel.assertQueue(Queues.signJobsAny, { durable: true, arguments: workQueueArguments() });
  await channel.bindQueue(Queues.signJobsAny, Exchanges.signJobsUnrouted, '');
}

/**
 * signer: the sign-job queues of its ebpCodes, bound to the assembler's exchange (or, serving
 * all ebpCodes, the assembler's "any" queue). The signer may not declare the sign-job exchanges
 * (a card PC must not be able to publish sign jobs): until the assembler has run once, this
 * fails with a message saying so, and the signer keeps retrying.
 */
export async function declareSignJobQueues(channel: Channel, ebpCodes: readonly string[]): Promise<void> {
  await declareDeadLetters(channel);
  try {
    await channel.checkExchange(Exchanges.signJobs);
    if (ebpCodes.length === 0) await channel.checkQueue(Queues.signJobsAny);
  } catch (error) {
    throw new AppError(
      'TRANSPORT',
      `the sign-job exchange or queue is not declared yet: start the assembler once (it declares them) (${(error as Error).message})`,
      { cause: error },
    );
  }
  for (const ebpCode of ebpCodes) {
    const queue = signJobQueueFor(ebpCode);
    await channel.assertQueue(queue, { durable: true, arguments: workQueueArguments() });
    await channel.bindQueue(queue, Exchanges.signJobs, ebpCode);
  }
}

/** signer: the exchanges it publishes signatures and heartbeats to. */
export async function declareSignerPublishing(channel: Channel): Promise<void> {
  await channel.assertExchange(Exchanges.signatures, 'fanout', { durable: true });
  await channel.assertExchange(Exchanges.signerHeartbeats, 'fanout', { durable: true });
}

/** reporter: the signatures queue it consumes. */
export async function declareSignatureConsumption(channel: Channel): Promise<void> {
  await declareFedWorkQueue(channel, Exchanges.signatures, Queues.signatures);
}

/**
 * reporter: heartbeats are news, not work: a classic queue whose messages expire after two
 * minutes and which never grows past a bound, so a cloud side that is down does not pile them up.
 */
export async function declareHeartbeatQueue(channel: Channel): Promise<void> {
  await channel.assertQueue(Queues.signerHeartbeats, {
    durable: true,
    arguments: { 'x-message-ttl': 120_000, 'x-max-length': 10_000, 'x-overflow': 'drop-head' },
  });
  await channel.assertExchange(Exchanges.signerHeartbeats, 'fanout', { durable: true });
  await channel.bindQueue(Queues.signerHeartbeats, Exchanges.signerHeartbeats, '');
}

/** operator (CLI, console): the exchange it sends re-send requests to. */
export async function declareResendPublishing(channel: Channel): Promise<void> {
  await channel.assertExchange(Exchanges.resendRequests, 'fanout', { durable: true });
}

/** reporter: the re-send queue it consumes (operators' requests to upload a stored document again). */
export async function declareResendConsumption(channel: Channel): Promise<void> {
  await declareFedWorkQueue(channel, Exchanges.resendRequests, Queues.resendRequests);
}
