import { Queues, RedisKeys } from '@ceb179/contracts';
import { HARSH_QUIRKS, type ControlQuirks } from '@ceb179/eport-sim';
import { parseCertificate } from '@ceb179/protocol';
import { waitForOutput, type ServiceProcess } from '@ceb179/harness';
import { makeFixture, queueDepth, waitFor } from '@ceb179/testkit';
import { Redis } from 'ioredis';
import { CARD_PIN, expectExactlyOnceVerified, fire, startPipeline, type Pipeline } from './pipeline-harness';

/**
 * Issue 8's acceptance with real processes: the card sees at most one wrong PIN however busy the
 * signer is and however often it restarts; every way a real control may differ from the tidy
 * simulator still ends in exactly one verified upload at a strict customs; a control that signs
 * GBK is stopped by the self-test before any job is taken.
 */

const orderOf = (fixture: ReturnType<typeof makeFixture>) => fixture.payment_order[0]?.order_no as string;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the PIN changes under a busy signer', () => {
  const warmUp = makeFixture('pinwarm');
  const busy = Array.from({ length: 8 }, (_, i) => makeFixture(`pinbusy${i}`));
  const newPin = '24681357';
  let pipeline: Pipeline;

  beforeAll(async () => {
    // 300 ms a signature, and a wrong PIN takes as long to refuse: jobs queue up behind it.
    pipeline = await startPipeline({ cards: [{ algorithm: 'RSA', signLatencyMs: 300 }], fixtures: [warmUp, ...busy] });
  }, 60_000);
  afterAll(() => pipeline?.stop());

  it('the card sees one wrong attempt; a SIGKILLed signer restarted with the same PIN sends none; the new PIN uploads everything once', async () => {
    const [first] = await fire(pipeline, [orderOf(warmUp)]);
    await waitFor('the warm-up upload', async () => pipeline.customs.accepted().get(first as string), 20_000);

    pipeline.eport.changePin(newPin);
    const sessionIDs = await fire(pipeline, busy.map(orderOf));
    const signer = pipeline.current('signer-0') as ServiceProcess;
    await waitForOutput(signer, 'POSSIBLE PIN FAILURE', 30_000);
    await sleep(2_000); // time in which the queued jobs would have reached the card
    expect(pipeline.eport.stats()).toMatchObject({ wrongPinAttempts: 1, locked: false });
    const attemptsBeforeRestart = pipeline.eport.stats().pinAttempts;

    await signer.kill();
    const restarted = await pipeline.startSigner(0, {}, 'POSSIBLE PIN FAILURE at self-test');
    expect(restarted.output()).toContain('PIN not sent');
    await sleep(1_500);
    expect(pipeline.eport.stats()).toMatchObject({ wrongPinAttempts: 1, pinAttempts: attemptsBeforeRestart, locked: false });
    expect(pipeline.customs.uploads().filter((u) => sessionIDs.includes(u.sessionID as string))).toHaveLength(0);

    await restarted.kill();
    await pipeline.startSigner(0, { CEB179_CARD_PIN: newPin });
    await pipeline.customs.waitForUploads(9, 60_000);
    expectExactlyOnceVerified(pipeline, sessionIDs);
    expect(pipeline.eport.stats()).toMatchObject({ wrongPinAttempts: 1, locked: false, concurrentViolations: 0 });
    for (const service of pipeline.services) {
      expect(service.output()).not.toContain(CARD_PIN);
      expect(service.output()).not.toContain(newPin);
    }
  });
});

/** One card (and ebpCode) per way a real control may differ; the last one has them all. */
const VARIANTS: Array<{ name: string; quirks: Partial<ControlQuirks> }> = [
  { name: 'signature in 64-character CRLF lines', quirks: { signatureFormat: 'crlf-lines' } },
  { name: 'signature as PEM', quirks: { signatureFormat: 'pem' } },
  { name: 'signature with blanks', quirks: { signatureFormat: 'whitespace' } },
  { name: 'certificate as PEM, certNo upper case', quirks: { certificateFormat: 'pem', certNoFormat: 'upper' } },
  {
    name: 'certificate in CRLF lines, certNo with leading zeros',
    quirks: { certificateFormat: 'crlf-lines', certNoFormat: 'leading-zeros' },
  },
  { name: 'empty certNo', quirks: { certNoFormat: 'empty' } },
  { name: 'no greeting, pings never answered', quirks: { greetingDelayMs: -1, answerPings: false } },
  { name: 'a greeting later than the signer waits', quirks: { greetingDelayMs: 1_500 } },
  { name: 'all of them at once', quirks: HARSH_QUIRKS },
];

