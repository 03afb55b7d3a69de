import { AmqpHeaders, delayQueueName, delayRoutingKey, RedisKeys, retryExchangeFor, signJobQueueFor } from './index';

// These spellings are shared with processes of other versions during a rolling upgrade, with
// RabbitMQ's permissions (deploy/rabbitmq/permissions.json) and with whatever an operator has
// in Redis and in the dead letters: renaming one is a migration, never a refactoring.
describe('cross-process names', () => {
  it('spells the Redis keys as every version of ingress, the reporter and the operator tools do', () => {
    expect(RedisKeys.callback('abc')).toBe('ceb179:callback:abc');
    expect(RedisKeys.signer('signer-1')).toBe('ceb179:signer:signer-1');
    expect(RedisKeys.signersLastSeen).toBe('ceb179:signers:last-seen');
    expect(RedisKeys.certificates).toBe('ceb179:certificates');
  });

  it('spells the AMQP headers that dead letters carry', () => {
    expect(AmqpHeaders).toEqual({
      retries: 'x-ceb179-retries',
      sessionID: 'x-ceb179-session-id',
      schema: 'x-ceb179-schema',
      deadLetterReason: 'x-ceb179-dead-letter-reason',
      deadLetterQueue: 'x-ceb179-dead-letter-queue',
      failures: 'x-ceb179-failures',
      outageRetries: 'x-ceb179-outage-retries',
      publishId: 'x-ceb179-publish-id',
      redriven: 'x-ceb179-redriven',
    });
  });

  it('derives the per-queue names the permissions grant by pattern', () => {
    expect(signJobQueueFor('EBP01')).toBe('ceb179.sign-jobs.ebp.EBP01');
    expect(retryExchangeFor('ceb179.callbacks')).toBe('ceb179.callbacks.retry');
    expect(delayQueueName('ceb179.callbacks', 3_000)).toBe('ceb179.callbacks.delay.3000ms');
    expect(delayRoutingKey(3_000)).toBe('3000ms');
  });
});
