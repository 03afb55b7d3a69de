import WebSocket from 'ws';
import { AppError } from '@ceb179/errors';
import type { Logger } from '@ceb179/logger';
import { buildControlRequest, parseControlFrame, type ControlReply } from '@ceb179/protocol';

export interface ControlLinkOptions {
  url: string;
  callTimeoutMs: number;
  greetingTimeoutMs: number;
  /** Texts to blank out of anything the control says back (the PIN), before it can reach a log or error. */
  secrets: string[];
  logger: Logger;
  pingIntervalMs?: number;
}

interface PendingCall {
  id: number;
  method: string;
  resolve: (reply: ControlReply) => void;
  reject: (error: AppError) => void;
  timer: NodeJS.Timeout;
}

/**
 * The one WebSocket to the E-Port control (protocol.md §4). Calls are strictly serial — the
 * control is not safe with concurrent calls on a socket — and matched on `_id`. The greeting
 * is awaited before the first request. A lost connection fails the call in flight (its job
 * goes back to the queue) and the next call reconnects.
 */
export class ControlLink {
  private socket: WebSocket | undefined;
  private opening: Promise<WebSocket> | undefined;
  private pending: PendingCall | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private nextId = 1;
  private pingTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: ControlLinkOptions) {}

  /** Queues a call behind any call in flight; resolves with the control's reply (Result true or false). */
  call(method: string, args: Record<string, string>): Promise<ControlReply> {
    const run = this.tail.then(() => this.send(method, args));
    this.tail = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.tail;
    this.drop(new AppError('CARD_FAULT', 'control link closed'));
  }

  private async send(method: string, args: Record<string, string>): Promise<ControlReply> {
    if (this.closed) throw new AppError('CARD_FAULT', 'control link closed');
    const socket = await this.open();
    const id = this.nextId++;
    return new Promise<ControlReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        reject(new AppError('CARD_FAULT', `control did not answer ${method} within ${this.options.callTimeoutMs} ms`));
        // A late reply would be matched to nothing; start clean on a new socket.
        this.drop(new AppError('CARD_FAULT', 'control timed out'));
      }, this.options.callTimeoutMs);
      this.pending = { id, method, resolve, reject, timer };
      socket.send(buildControlRequest(id, method, args), (error) => {
        if (error) this.failPending(new AppError('CARD_FAULT', `could not send to the control: ${this.clean(error.message)}`));
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
        logger.warn('no greeting from the control; sending anyway');
        greeted = true;
        resolve(socket);
      }, greetingTimeoutMs);
      socket.on('message', (data) => {
        let frame;
        try {
          frame = parseControlFrame(data.toString());
        } catch {
          logger.warn('control sent a frame that is not the control protocol; ignored');
          return;
        }
        if (frame.kind === 'greeting') {
          if (!greeted) {
            greeted = true;
            clearTimeout(greetingTimer);
            resolve(socket);
          }
          return;
        }
        this.onReply(frame.reply);
      });
      socket.on('open', () => {
        this.socket = socket;
        this.startPing(socket);
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
    pending.resolve({ ...reply, errors: reply.errors.map((e) => this.clean(e)) });
  }

  private startPing(socket: WebSocket): void {
    const every = this.options.pingIntervalMs ?? 15_000;
    let alive = true;
    socket.on('pong', () => (alive = true));
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      if (!alive) {
        this.options.logger.warn('control stopped answering pings; reconnecting');
        socket.terminate();
        return;
      }
      alive = false;
      socket.ping();
    }, every);
    this.pingTimer.unref();
  }

  private failPending(error: AppError): void {
    const pending = this.pending;
    if (!pending) return;
    clearTimeout(pending.timer);
    this.pending = undefined;
    pending.reject(error);
  }

  private drop(error: AppError): void {
    this.failPending(error);
    if (this.pingTimer) clearInterval(this.pingTimer);
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
