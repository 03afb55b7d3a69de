import WebSocket from 'ws';
import { AppError } from '@ceb179/errors';
import type { Logger } from '@ceb179/logger';
import { buildControlRequest, parseControlFrame, type ControlReply } from '@ceb179/protocol';

/** A text frame's content; ws hands over a Buffer, or fragments/ArrayBuffer under other binaryTypes. */
export function frameText(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data as ArrayBuffer).toString('utf8');
}

/** What the link asks before a PIN leaves and tells when its fate is known (domain/pin-gate.ts). */
export interface PinGatekeeper {
  assertMaySend(): void;
  sending(): void;
  answered(method: string, reply: ControlReply): void;
  unanswered(problem: string, sent: boolean): void;
}

export interface ControlLinkOptions {
  url: string;
  callTimeoutMs: number;
  greetingTimeoutMs: number;
  /** Texts to blank out of anything the control says back (the PIN), before it can reach a log or error. */
  secrets: string[];
  logger: Logger;
  /**
   * WebSocket ping every this many ms while the link is idle; 0 (default) = none. Controls are not
   * known to answer pings (docs/protocol.md §4): liveness comes from call time-outs, and a link with
   * a call in flight is never closed for a missing pong.
   */
  keepAliveIntervalMs?: number;
  /** Required for PIN-carrying calls: checked at the moment such a call is sent. */
  pinGate?: PinGatekeeper;
}

export interface CallOptions {
  /** The call carries the card PIN (`passwd`): it goes through the PIN gate. */
  carriesPin?: boolean;
}

interface PendingCall {
  id: number;
  method: string;
  carriesPin: boolean;
  resolve: (reply: ControlReply) => void;
  reject: (error: AppError) => void;
  timer: NodeJS.Timeout;
}

/**
 * The one WebSocket to the E-Port control (docs/protocol.md §4). Calls are strictly serial — the
 * control is not safe with concurrent calls on a socket — and matched on `_id`. The greeting is
 * awaited (bounded) before the first request. A lost connection fails the call in flight (its job
 * goes back to the queue) and the next call reconnects. For a PIN-carrying call the PIN gate is
 * asked right before the frame is written and told the outcome before the caller is, so a refusal
 * stops every PIN-carrying call queued behind it from being sent.
 */
