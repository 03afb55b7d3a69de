import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlMethods, buildSignString, parseCertificate, parseControlFrame, verifySignature } from '@ceb179/protocol';
import { ControlErrors, SoftCard, loadOrCreateCard, startEportSim, type EportSim } from '../src/index';
import { ControlClient } from './control-client';

const PIN = '11112222';
const SIGN_STRING = buildSignString({
  sessionID: 'sess-1',
  headJson: '{"guid":"0D6F1B9E-2C4A-4F7E-9B1D-3A5C7E9F1B2D","ebpCode":"4403160Z9A"}',
  listsJson: '[{"orderNo":"O-1","goodsInfo":[{"gname":"奶粉","itemLink":"https://shop.example/p?id=1&x=2"}]}]',
  serviceTime: '1700000000123',
});

describe('eport-sim control protocol', () => {
  const rsaCard = SoftCard.create({ algorithm: 'RSA', pin: PIN, cardId: 'CARD-RSA-1' });
  const sm2Card = SoftCard.create({ algorithm: 'SM2', pin: PIN });
  let sim: EportSim;
  let client: ControlClient;

  async function start(card: SoftCard, options: { signLatencyMs?: number } = {}): Promise<void> {
    sim = await startEportSim({ card, ...options });
    client = await ControlClient.connect(sim.url);
  }

  afterEach(async () => {
    client?.close();
    await sim?.stop();
  });

  it('listens on 127.0.0.1 and sends the open greeting before anything else', async () => {
    await start(rsaCard);
    expect(sim.url).toBe(`ws://127.0.0.1:${sim.port}`);
    const greeting = await client.frameAt(0);
    expect(greeting).toMatchObject({ _id: 0, _method: 'open', _status: '00' });
    expect(parseControlFrame(JSON.stringify(greeting)).kind).toBe('greeting');
  });

  it.each([
    ['RSA', rsaCard, 172],
    ['SM2', sm2Card, 88],
  ] as const)('signs with the %s card: Data[0] signature, Data[1] certNo, verifiable', async (_name, card, length) => {
    await start(card);
    const reply = await client.call(ControlMethods.signDataAsPem, { inData: SIGN_STRING, passwd: PIN });
    expect(reply).toMatchObject({ _method: ControlMethods.signDataAsPem, _status: '00', _args: { Result: true, Error: [] } });
    const [signature, certNo] = reply._args?.Data as [string, string];
    expect(signature).toHaveLength(length);
    expect(certNo).toBe(card.certNo);
    expect(verifySignature(parseCertificate(card.certificateBase64), SIGN_STRING, signature)).toBe(true);
    expect(sim.stats()).toMatchObject({ signatures: 1, pinAttempts: 1, wrongPinAttempts: 0, connections: 1 });
  });

  it('answers the read-only methods', async () => {
    await start(rsaCard);
    expect((await client.call(ControlMethods.getCertNo))._args).toEqual({ Result: true, Data: [rsaCard.certNo], Error: [] });
    expect((await client.call(ControlMethods.getCardId))._args?.Data).toEqual(['CARD-RSA-1']);

    const certificate = (await client.call(ControlMethods.getSignCertAsPem))._args?.Data[0] as string;
    expect(certificate).toBe(rsaCard.certificateBase64);
    expect(certificate).not.toContain('-----BEGIN');
    expect(parseCertificate(certificate).certNo).toBe(rsaCard.certNo);

    const validity = (await client.call(ControlMethods.getValidTimeFromCert))._args?.Data[0];
    expect(typeof validity).toBe('string'); // a JSON text, not an object
    const { szStartTime, szEndTime } = JSON.parse(validity as string) as Record<string, string>;
    expect(szStartTime).toMatch(/^\d{14}$/);
    expect(szEndTime).toMatch(/^\d{14}$/);
    expect(String(szStartTime) < String(szEndTime)).toBe(true);
  });

  it('verifies a PIN', async () => {
    await start(rsaCard);
    expect((await client.call(ControlMethods.verifyPin, { passwd: PIN }))._args).toEqual({ Result: true, Data: [], Error: [] });
  });

  it('counts wrong PINs, locks after 3, and then refuses even the right PIN', async () => {
    await start(rsaCard);
    const wrong1 = await client.call(ControlMethods.signDataAsPem, { inData: SIGN_STRING, passwd: '0000' });
    expect(wrong1._status).toBe('00');
    expect(wrong1._args?.Result).toBe(false);
    expect(wrong1._args?.Error[0]).toBe(ControlErrors.wrongPin(2));
    expect(wrong1._args?.Error[0]).not.toContain('0000');
    await client.call(ControlMethods.verifyPin, { passwd: '0001' });
    expect(sim.stats()).toMatchObject({ wrongPinAttempts: 2, locked: false });
    const wrong3 = await client.call(ControlMethods.verifyPin, { passwd: '0002' });
    expect(wrong3._args?.Result).toBe(false);
    expect(sim.stats().locked).toBe(true);

    const right = await client.call(ControlMethods.signDataAsPem, { inData: SIGN_STRING, passwd: PIN });
    expect(right._args).toEqual({ Result: false, Data: [], Error: [ControlErrors.cardLocked] });
    const verify = await client.call(ControlMethods.verifyPin, { passwd: PIN });
    expect(verify._args?.Result).toBe(false);
    expect(sim.stats()).toMatchObject({ pinAttempts: 5, wrongPinAttempts: 3, signatures: 0, locked: true });

    // Reading the card still works: only PIN-bearing calls are refused.
    expect((await client.call(ControlMethods.getCertNo))._args?.Result).toBe(true);

    sim.unlockCard();
    expect((await client.call(ControlMethods.verifyPin, { passwd: PIN }))._args?.Result).toBe(true);
  });

  it('resets the wrong-PIN count on a right PIN', async () => {
    await start(rsaCard);
    await client.call(ControlMethods.verifyPin, { passwd: 'x' });
    await client.call(ControlMethods.verifyPin, { passwd: 'y' });
    expect((await client.call(ControlMethods.verifyPin, { passwd: PIN }))._args?.Result).toBe(true);
    await client.call(ControlMethods.verifyPin, { passwd: 'x' });
    await client.call(ControlMethods.verifyPin, { passwd: 'y' });
    expect(sim.stats().locked).toBe(false);
    expect((await client.call(ControlMethods.signDataAsPem, { inData: 'abc', passwd: PIN }))._args?.Result).toBe(true);
  });

  it('keeps the lock count per simulator across connections', async () => {
    await start(rsaCard);
    await client.call(ControlMethods.verifyPin, { passwd: 'x' });
    await client.call(ControlMethods.verifyPin, { passwd: 'x' });
    client.close();
    client = await ControlClient.connect(sim.url);
    await client.call(ControlMethods.verifyPin, { passwd: 'x' });
    expect(sim.stats()).toMatchObject({ locked: true, totalConnections: 2 });
  });

  it('fails unknown methods, bad JSON and missing arguments with Result false', async () => {
    await start(rsaCard);
    const unknown = await client.call('cus-sec_SpcNoSuchThing');
    expect(unknown).toMatchObject({ _method: 'cus-sec_SpcNoSuchThing', _status: '00', _args: { Result: false } });
    expect(unknown._args?.Error[0]).toContain('cus-sec_SpcNoSuchThing');

    client.sendRaw('{not json');
    const bad = await client.frameAt(2);
    expect(bad).toMatchObject({ _id: 0, _status: '00', _args: { Result: false } });
    expect(parseControlFrame(JSON.stringify(bad)).kind).toBe('reply');

    client.sendRaw(JSON.stringify({ _method: ControlMethods.getCertNo, _id: 'seven', args: {} }));
    expect(await client.frameAt(3)).toMatchObject({ _id: 0, _method: ControlMethods.getCertNo, _args: { Result: false } });

    const noData = await client.call(ControlMethods.signDataAsPem, { passwd: PIN });
    expect(noData._args?.Result).toBe(false);
    expect(noData._args?.Error[0]).toContain('inData');
    const noPin = await client.call(ControlMethods.signDataAsPem, { inData: 'abc' });
    expect(noPin._args?.Error[0]).toContain('passwd');
    expect(sim.stats()).toMatchObject({ pinAttempts: 0, requests: 5 });
  });

  it('counts a request that arrives while another is in flight, on any connection, and still answers both', async () => {
    await start(rsaCard, { signLatencyMs: 300 });
    const second = await ControlClient.connect(sim.url);
    try {
      const a = client.send(ControlMethods.signDataAsPem, { inData: 'one', passwd: PIN });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const b = second.send(ControlMethods.signDataAsPem, { inData: 'two', passwd: PIN });
      const c = client.send(ControlMethods.getCertNo);
      const [ra, rb, rc] = await Promise.all([client.reply(a), second.reply(b), client.reply(c)]);
      expect([ra._args?.Result, rb._args?.Result, rc._args?.Result]).toEqual([true, true, true]);
      expect(sim.stats()).toMatchObject({ concurrentViolations: 2, maxInFlight: 3, signatures: 2 });
    } finally {
      second.close();
    }
  });

  it('does not count strictly sequential requests as concurrent', async () => {
    await start(rsaCard, { signLatencyMs: 20 });
    for (let i = 0; i < 5; i += 1) await client.call(ControlMethods.signDataAsPem, { inData: `n${i}`, passwd: PIN });
    expect(sim.stats()).toMatchObject({ concurrentViolations: 0, maxInFlight: 1, signatures: 5 });
  });

  it('injects reader faults and drops connections', async () => {
    await start(rsaCard);
    sim.failNextRequests(1);
    const fault = await client.call(ControlMethods.signDataAsPem, { inData: 'abc', passwd: PIN });
    expect(fault._args).toEqual({ Result: false, Data: [], Error: ['Err:Custom50200'] });
    expect(sim.stats().pinAttempts).toBe(0);
    expect((await client.call(ControlMethods.signDataAsPem, { inData: 'abc', passwd: PIN }))._args?.Result).toBe(true);

    sim.dropConnections();
    await client.closed();
    client = await ControlClient.connect(sim.url);
    expect((await client.frameAt(0))._method).toBe('open');
  });
});

describe('card file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'eport-sim-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the card once, owner-readable only, and reads the same card back', () => {
    const path = join(dir, 'sub', 'card.json');
    const first = loadOrCreateCard(path, { algorithm: 'SM2', pin: '2468' });
    expect(first.created).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const again = loadOrCreateCard(path, { algorithm: 'RSA', pin: 'other' });
    expect(again.created).toBe(false);
    expect(again.card.algorithm).toBe('SM2');
    expect(again.card.certNo).toBe(first.card.certNo);
    expect(again.card.pinMatches('2468')).toBe(true);
    expect(JSON.parse(readFileSync(path, 'utf8')).certificateBase64).toBe(first.card.certificateBase64);
  });
});
