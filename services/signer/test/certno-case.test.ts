import { SoftCard } from '@ceb179/eport-sim';
import { ControlMethods, type ControlReply } from '@ceb179/protocol';
import { Card, type ControlCaller } from '../src/domain/card';

/**
 * docs/traps.md#certno-case: customs registers certNo in lowercase; some control builds report it
 * in capitals. The signer accepts the control's capitals and always hands on lowercase.
 */
function controlReportingCapitals(card: SoftCard): ControlCaller {
  const reply = (method: string, data: unknown[]): ControlReply => ({ id: 1, method, status: '00', result: true, data, errors: [] });
  return {
    async call(method, args) {
      if (method === ControlMethods.getCertNo) return reply(method, [card.certNo.toUpperCase()]);
      if (method === ControlMethods.getSignCertAsPem) return reply(method, [card.certificateBase64]);
      if (method === ControlMethods.signDataAsPem) return reply(method, [card.sign(args.inData ?? ''), card.certNo.toUpperCase()]);
      return reply(method, []);
    },
  };
}

describe.each(['RSA', 'SM2'] as const)('certNo case with an %s card', (algorithm) => {
  it('accepts a certNo in capitals from the control and hands on the lowercase certNo customs registered', async () => {
    const soft = SoftCard.create({ algorithm, pin: '1234', serialHex: algorithm === 'RSA' ? '1a2b3c4d' : '1a2b3c4d5e6f7a8b' });
    const card = new Card(controlReportingCapitals(soft), '1234');
    const certificate = await card.readCertificate();
    expect(certificate.certNo).toBe(soft.certNo.toLowerCase());
    const signString = '"sessionID":"S"||"payExchangeInfoHead":"{}"||"payExchangeInfoLists":"[]"||"serviceTime":"1"';
    const signature = await card.sign(signString);
    expect(signature.certNo).toBe(soft.certNo.toLowerCase());
    expect(signature.certNo).toMatch(/^[0-9a-f]+$/);
    expect(card.verify(signString, signature)).toBe(true);
  });
});
