import type { Channel } from 'amqplib';
import { Exchanges, Queues, signJobQueueFor } from '@ceb179/contracts';
import { workQueueArguments } from './queue-arguments';

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

/**
 * Sign-job routing: a direct exchange keyed by ebpCode. A card serving given ebpCodes binds
 * one queue per ebpCode (signers of the same ebpCode compete on it: failover); jobs for an
 * ebpCode with no bound queue fall through the alternate exchange into the "any" queue, which
 * signers configured for all ebpCodes consume.
 */
export async function declareSignJobRouting(channel: Channel, ebpCodes: readonly string[] = []): Promise<void> {
  await declareDeadLetters(channel);
  await channel.assertExchange(Exchanges.signJobsUnrouted, 'fanout', { durable: true });
  await channel.assertExchange(Exchanges.signJobs, 'direct', {
    durable: true,
    alternateExchange: Exchanges.signJobsUnrouted,
  });
  await channel.assertQueue(Queues.signJobsAny, { durable: true, arguments: workQueueArguments() });
  await channel.bindQueue(Queues.signJobsAny, Exchanges.signJobsUnrouted, '');
  for (const ebpCode of ebpCodes) {
    const queue = signJobQueueFor(ebpCode);
    await channel.assertQueue(queue, { durable: true, arguments: workQueueArguments() });
    await channel.bindQueue(queue, Exchanges.signJobs, ebpCode);
  }
}

/**
 * Heartbeats are news, not work: a classic queue whose messages expire after two minutes and
 * which never grows past a bound, so a cloud side that is down does not pile them up.
 */
export async function declareHeartbeatQueue(channel: Channel): Promise<void> {
  await channel.assertQueue(Queues.signerHeartbeats, {
    durable: true,
    arguments: { 'x-message-ttl': 120_000, 'x-max-length': 10_000, 'x-overflow': 'drop-head' },
  });
}
