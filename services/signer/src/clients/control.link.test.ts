import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { createLogger } from '@ceb179/logger';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FilePinMemory } from '../data-access/pin-memory.file';
import { PinGate } from '../domain/pin-gate';
import { ControlLink, frameText } from './control.link';

const logger = createLogger({ service: 'test', level: 'silent' });

interface Behaviour {
  greet?: boolean;
  /** Reply to a request; return undefined to stay silent. */
  reply?: (request: { _id: number; _method: string; args: Record<string, string> }, socket: WebSocket) => object | undefined;
  delayMs?: number;
}

async function control(behaviour: Behaviour) {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  let inFlight = 0;
  let maxInFlight = 0;
  let connections = 0;
  let pinFrames = 0;
  server.on('connection', (socket) => {
    connections += 1;
    if (behaviour.greet !== false) socket.send(JSON.stringify({ _id: 0, _method: 'open', _status: '00' }));
    socket.on('message', (data) => {
      const request = JSON.parse(frameText(data));
      if (request.args?.passwd !== undefined) pinFrames += 1;
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setTimeout(() => {
        inFlight -= 1;
        const reply = (
          behaviour.reply ??
          ((r) => ({ _id: r._id, _method: r._method, _status: '00', _args: { Result: true, Data: [`ok-${r._id}`], Error: [] } }))
        )(request, socket);
        if (reply) socket.send(JSON.stringify(reply));
      }, behaviour.delayMs ?? 5);
    });
  });
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, stats: () => ({ maxInFlight, connections, pinFrames }), close: () => new Promise((resolve) => server.close(resolve)) };
}

function link(
  url: string,
  options: Partial<{
    callTimeoutMs: number;
    greetingTimeoutMs: number;
    secrets: string[];
    pinGate: PinGate;
    keepAliveIntervalMs: number;
  }> = {},
) {
  return new ControlLink({
    url,
    callTimeoutMs: options.callTimeoutMs ?? 2_000,
    greetingTimeoutMs: options.greetingTimeoutMs ?? 1_000,
    secrets: options.secrets ?? [],
    logger,
    ...(options.pinGate ? { pinGate: options.pinGate } : {}),
    ...(options.keepAliveIntervalMs ? { keepAliveIntervalMs: options.keepAliveIntervalMs } : {}),
  });
}

const SIGN = 'cus-sec_SpcSignDataAsPEM';
const refusePin = (r: { _id: number; _method: string; args: Record<string, string> }) =>
  r.args?.passwd === undefined
    ? { _id: r._id, _method: r._method, _status: '00', _args: { Result: true, Data: ['0a0b0c0d'], Error: [] } }
    : { _id: r._id, _method: r._method, _status: '00', _args: { Result: false, Data: [], Error: ['Err:PIN 口令错误'] } };

