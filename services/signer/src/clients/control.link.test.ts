import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { createLogger } from '@ceb179/logger';
import { ControlLink } from './control.link';

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
  server.on('connection', (socket) => {
    connections += 1;
    if (behaviour.greet !== false) socket.send(JSON.stringify({ _id: 0, _method: 'open', _status: '00' }));
    socket.on('message', async (data) => {
      const request = JSON.parse(data.toString());
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, behaviour.delayMs ?? 5));
      inFlight -= 1;
      const reply = (behaviour.reply ?? ((r) => ({ _id: r._id, _method: r._method, _status: '00', _args: { Result: true, Data: [`ok-${r._id}`], Error: [] } })))(request, socket);
      if (reply) socket.send(JSON.stringify(reply));
    });
  });
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, stats: () => ({ maxInFlight, connections }), close: () => new Promise((resolve) => server.close(resolve)) };
}

function link(url: string, options: Partial<{ callTimeoutMs: number; greetingTimeoutMs: number; secrets: string[] }> = {}) {
  return new ControlLink({ url, callTimeoutMs: options.callTimeoutMs ?? 2_000, greetingTimeoutMs: options.greetingTimeoutMs ?? 1_000, secrets: options.secrets ?? [], logger });
}

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
    const sim = await control({ reply: (r) => ({ _id: r._id + 100, _method: r._method, _status: '00', _args: { Result: true, Data: [] } }) });
    const l = link(sim.url, { callTimeoutMs: 300 });
    await expect(l.call('cus-sec_SpcGetCertNo', {})).rejects.toMatchObject({ code: 'CARD_FAULT', message: expect.stringContaining('did not answer') });
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
      reply: (r) => ({ _id: r._id, _method: r._method, _status: '00', _args: { Result: false, Data: [], Error: [`PIN ${r.args.passwd} is wrong`] } }),
    });
    const l = link(sim.url, { secrets: ['735191'] });
    const reply = await l.call('cus-sec_SpcVerifyPIN', { passwd: '735191' });
    expect(reply.errors).toEqual(['PIN [redacted] is wrong']);
    await l.close();
    await sim.close();
  });

  it('reports an unreachable control as a card fault naming the URL', async () => {
    const l = link('ws://127.0.0.1:1');
    await expect(l.call('cus-sec_SpcGetCertNo', {})).rejects.toMatchObject({ code: 'CARD_FAULT', message: expect.stringContaining('control unreachable at ws://127.0.0.1:1') });
    await l.close();
  });
});
