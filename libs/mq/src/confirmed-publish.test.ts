import type { ConfirmChannel } from 'amqplib';
import { AppError, isAppError } from '@ceb179/errors';
import { publishConfirmed, type ConfirmedPublish } from './confirmed-publish';

type Confirm = (error: unknown) => void;

/** A confirm channel that holds each publish's confirm callback until the test answers it. */
function fakeChannel(onPublish: (confirm: Confirm) => void): ConfirmChannel {
  const channel: Pick<ConfirmChannel, 'publish'> = {
    publish: (_exchange, _routingKey, _content, _options, confirm) => {
      onPublish(confirm as Confirm);
      return true;
    },
  };
  return channel as ConfirmChannel;
}

const message = (overrides: Partial<ConfirmedPublish> = {}): ConfirmedPublish => ({
  exchange: 'ceb179.x.test',
  routingKey: '',
  content: Buffer.from('{}'),
  properties: { persistent: true },
  what: 'test message',
  ...overrides,
});

async function failure(promise: Promise<void>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isAppError(error)) throw new Error(`expected an AppError, got ${String(error)}`);
  return error;
}

describe('publishConfirmed', () => {
  it('resolves once the broker confirms', async () => {
    await expect(
      publishConfirmed(
        fakeChannel((confirm) => confirm(null)),
        message(),
      ),
    ).resolves.toBeUndefined();
  });

  it('fails as TRANSPORT, naming what was published, when the broker nacks', async () => {
    const error = await failure(
      publishConfirmed(
        fakeChannel((confirm) => confirm(new Error('nack'))),
        message(),
      ),
    );
    expect(error.code).toBe('TRANSPORT');
    expect(error.message).toBe('RabbitMQ refused the test message (nack)');
  });

  it('fails as TRANSPORT when no confirm comes within the time limit', async () => {
    const error = await failure(
      publishConfirmed(
        fakeChannel(() => undefined),
        message({ timeoutMs: 5 }),
      ),
    );
    expect(error.code).toBe('TRANSPORT');
    expect(error.message).toBe('test message not confirmed by RabbitMQ within 5 ms');
  });

  it('fails as TRANSPORT when the channel throws (closed under the publisher)', async () => {
    const channel = fakeChannel(() => {
      throw new Error('Channel closed');
    });
    expect((await failure(publishConfirmed(channel, message()))).message).toBe('RabbitMQ could not take the test message');
  });

  it("fails with the caller's error when afterConfirm refuses (a returned mandatory message)", async () => {
    const refusal = new AppError('TRANSPORT', 'no queue is bound');
    const error = await failure(
      publishConfirmed(
        fakeChannel((confirm) => confirm(null)),
        message({ afterConfirm: () => refusal }),
      ),
    );
    expect(error).toBe(refusal);
  });

  it('runs afterConfirm even when the confirm comes after the time limit', async () => {
    let confirmLater: Confirm | undefined;
    let ran = 0;
    const publishing = publishConfirmed(
      fakeChannel((confirm) => (confirmLater = confirm)),
      message({ timeoutMs: 5, afterConfirm: () => void (ran += 1) }),
    );
    await failure(publishing);
    confirmLater?.(null);
    expect(ran).toBe(1);
  });
});
