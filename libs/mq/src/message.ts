import { AmqpHeaders } from '@ceb179/contracts';
import type { ConsumeMessage } from 'amqplib';

/** What a consumer's handler sees of one delivery. */
export interface IncomingMessage {
  payload: unknown;
  sessionID: string | undefined;
  /** Times the broker has handed this message out before (quorum x-delivery-count). */
  deliveryCount: number;
  /** Times we re-published it through a delay queue. */
  retries: number;
  redelivered: boolean;
  raw: ConsumeMessage;
}

/** What a handler decides; the broker turns it into ack, delayed retry or dead-letter. */
export type HandlerOutcome = { kind: 'ack' } | { kind: 'retry'; delayMs: number; reason: string } | { kind: 'dead-letter'; reason: string };

export type MessageHandler = (message: IncomingMessage) => Promise<HandlerOutcome>;

export const ack: HandlerOutcome = { kind: 'ack' };
export const retryIn = (delayMs: number, reason: string): HandlerOutcome => ({ kind: 'retry', delayMs, reason });
export const deadLetter = (reason: string): HandlerOutcome => ({ kind: 'dead-letter', reason });

export interface PublishOptions {
  sessionID: string;
  /** Defaults to the sessionID: one logical message per step and request. */
  messageId?: string;
  headers?: Record<string, string | number>;
  /** Fail the publish when no queue is bound for the message (instead of the broker dropping it). */
  mandatory?: boolean;
}

/** The AMQP header names (one home: @ceb179/contracts AmqpHeaders), under the name this package always used. */
export const Headers = AmqpHeaders;