describe('ControlLink', () => {
  it('waits for the greeting, then keeps exactly one call in flight however many are made at once', async () => {
    const sim = await control({ delayMs: 20 });
    const l = link(sim.url);
    const replies = await Promise.all(Array.from({ length: 8 }, () => l.call('cus-sec_SpcGetCertNo', {})));
    expect(replies.map((r) => r.data[0])).toEqual(replies.map((r) => `ok-${r.id}`));
    expect(sim.stats().maxInFlight).toBe(1);
    expect(sim.stats().connections).toBe(1);
    await l.close();
    await sim.close();
  });

  it('proceeds without a greeting after the greeting timeout (the greeting is M in the spec)', async () => {
    const sim = await control({ greet: false });
    const l = link(sim.url, { greetingTimeoutMs: 200 });
    expect((await l.call('cus-sec_SpcGetCertNo', {})).result).toBe(true);
    await l.close();
    await sim.close();
  });

  it('ignores a reply with another _id and times out with a card fault', async () => {
    const sim = await control({
      reply: (r) => ({ _id: r._id + 100, _method: r._method, _status: '00', _args: { Result: true, Data: [] } }),
    });
    const l = link(sim.url, { callTimeoutMs: 300 });
    await expect(l.call('cus-sec_SpcGetCertNo', {})).rejects.toMatchObject({
      code: 'CARD_FAULT',
      message: expect.stringContaining('did not answer'),
    });
    await l.close();
    await sim.close();
  });

  it('fails the call in flight when the connection drops, and reconnects for the next one', async () => {
    let first = true;
    const sim = await control({
      reply: (r, socket) => {
        if (first) {
          first = false;
          socket.terminate();
          return undefined;
        }
        return { _id: r._id, _method: r._method, _status: '00', _args: { Result: true, Data: ['again'], Error: [] } };
      },
    });
    const l = link(sim.url);
    await expect(l.call('cus-sec_SpcSignDataAsPEM', { inData: 'x', passwd: 'p' })).rejects.toMatchObject({ code: 'CARD_FAULT' });
    expect((await l.call('cus-sec_SpcGetCertNo', {})).data).toEqual(['again']);
    expect(sim.stats().connections).toBe(2);
    await l.close();
    await sim.close();
  });

  it('blanks the PIN out of anything the control says back', async () => {
    const sim = await control({
      reply: (r) => ({
        _id: r._id,
        _method: r._method,
        _status: '00',
        _args: { Result: false, Data: [], Error: [`PIN ${r.args.passwd} is wrong`] },
      }),
    });
    const l = link(sim.url, { secrets: ['735191'] });
    const reply = await l.call('cus-sec_SpcVerifyPIN', { passwd: '735191' });
    expect(reply.errors).toEqual(['PIN [redacted] is wrong']);
    await l.close();
    await sim.close();
  });

  it('reports an unreachable control as a card fault naming the URL', async () => {
    const l = link('ws://127.0.0.1:1');
    await expect(l.call('cus-sec_SpcGetCertNo', {})).rejects.toMatchObject({
      code: 'CARD_FAULT',
      message: expect.stringContaining('control unreachable at ws://127.0.0.1:1'),
    });
    await l.close();
  });

  describe('with the PIN gate', () => {
    let dir: string;
    const boundGate = (pin: string) => {
      const gate = new PinGate(new FilePinMemory(dir), pin, logger);
      gate.bindCard('0a0b0c0d');
      return gate;
    };
    beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'link-gate-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('one refusal fails every PIN-carrying call queued behind it without sending it', async () => {
      const sim = await control({ delayMs: 50, reply: refusePin });
      const l = link(sim.url, { pinGate: boundGate('12121212') });
      const calls = Array.from({ length: 6 }, () => l.call(SIGN, { inData: 'x', passwd: '12121212' }, { carriesPin: true }));
      const outcomes = await Promise.allSettled(calls);
      expect(outcomes[0]).toMatchObject({ status: 'fulfilled', value: { result: false } });
      for (const later of outcomes.slice(1)) expect(later).toMatchObject({ status: 'rejected', reason: { code: 'CARD_PIN' } });
      expect(sim.stats().pinFrames).toBe(1);
      // PIN-free calls still go through: the card can be read, only the PIN is withheld.
      expect((await l.call('cus-sec_SpcGetCertNo', {})).result).toBe(true);
      await l.close();
      await sim.close();
    });

    it('a fresh link with the same PIN on the same card sends nothing; a different PIN gets its one try', async () => {
      const sim = await control({ reply: refusePin });
      const first = link(sim.url, { pinGate: boundGate('34343434') });
      await first.call(SIGN, { inData: 'x', passwd: '34343434' }, { carriesPin: true });
      await first.close();
      const again = link(sim.url, { pinGate: boundGate('34343434') });
      await expect(again.call(SIGN, { inData: 'x', passwd: '34343434' }, { carriesPin: true })).rejects.toMatchObject({ code: 'CARD_PIN' });
      await again.close();
      expect(sim.stats().pinFrames).toBe(1);
      const other = link(sim.url, { pinGate: boundGate('56565656') });
      await other.call(SIGN, { inData: 'x', passwd: '56565656' }, { carriesPin: true });
      await other.close();
      expect(sim.stats().pinFrames).toBe(2);
      await sim.close();
    });

    it('a time-out on a proven PIN is not followed by the PIN until a PIN-free call succeeds', async () => {
      let silent = false;
      const sim = await control({
        reply: (r) =>
          silent && r._method === SIGN
            ? undefined
            : { _id: r._id, _method: r._method, _status: '00', _args: { Result: true, Data: ['c2ln', '0a0b0c0d'], Error: [] } },
      });
      const gate = boundGate('78787878');
      const l = link(sim.url, { pinGate: gate, callTimeoutMs: 200 });
      await l.call(SIGN, { inData: 'x', passwd: '78787878' }, { carriesPin: true }); // proven
      silent = true;
      await expect(l.call(SIGN, { inData: 'x', passwd: '78787878' }, { carriesPin: true })).rejects.toMatchObject({ code: 'CARD_FAULT' });
      expect(gate.state).toBe('probe-required');
      await expect(l.call(SIGN, { inData: 'x', passwd: '78787878' }, { carriesPin: true })).rejects.toMatchObject({
        code: 'CARD_FAULT',
        message: expect.stringContaining('PIN not sent'),
      });
      expect(sim.stats().pinFrames).toBe(2);
      await l.close();
      await sim.close();
    });

    it('refuses a PIN-carrying call on a link without a gate', async () => {
      const sim = await control({});
      const l = link(sim.url);
      await expect(l.call(SIGN, { inData: 'x', passwd: '1' }, { carriesPin: true })).rejects.toMatchObject({ code: 'INTERNAL' });
      expect(sim.stats().pinFrames).toBe(0);
      await l.close();
      await sim.close();
    });
  });

  describe('with a control that never answers WebSocket pings', () => {
    async function deafControl(replyDelayMs: number) {
      const server = new WebSocketServer({ port: 0, host: '127.0.0.1', autoPong: false });
      await new Promise((resolve) => server.once('listening', resolve));
      let connections = 0;
      server.on('connection', (socket) => {
        connections += 1;
        socket.send(JSON.stringify({ _id: 0, _method: 'open', _status: '00' }));
        socket.on('message', (data) => {
          const r = JSON.parse(frameText(data));
          setTimeout(
            () =>
              socket.send(
                JSON.stringify({ _id: r._id, _method: r._method, _status: '00', _args: { Result: true, Data: ['ok'], Error: [] } }),
              ),
            replyDelayMs,
          );
        });
      });
      const close = () => {
        for (const client of server.clients) client.terminate();
        return new Promise((resolve) => server.close(resolve));
      };
      return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections, close };
    }

    it('by default keeps the link through idle gaps (no keep-alive)', async () => {
      const sim = await deafControl(5);
      const l = link(sim.url);
      await l.call('cus-sec_SpcGetCertNo', {});
      await new Promise((resolve) => setTimeout(resolve, 600));
      await l.call('cus-sec_SpcGetCertNo', {});
      expect(sim.connections()).toBe(1);
      await l.close();
      await sim.close();
    });

    it('with a keep-alive, never drops a link while a call is in flight', async () => {
      const sim = await deafControl(700);
      const l = link(sim.url, { keepAliveIntervalMs: 100 });
      expect((await l.call('cus-sec_SpcGetCertNo', {})).data).toEqual(['ok']);
      expect(sim.connections()).toBe(1);
      await l.close();
      await sim.close();
    });
  });
});
