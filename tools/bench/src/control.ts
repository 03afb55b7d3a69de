import WebSocket from 'ws';
import { authenticateSignJob, SCHEMA_VERSION, type SignJobMessage } from '@ceb179/contracts';
import { SoftCard, startEportSim } from '@ceb179/eport-sim';
import { buildControlRequest, buildPaymentDocument, buildSignString, ControlMethods, parseControlFrame } from '@ceb179/protocol';
import { makeFixture, TEST_SIGN_JOB_KEY } from '@ceb179/testkit';
import { nowMs } from './stats';

export const BENCH_PIN = '11112222';

/** A sign job as the assembler publishes it, for a fixture order. */
export function signJob(sessionID: string): SignJobMessage {
  const fixture = makeFixture(sessionID);
  const document = buildPaymentDocument({
    source: { payment: fixture.payment, orders: fixture.payment_order, goods: fixture.order_goods },
    guid: '9D55BA71-55DE-41F4-8B50-C36C83B3B419',
  });
  const signString = buildSignString({
    sessionID,
    headJson: document.headJson,
    listsJson: document.listsJson,
    serviceTime: String(Date.now()),
  });
  return authenticateSignJob(TEST_SIGN_JOB_KEY, {
    v: SCHEMA_VERSION,
    sessionID,
    ebpCode: document.ebpCode,
    signString,
    deadline: new Date(Date.now() + 120_000).toISOString(),
  });
}

/**
 * The control's serial rate: an ideal client that sends the next sign request the moment the
 * previous reply arrives, on one socket, with nothing else to do. 1000 / rate is the card's own
 * time per signature (the simulated latency plus the signing itself).
 */
export async function controlSerialRate(latencyMs: number, jobs: number): Promise<number> {
  const eport = await startEportSim({ card: SoftCard.create({ algorithm: 'RSA', pin: BENCH_PIN }), signLatencyMs: latencyMs });
  const socket = new WebSocket(eport.url);
  const messages = Array.from({ length: jobs }, (_, i) => signJob(`serial-${i}`).signString);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('message', () => resolve()); // the greeting
      socket.once('error', reject);
    });
    const started = nowMs();
    for (let i = 0; i < jobs; i++) {
      const reply = new Promise<void>((resolve) => {
        const onMessage = (data: WebSocket.RawData) => {
          if (parseControlFrame(rawText(data)).kind !== 'reply') return;
          socket.off('message', onMessage);
          resolve();
        };
        socket.on('message', onMessage);
      });
      socket.send(buildControlRequest(i + 1, ControlMethods.signDataAsPem, { inData: messages[i] as string, passwd: BENCH_PIN }));
      await reply;
    }
    return jobs / ((nowMs() - started) / 1000);
  } finally {
    socket.close();
    await eport.stop();
  }
}

/** A WebSocket frame's text, whichever shape ws delivers it in (one buffer, a fragment list, or an ArrayBuffer). */
function rawText(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return Buffer.from(new Uint8Array(data)).toString('utf8');
}
