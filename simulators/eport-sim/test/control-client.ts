import WebSocket from 'ws';
import { rawText } from '../src/entry-points/control.server';

export interface Frame {
  _id: number;
  _method: string;
  _status: string;
  _args?: { Result: boolean; Data: unknown[]; Error: string[] };
}

/** A bare test client: keeps every frame in arrival order and matches replies on _id. */
export class ControlClient {
  readonly frames: Frame[] = [];
  private waiters: Array<() => void> = [];
  private nextId = 1;

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.frames.push(JSON.parse(rawText(data)) as Frame);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  static async connect(url: string): Promise<ControlClient> {
    const socket = new WebSocket(url);
    const client = new ControlClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return client;
  }

  async frameAt(index: number, timeoutMs = 5000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length <= index) {
      if (Date.now() > deadline) throw new Error(`no frame #${index} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return this.frames[index] as Frame;
  }

  async reply(id: number, timeoutMs = 5000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find((f) => f._id === id && f._method !== 'open');
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no reply to _id ${id} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  sendRaw(text: string): void {
    this.socket.send(text);
  }

  send(method: string, args: Record<string, unknown> = {}): number {
    const id = this.nextId++;
    this.socket.send(JSON.stringify({ _method: method, _id: id, args }));
    return id;
  }

  async call(method: string, args: Record<string, unknown> = {}): Promise<Frame> {
    return this.reply(this.send(method, args));
  }

  async closed(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
  }

  close(): void {
    this.socket.close();
  }
}
