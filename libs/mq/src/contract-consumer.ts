import { isAppError } from '@ceb179/errors';
import type { Broker, ConsumeOptions } from './broker';
import { deadLetter, type HandlerOutcome, type IncomingMessage } from './message';

/**
 * Consumes `queue`, checking every payload against its contract (`parse`) at the entry point: a
 * payload that breaks it is dead-lettered with the reason and never retried, so handlers only
 * ever see valid messages.
 */
export async function consumeContract<T>(
  broker: Broker,
  queue: string,
  parse: (payload: unknown) => T,
  handle: (message: T, delivery: IncomingMessage) => Promise<HandlerOutcome>,
  options: ConsumeOptions,
): Promise<void> {
  await broker.consume(
    queue,
    async (delivery) => {
      let message: T;
      try {
        message = parse(delivery.payload);
      } catch (error) {
        return deadLetter(isAppError(error) ? error.reason : String(error));
      }
      return handle(message, delivery);
    },
    options,
  );
}
