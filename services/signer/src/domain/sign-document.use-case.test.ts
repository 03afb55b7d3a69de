import { SCHEMA_VERSION, type SignJobMessage } from '@ceb179/contracts';
import { createLogger } from '@ceb179/logger';
import { ack, type HandlerOutcome } from '@ceb179/mq';
import { buildSignString, verifySignature } from '@ceb179/protocol';
import { cardRefuses, FakeCard, FakeReaderCircuit, RecordingSignatures } from './sign-document.fakes';
import { SignDocument } from './sign-document.use-case';
import { SignerStatus } from './signer-status';

const logger = createLogger({ service: 'test', level: 'silent' });
const card = new FakeCard(); // one RSA key for the file; each test resets what the card does

function job(sessionID = 'sess-1', ebpCode = 'EBP-A', overrides: Partial<SignJobMessage> = {}): SignJobMessage {
  const signString = buildSignString({
    sessionID,
    headJson: JSON.stringify({
      guid: '9D55BA71-55DE-41F4-8B50-C36C83B3B419',
      initalRequest: 'https://pay.example.com/pay?id=1',
      initalResponse: 'ok',
      ebpCode,
      payCode: '312226T001',
      payTransactionId: '2018121222001354081010726129',
      totalAmount: 100,
      currency: '142',
      verDept: '3',
      payType: '1',
      tradingTime: '20181212041803',
      note: '',
    }),
    listsJson: JSON.stringify([
      {
        orderNo: 'SO-1',
        goodsInfo: [{ gname: '商品 "测试"', itemLink: 'http://m.example.com/1' }],
        recpAccount: 'OSA571908863132601',
        recpCode: '',
        recpName: 'YUNJI',
      },
    ]),
    serviceTime: '1700000000123',
  });
  // The MAC is checked before the use case (SignJobAuthenticity); here it only has to be present.
  return {
    v: SCHEMA_VERSION,
    sessionID,
    ebpCode,
    signString,
    deadline: '2026-03-01T08:02:00.000Z',
    mac: 'checked-by-the-consumer',
    ...overrides,
  };
}

