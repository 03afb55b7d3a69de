import type { AddressInfo } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { buildControlGreeting, buildControlReply } from '@ceb179/protocol';
import type { Logger } from '@ceb179/logger';
import type { CardControl, ControlOutcome } from '../domain/card-control';
import { ControlErrors } from '../domain/control-errors';

export interface ControlServerOptions {
  control: CardControl;
  port: number;
  host: string;
  logger?: Logger;
}

export interface TrafficStats {
  requests: number;
  maxInFlight: number;
  concurrentViolations: number;
  connections: number;
  totalConnections: number;
}

interface ParsedRequest {
  id: number;
  method: string;
  args: Record<string, unknown>;
}

/**
 * The control's WebSocket face: greeting first, then one reply per request frame. In-flight
 * requests are counted across all connections because the card behind the control is one
 * device: a request arriving while another is still being served is the misuse ceb179 must
 * never commit, so it is counted (and still answered, as the real control would try to).
 */
export class ControlServer {
  private readonly wss: WebSocketServer;
  private inFlight = 0;
  private readonly traffic: TrafficStats = {
    requests: 0,
    maxInFlight: 0,
    concurrentViolations: 0,
    connections: 0,
    totalConnections: 0,
  };

  private constructor(
    private readonly options: ControlServerOptions,
    wss: WebSocketServer,
  ) {
    this.wss = wss;
    wss.on('connection', (socket) => this.onConnection(socket));
  }

  static async listen(options: ControlServerOptions): Promise<ControlServer> {
    // autoPong false: a control that never answers WebSocket pings (a client keep-alive must not kill it).
    const wss = new WebSocketServer({ port: options.port, host: options.host, autoPong: options.control.quirks.answerPings });
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    return new ControlServer(options, wss);
  }

  get port(): number {
    return (this.wss.address() as AddressInfo).port;
  }

  stats(): TrafficStats {
    return { ...this.traffic };
  }

  /** Drops every open connection, as a crashing or restarting control would. */
  dropConnections(): void {
    for (const socket of this.wss.clients) socket.terminate();
  }

  async close(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve, reject) => this.wss.close((error) => (error ? reject(error) : resolve())));
  }

  private onConnection(socket: WebSocket): void {
    this.traffic.connections += 1;
    this.traffic.totalConnections += 1;
    socket.on('close', () => {
      this.traffic.connections -= 1;
    });
    socket.on('error', (error) => this.options.logger?.warn({ err: error.message }, 'control connection error'));
    socket.on('message', (data, isBinary) => {
      this.onFrame(socket, data, isBinary).catch((error: unknown) =>
        this.options.logger?.error({ err: error instanceof Error ? error.message : String(error) }, 'control reply failed'),
      );
    });
    const delayMs = this.options.control.quirks.greetingDelayMs;
    if (delayMs === 0) socket.send(buildControlGreeting());
    else if (delayMs > 0) {
      const timer = setTimeout(() => {
        if (socket.readyState === socket.OPEN) socket.send(buildControlGreeting());
      }, delayMs);
      socket.once('close', () => clearTimeout(timer));
    }
  }

  private async onFrame(socket: WebSocket, data: RawData, isBinary: boolean): Promise<void> {
    this.traffic.requests += 1;
    if (this.inFlight > 0) this.traffic.concurrentViolations += 1;
    this.inFlight += 1;
    this.traffic.maxInFlight = Math.max(this.traffic.maxInFlight, this.inFlight);
    try {
      const parsed = parseRequest(isBinary ? null : rawText(data));
      const outcome = await this.outcomeOf(parsed);
      if (!('problem' in parsed) && this.options.control.takeDrop(parsed.method)) {
        socket.terminate(); // the card did the work; the reply is lost with the connection
        return;
      }
      // Method and outcome only: args hold the PIN and are never logged.
      this.options.logger?.debug(
        { id: parsed.id, method: parsed.method, result: outcome.result, error: outcome.errors[0] },
        'control request',
      );
      if (socket.readyState === socket.OPEN) {
        socket.send(buildControlReply(parsed.id, parsed.method, outcome.result, outcome.data, outcome.errors));
      }
    } finally {
      this.inFlight -= 1;
    }
  }

  private async outcomeOf(parsed: ParsedRequest | (ParsedRequest & { problem: string })): Promise<ControlOutcome> {
    if ('problem' in parsed) return { result: false, data: [], errors: [ControlErrors.badRequest(parsed.problem)] };
    try {
      return await this.options.control.handle(parsed.method, parsed.args);
    } catch (error) {
      // A simulator bug still gets an answer, so the client under test fails fast instead of timing out.
      this.options.logger?.error(
        { err: error instanceof Error ? error.message : String(error), method: parsed.method },
        'control request failed',
      );
      return { result: false, data: [], errors: [ControlErrors.internal] };
    }
  }
}

export function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data as ArrayBuffer).toString('utf8');
}

/**
 * A request frame is `{"_method":..., "_id": n, "args": {...}}`. When the frame is unusable the
 * reply still echoes whatever `_id` and `_method` could be read (0 and "" otherwise) so a
 * client matching on `_id` sees the failure instead of a timeout.
 */
function parseRequest(text: string | null): ParsedRequest | (ParsedRequest & { problem: string }) {
  const unusable = (problem: string, id = 0, method = '') => ({ id, method, args: {}, problem });
  if (text === null) return unusable('binary frames are not supported');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return unusable('not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return unusable('not a JSON object');
  const frame = value as Record<string, unknown>;
  const id = typeof frame['_id'] === 'number' && Number.isInteger(frame['_id']) ? frame['_id'] : undefined;
  const method = typeof frame['_method'] === 'string' ? frame['_method'] : undefined;
  if (id === undefined) return unusable('_id must be an integer', 0, method ?? '');
  if (method === undefined) return unusable('_method must be a string', id);
  const args = frame['args'] ?? {};
  if (typeof args !== 'object' || args === null || Array.isArray(args)) return unusable('args must be an object', id, method);
  return { id, method, args: args as Record<string, unknown> };
}
