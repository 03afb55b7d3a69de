import { createLogger } from '@ceb179/logger';
import { SoftCard } from '@ceb179/eport-sim';
import { ControlMethods, type ControlReply } from '@ceb179/protocol';
import { Card, type ControlCaller } from './card';
import { PinGate, type PinMemory, type PinRecord } from './pin-gate';

/**
 * docs/traps.md#certno-case and #control-replies: customs registers certNo in lowercase; some
 * control builds report it in capitals and wrap the base64 signature over several lines. The
 * signer accepts both and hands on what customs expects: the lowercase certNo, canonical base64.
 */
function controlLikeARealOne(card: SoftCard): ControlCaller {
  const reply = (method: string, data: unknown[]): ControlReply => ({ id: 1, method, status: '00', result: true, data, errors: [] });
  const wrapped = (base64: string) => base64.replace(/(.{64})(?=.)/g, '$1\r\n');
  return {
    async call(method, args) {
      if (method === ControlMethods.getCertNo) return reply(method, [card.certNo.toUpperCase()]);
      if (method === ControlMethods.getSignCertAsPem) return reply(method, [card.certificateBase64]);
      if (method === ControlMethods.signDataAsPem) return reply(method, [wrapped(card.sign(args.inData ?? '')), card.certNo.toUpperCase()]);
      return reply(method, []);
    },
  };
}

/** Nothing remembered: a card PC that has never seen a PIN refused. */
const freshMemory: PinMemory = {
  load: (certNo: string): PinRecord => ({ certNo, refused: [] }),
  save: () => undefined,
  fingerprint: (certNo: string) => `fingerprint-of-${certNo}`,
};

describe.each(['RSA', 'SM2'] as const)('certNo case with an %s card', (algorithm) => {
  it('accepts a certNo in capitals from the control and hands on the lowercase certNo customs registered', async () => {
    const soft = SoftCard.create({ algorithm, pin: '1234', serialHex: algorithm === 'RSA' ? '1a2b3c4d' : '1a2b3c4d5e6f7a8b' });
    const gate = new PinGate(freshMemory, '1234', createLogger({ service: 'test', level: 'silent' }));
    const card = new Card(controlLikeARealOne(soft), '1234', gate);
    const certificate = await card.readCertificate();
    expect(certificate.certNo).toBe(soft.certNo.toLowerCase());
    const signString = '"sessionID":"S"||"payExchangeInfoHead":"{}"||"payExchangeInfoLists":"[]"||"serviceTime":"1"';
    const signature = await card.sign(signString);
    expect(signature.certNo).toBe(soft.certNo.toLowerCase());
    expect(signature.certNo).toMatch(/^[0-9a-f]+$/);
    expect(signature.signValue).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(signature.signValue).toHaveLength(algorithm === 'RSA' ? 172 : 88);
    expect(card.verify(signString, signature)).toBe(true);
  });
});