describe('controls as they may really be', () => {
  const ebpCodeOf = (i: number) => `VARIANT${String(i).padStart(3, '0')}`;
  const batches = [0, 1].map((batch) =>
    VARIANTS.flatMap((_, i) => [0, 1].map((n) => makeFixture(`q${batch}v${i}n${n}`, { ebpCode: ebpCodeOf(i) }))),
  );
  let pipeline: Pipeline;

  beforeAll(async () => {
    pipeline = await startPipeline({
      cards: VARIANTS.map((variant, i) => ({
        algorithm: i % 2 === 0 ? 'SM2' : 'RSA',
        ebpCodes: [ebpCodeOf(i)],
        signLatencyMs: 20,
        quirks: variant.quirks,
      })),
      fixtures: batches.flat(),
      extraEnv: { CEB179_SIGNER_GREETING_TIMEOUT_MS: '500' },
    });
  }, 120_000);
  afterAll(() => pipeline?.stop());

  it('every request is uploaded exactly once, verified by a strict customs, across an idle gap of 35 s', async () => {
    const first = await fire(pipeline, (batches[0] ?? []).map(orderOf));
    await pipeline.customs.waitForUploads(first.length, 60_000);
    await sleep(35_000); // longer than any keep-alive interval (the old default was a 15 s ping)
    const second = await fire(pipeline, (batches[1] ?? []).map(orderOf));
    await pipeline.customs.waitForUploads(first.length + second.length, 60_000);

    expectExactlyOnceVerified(pipeline, [...first, ...second]);
    expect(pipeline.customs.uploads().every((u) => u.code === '10000')).toBe(true);
    VARIANTS.forEach((variant, i) => {
      const eport = pipeline.eports[i];
      const certNo = parseCertificate(eport?.card.certificateBase64 as string).certNo;
      const mine = pipeline.customs
        .uploads()
        .filter((u) => (JSON.parse(u.headJson as string) as { ebpCode: string }).ebpCode === ebpCodeOf(i));
      expect({ variant: variant.name, uploads: mine.length, certNos: [...new Set(mine.map((u) => u.certNo))] }).toEqual({
        variant: variant.name,
        uploads: 4,
        certNos: [certNo],
      });
      expect({ variant: variant.name, maxInFlight: eport?.stats().maxInFlight, violations: eport?.stats().concurrentViolations }).toEqual({
        variant: variant.name,
        maxInFlight: 1,
        violations: 0,
      });
    });
    // The connections survived the idle gap: no reconnect per batch.
    const unanswered = pipeline.eports[VARIANTS.length - 1];
    expect(unanswered?.stats().totalConnections).toBe(1);
  }, 180_000);
});

describe('a control that signs GBK instead of UTF-8', () => {
  const fixtures = [makeFixture('gbk0'), makeFixture('gbk1')];
  let pipeline: Pipeline;

  beforeAll(async () => {
    pipeline = await startPipeline({ cards: [{ algorithm: 'SM2', quirks: { signEncoding: 'gbk' } }], fixtures, startSigners: false });
  }, 60_000);
  afterAll(() => pipeline?.stop());

  it('fails the self-test naming the encoding; no job consumed, none dead-lettered', async () => {
    await fire(pipeline, fixtures.map(orderOf));
    await waitFor('2 assembled requests', async () => {
      const { rows } = await pipeline.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM ceb179.request WHERE status = 'assembled'");
      return rows[0]?.n === 2 ? true : undefined;
    });
    const signer = await pipeline.startSigner(0, {}, 'card self-test failed');
    expect(signer.output()).toContain('GBK');
    await sleep(3_000);
    expect(pipeline.eport.stats().signatures).toBe(1); // the probe, nothing else
    expect(pipeline.customs.uploads()).toHaveLength(0);
    const { rows } = await pipeline.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM ceb179.request WHERE status = 'assembled'");
    expect(rows[0]?.n).toBe(2);
    await waitFor(
      'the management API to count the queues',
      async () => ((await queueDepth(pipeline.vhost.name, Queues.signJobsAny)) === 2 ? true : undefined),
      20_000,
    );
    expect(await queueDepth(pipeline.vhost.name, Queues.deadLetters)).toBe(0);
    expect(signer.output()).not.toContain('consuming sign jobs');
  });
});

describe('a control that starts signing GBK while the signer runs', () => {
  const warmUp = makeFixture('sysw');
  const fixtures = Array.from({ length: 6 }, (_, i) => makeFixture(`sys${i}`));
  let pipeline: Pipeline;

  beforeAll(async () => {
    pipeline = await startPipeline({
      cards: [{ algorithm: 'RSA', signLatencyMs: 20 }],
      fixtures: [warmUp, ...fixtures],
      extraEnv: { CEB179_SIGNER_SIGNING_FAULT_RETRY_MS: '3000', CEB179_SIGNER_HEARTBEAT_INTERVAL_MS: '1000' },
    });
  }, 60_000);
  afterAll(() => pipeline?.stop());

  it('stops consuming with signing-fault in health, metrics and heartbeat, dead-letters nothing, and uploads everything once it is fixed', async () => {
    const [first] = await fire(pipeline, [orderOf(warmUp)]);
    await waitFor('the warm-up upload', async () => pipeline.customs.accepted().get(first as string), 20_000);

    pipeline.eport.setQuirks({ signEncoding: 'gbk' });
    const sessionIDs = await fire(pipeline, fixtures.map(orderOf));
    const signer = pipeline.current('signer-0') as ServiceProcess;
    await waitForOutput(signer, "the card PC's signatures do not verify", 30_000);

    const healthUrl = /"url":"(http:\/\/127\.0\.0\.1:\d+)\/health"/.exec(signer.output())?.[1] as string;
    const health = await fetch(`${healthUrl}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ state: 'signing-fault', reason: expect.stringContaining('GBK') });
    expect(await (await fetch(`${healthUrl}/metrics`)).text()).toContain('ceb179_signer_state{state="signing-fault"} 1');
    const redis = new Redis(pipeline.env.CEB179_REDIS_URL as string);
    try {
      await waitFor(
        'the signing-fault heartbeat',
        async () => ((await redis.get(RedisKeys.signer('signer-0-0')))?.includes('"state":"signing-fault"') ? true : undefined),
        20_000,
      );
    } finally {
      redis.disconnect();
    }
    expect(pipeline.customs.uploads().filter((u) => sessionIDs.includes(u.sessionID as string))).toHaveLength(0);

    pipeline.eport.setQuirks({ signEncoding: 'utf8' });
    await pipeline.customs.waitForUploads(7, 60_000);
    expectExactlyOnceVerified(pipeline, sessionIDs);
    await sleep(5_000);
    expect(await queueDepth(pipeline.vhost.name, Queues.deadLetters)).toBe(0);
  });
});