export class ControlLink {
  private socket: WebSocket | undefined;
  private opening: Promise<WebSocket> | undefined;
  private pending: PendingCall | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private nextId = 1;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: ControlLinkOptions) {}

  /** Queues a call behind any call in flight; resolves with the control's reply (Result true or false). */
  call(method: string, args: Record<string, string>, callOptions: CallOptions = {}): Promise<ControlReply> {
    const run = this.tail.then(() => this.send(method, args, callOptions.carriesPin === true));
    this.tail = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.tail;
    this.drop(new AppError('CARD_FAULT', 'control link closed'));
  }

  private async send(method: string, args: Record<string, string>, carriesPin: boolean): Promise<ControlReply> {
    if (this.closed) throw new AppError('CARD_FAULT', 'control link closed');
    const gate = this.options.pinGate;
    if (carriesPin && !gate) throw new AppError('INTERNAL', `${method} carries the PIN but the control link has no PIN gate`);
    const socket = await this.open();
    // Asked here, after any reconnect and right before the write: never earlier.
    if (carriesPin) {
      gate?.assertMaySend();
      gate?.sending();
    }
    const id = this.nextId++;
    return new Promise<ControlReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.failPending(new AppError('CARD_FAULT', `control did not answer ${method} within ${this.options.callTimeoutMs} ms`), true);
        // A late reply would be matched to nothing; start clean on a new socket.
        this.drop(new AppError('CARD_FAULT', 'control timed out'));
      }, this.options.callTimeoutMs);
      this.pending = { id, method, carriesPin, resolve, reject, timer };
      socket.send(buildControlRequest(id, method, args), (error) => {
        if (error) this.failPending(new AppError('CARD_FAULT', `could not send to the control: ${this.clean(error.message)}`), false);
      });
    });
  }

  private open(): Promise<WebSocket> {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) return Promise.resolve(this.socket);
    this.opening ??= this.connect().finally(() => (this.opening = undefined));
    return this.opening;
  }

  private connect(): Promise<WebSocket> {
    const { url, greetingTimeoutMs, logger } = this.options;
    return new Promise<WebSocket>((resolve, reject) => {
      const socket = new WebSocket(url, { handshakeTimeout: 5_000, perMessageDeflate: false });
      let greeted = false;
      const greetingTimer = setTimeout(() => {
        if (greeted || socket.readyState !== WebSocket.OPEN) return;
        logger.warn({ greetingTimeoutMs }, 'no greeting from the control; sending anyway');
        greeted = true;
        resolve(socket);
      }, greetingTimeoutMs);
      socket.on('message', (data) => {
        let frame;
        try {
          frame = parseControlFrame(frameText(data));
        } catch {
          logger.warn('control sent a frame that is not the control protocol; ignored');
          return;
        }
        if (frame.kind === 'greeting') {
          if (!greeted) {
            greeted = true;
            clearTimeout(greetingTimer);
            resolve(socket);
          } else {
            logger.debug('late greeting from the control; ignored');
          }
          return;
        }
        this.onReply(frame.reply);
      });
      socket.on('open', () => {
        this.socket = socket;
        this.startKeepAlive(socket);
      });
      socket.on('error', (error) => {
        if (!greeted) {
          clearTimeout(greetingTimer);
          reject(new AppError('CARD_FAULT', `control unreachable at ${url} (${this.clean(error.message)})`));
        }
      });
      socket.on('close', () => {
        clearTimeout(greetingTimer);
        if (!greeted) reject(new AppError('CARD_FAULT', `control at ${url} closed the connection before greeting`));
        if (this.socket === socket) this.drop(new AppError('CARD_FAULT', 'control connection lost'));
      });
    });
  }

  private onReply(reply: ControlReply): void {
    const pending = this.pending;
    if (!pending || pending.id !== reply.id) {
      this.options.logger.warn({ id: reply.id, method: reply.method }, 'reply from the control matches no call in flight; ignored');
      return;
    }
    clearTimeout(pending.timer);
    this.pending = undefined;
    const cleaned = { ...reply, errors: reply.errors.map((e) => this.clean(e)) };
    if (pending.carriesPin) {
      try {
        this.options.pinGate?.answered(pending.method, cleaned);
      } catch (error) {
        // The memory could not be written: fail the call rather than go on without it.
        pending.reject(error instanceof AppError ? error : new AppError('CONFIG', `PIN memory failed: ${String(error)}`));
        return;
      }
    }
    pending.resolve(cleaned);
  }

  private startKeepAlive(socket: WebSocket): void {
    const every = this.options.keepAliveIntervalMs ?? 0;
    if (this.keepAliveTimer) clearInterval(this.keepAliveTimer);
    this.keepAliveTimer = undefined;
    if (every <= 0) return;
    let awaitingPong = false;
    socket.on('pong', () => (awaitingPong = false));
    this.keepAliveTimer = setInterval(() => {
      if (this.pending) {
        // A call is in flight: its own time-out is the judge, never a missing pong.
        awaitingPong = false;
        return;
      }
      if (awaitingPong) {
        this.options.logger.warn('control did not answer a keep-alive ping while idle; reconnecting on the next call');
        if (this.socket === socket) this.drop(new AppError('CARD_FAULT', 'keep-alive failed'));
        return;
      }
      awaitingPong = true;
      socket.ping();
    }, every);
    this.keepAliveTimer.unref();
  }

  /** `sent`: whether the request may have reached the control (false when the write itself failed). */
  private failPending(error: AppError, sent = true): void {
    const pending = this.pending;
    if (!pending) return;
    clearTimeout(pending.timer);
    this.pending = undefined;
    if (pending.carriesPin) {
      try {
        this.options.pinGate?.unanswered(error.message, sent);
      } catch (memoryError) {
        pending.reject(memoryError instanceof AppError ? memoryError : new AppError('CONFIG', `PIN memory failed: ${String(memoryError)}`));
        return;
      }
    }
    pending.reject(error);
  }

  private drop(error: AppError): void {
    this.failPending(error);
    if (this.keepAliveTimer) clearInterval(this.keepAliveTimer);
    this.keepAliveTimer = undefined;
    const socket = this.socket;
    this.socket = undefined;
    if (socket && socket.readyState !== WebSocket.CLOSED) socket.terminate();
  }

  private clean(text: string): string {
    let out = text;
    for (const secret of this.options.secrets) if (secret) out = out.split(secret).join('[redacted]');
    return out;
  }
}