describe('SignDocument', () => {
  let status: SignerStatus;
  let breaker: FakeReaderCircuit;
  let signatures: RecordingSignatures;
  let paused: number;
  let signingFaults: string[];
  let signDocument: SignDocument;

  beforeEach(() => {
    card.signed.length = 0;
    card.mangles = () => false;
    card.refusal = card.probeRefusal = undefined;
    card.probeGate = undefined;
    status = new SignerStatus('signer-1', ['EBP-A']);
    status.set('ready');
    breaker = new FakeReaderCircuit();
    signatures = new RecordingSignatures();
    paused = 0;
    signingFaults = [];
    signDocument = new SignDocument(
      card,
      status,
      breaker,
      signatures,
      {
        ebpCodes: ['EBP-A'],
        pauseConsumption: () => (paused += 1),
        onSigningFault: (problem) => signingFaults.push(problem),
      },
      logger,
    );
  });

  it("signs a job, verifies the signature and publishes it with the card's certNo", async () => {
    const signJob = job();
    expect(await signDocument.run(signJob, 0)).toEqual(ack);
    expect(signatures.published).toHaveLength(1);
    const [published] = signatures.published;
    expect(published).toMatchObject({ sessionID: 'sess-1', certNo: '01691f7f' });
    expect(verifySignature(card.certificate, signJob.signString, published?.signValue ?? '')).toBe(true);
    expect(status.snapshot().signatures).toBe(1);
    expect(breaker.successes).toBe(1);
  });

  describe('jobs refused before they reach the card: dead-lettered', () => {
    it.each<[string, SignJobMessage, RegExp]>([
      ['not a 179 sign string', job('sess-1', 'EBP-A', { signString: 'sign me' }), /^not a 179 sign string/],
      ['a sign string for another sessionID', { ...job('sess-other'), sessionID: 'sess-1' }, /for another sessionID/],
      [
        "a job ebpCode that differs from the document's",
        { ...job('sess-1', 'EBP-B'), ebpCode: 'EBP-A' },
        /differs from the document ebpCode/,
      ],
      ['an ebpCode this card does not sign for', job('sess-1', 'EBP-B'), /does not sign for ebpCode EBP-B/],
    ])('%s', async (_what, signJob, reason) => {
      const outcome = await signDocument.run(signJob, 0);
      expect(outcome.kind).toBe('dead-letter');
      expect(outcome.kind === 'dead-letter' && outcome.reason).toMatch(reason);
      expect(card.signed).toEqual([]);
      expect(signatures.published).toEqual([]);
    });
  });

  describe('while the signer cannot sign: the job goes back to its queue, the card is not asked', () => {
    it.each([
      ['paused for a PIN problem', () => status.set('paused-for-pin', 'Err:PIN')],
      ['in a signing fault', () => status.set('signing-fault', 'probe does not verify')],
    ])('%s: pauses consumption again', async (_what, enterState) => {
      enterState();
      expect(await signDocument.run(job(), 0)).toMatchObject({ kind: 'retry', delayMs: 5_000 });
      expect(paused).toBe(1);
      expect(card.signed).toEqual([]);
    });

    it('with the reader circuit breaker open', async () => {
      breaker.isOpen = true;
      expect(await signDocument.run(job(), 0)).toMatchObject({ kind: 'retry', delayMs: 5_000, reason: 'reader circuit breaker open' });
      expect(card.signed).toEqual([]);
    });
  });

  describe('a possible PIN failure', () => {
    it('stops consumption for good: no second PIN attempt, no reader fault counted, nothing dead-lettered', async () => {
      card.refusal = cardRefuses.pin();
      expect(await signDocument.run(job('sess-1'), 0)).toMatchObject({ kind: 'retry', delayMs: 5_000 });
      expect(status.state).toBe('paused-for-pin');
      expect(paused).toBe(1);
      expect(breaker.faults).toEqual([]);

      card.refusal = undefined; // even if the card would sign now, nothing reaches it until a restart
      expect((await signDocument.run(job('sess-2'), 0)).kind).toBe('retry');
      expect(card.signed).toHaveLength(1);
      status.set('ready');
      expect(status.state).toBe('paused-for-pin');
    });
  });

  describe('reader and control faults', () => {
    it.each([
      [0, 1_000],
      [2, 4_000],
      [4, 15_000], // capped
    ])('after %i retries: back to the queue in %i ms, counted and fed to the circuit breaker', async (retries, delayMs) => {
      card.refusal = cardRefuses.reader();
      expect(await signDocument.run(job(), retries)).toEqual<HandlerOutcome>({
        kind: 'retry',
        delayMs,
        reason: 'no card in the reader (Err:Custom50200)',
      });
      expect(breaker.faults).toEqual(['no card in the reader (Err:Custom50200)']);
      expect(status.snapshot().readerFaults).toBe(1);
      expect(signatures.published).toEqual([]);
    });
  });

  describe("a signature that does not verify: a probe tells this document's problem from the card PC's", () => {
    it('the probe verifies: this document is signed again, and dead-lettered on the third failure', async () => {
      card.mangles = (text) => text.includes('"sessionID":"sess-1"');
      const outcomes = [];
      for (let attempt = 0; attempt < 3; attempt++) outcomes.push(await signDocument.run(job('sess-1'), attempt));

      expect(outcomes.slice(0, 2)).toEqual([
        { kind: 'retry', delayMs: 1_000, reason: 'bad signature; signing again' },
        { kind: 'retry', delayMs: 1_000, reason: 'bad signature; signing again' },
      ]);
      expect(outcomes[2]?.kind).toBe('dead-letter');
      expect(outcomes[2]?.kind === 'dead-letter' && outcomes[2].reason).toMatch(
        /failed local verification 3 times while the probe signature verifies/,
      );
      expect(card.probes).toBe(3);
      expect(signatures.published).toEqual([]);
      expect(signingFaults).toEqual([]);
      expect(status.snapshot().badSignatures).toBe(3);
    });

    it('counts failures per document, and a good signature in between starts the count again', async () => {
      let mangle = true;
      card.mangles = (text) => mangle && text.includes('"sessionID":"sess-1"');
      await signDocument.run(job('sess-1'), 0);
      await signDocument.run(job('sess-1'), 1);
      expect((await signDocument.run(job('sess-2'), 0)).kind).toBe('ack'); // another document's count is its own
      mangle = false;
      expect(await signDocument.run(job('sess-1'), 2)).toEqual(ack);
      mangle = true;
      expect((await signDocument.run(job('sess-1'), 3)).kind).toBe('retry');
      expect((await signDocument.run(job('sess-1'), 4)).kind).toBe('retry');
      expect((await signDocument.run(job('sess-1'), 5)).kind).toBe('dead-letter');
    });

    it('the probe fails too: a signing fault of the card PC, never a dead letter, however often it happens', async () => {
      card.mangles = () => true;
      for (let attempt = 0; attempt < 5; attempt++) {
        expect(await signDocument.run(job('sess-1'), attempt)).toMatchObject({ kind: 'retry', delayMs: 5_000 });
      }
      expect(signingFaults).toHaveLength(5);
      expect(signingFaults[0]).toMatch(/probe signature does not verify against certificate 01691f7f/);
      expect(signatures.published).toEqual([]);
    });

    it('a card that signs with another certificate (swapped) is a signing fault once the probe says so too', async () => {
      card.refusal = cardRefuses.swappedCard();
      expect(await signDocument.run(job(), 0)).toMatchObject({ kind: 'retry', delayMs: 5_000 });
      expect(signingFaults).toEqual([
        'the control signed with certNo 0badc0de, not the card read at start-up (01691f7f): was the card swapped?',
      ]);
    });

    it('a reader fault during the probe is a reader fault, not a verdict on the document', async () => {
      card.mangles = () => true;
      card.probeRefusal = cardRefuses.reader();
      expect(await signDocument.run(job(), 0)).toMatchObject({
        kind: 'retry',
        delayMs: 1_000,
        reason: 'no card in the reader (Err:Custom50200)',
      });
      expect(breaker.faults).toHaveLength(1);
      expect(signingFaults).toEqual([]);
    });

    it('sends one probe however many jobs fail at the same time', async () => {
      card.mangles = () => true;
      let release!: () => void;
      card.probeGate = new Promise<void>((resolve) => (release = resolve));
      const running = ['sess-1', 'sess-2', 'sess-3'].map((sessionID) => signDocument.run(job(sessionID), 0));
      await new Promise((resolve) => setImmediate(resolve));
      release();
      const outcomes = await Promise.all(running);
      expect(card.probes).toBe(1);
      expect(outcomes.map((outcome) => outcome.kind)).toEqual(['retry', 'retry', 'retry']);
      expect(signingFaults).toHaveLength(3);
    });
  });
});
