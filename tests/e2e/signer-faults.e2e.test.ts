import { RedisKeys } from '@ceb179/contracts';
import { parseCertificate } from '@ceb179/protocol';
import { waitForOutput, type ServiceProcess } from '@ceb179/harness';
import { insertSource, makeFixture, waitFor } from '@ceb179/testkit';
import { Redis } from 'ioredis';
import { CARD_PIN, SOURCE_SCHEMA, expectExactlyOnceVerified, fire, startPipeline, type Pipeline } from './pipeline-harness';

/**
 * Issue 3's acceptance, through the whole pipeline with real processes: the PIN guard, reader
 * faults and dropped connections, corrupted signatures, failover between two card PCs, and
 * routing by ebpCode to the card registered for it. Nothing is uploaded twice, nothing lost.
 */
const FAST_BREAKER = { CEB179_SIGNER_BREAKER_COOLDOWN_MS: '500' };

async function assembledCount(pipeline: Pipeline): Promise<number> {
  const { rows } = await pipeline.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM ceb179.request WHERE status = 'assembled'");
  return rows[0]?.n ?? 0;
}

function healthUrlOf(signer: ServiceProcess): string {
  const match = /"url":"(http:\/\/127\.0\.0\.1:\d+)\/health"/.exec(signer.output());
  if (!match) throw new Error('signer printed no health URL');
  return match[1] as string;
}

describe('signer PIN guard', () => {
  const fixtures = Array.from({ length: 5 }, (_, i) => makeFixture(`pin${i}`));
  let pipeline: Pipeline;

  beforeAll(async () => {
    pipeline = await startPipeline({ algorithm: 'SM2', fixtures, startSigners: false });
  }, 60_000);
  afterAll(() => pipeline?.stop());

  it('with a wrong PIN and 5 pending jobs: at most one PIN attempt, card not locked; with the right PIN all 5 uploaded', async () => {
    const sessionIDs = await fire(
      pipeline,
      fixtures.map((f) => f.payment_order[0]?.order_no as string),
    );
    await waitFor('5 assembled requests', async () => ((await assembledCount(pipeline)) === 5 ? true : undefined));

    const wrongPin = '31415926';
    const wrong = await pipeline.startSigner(0, { CEB179_CARD_PIN: wrongPin }, 'POSSIBLE PIN FAILURE');
    const health = await fetch(`${healthUrlOf(wrong)}/health`);
    expect(health.status).toBe(503);
    const status = (await health.json()) as { state: string; reason: string };
    expect(status.state).toBe('paused-for-pin');
    const metrics = await (await fetch(`${healthUrlOf(wrong)}/metrics`)).text();
    expect(metrics).toContain('ceb179_signer_state{state="paused-for-pin"} 1');
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // time in which a careless signer would retry
    expect(pipeline.eport.stats().pinAttempts).toBe(1);
    expect(pipeline.eport.stats().locked).toBe(false);
    expect(pipeline.customs.uploads()).toHaveLength(0);

    // Heartbeats tell the cloud side why, without the PIN: the reporter keeps them in Redis.
    const redis = new Redis(pipeline.env.CEB179_REDIS_URL as string);
    const heartbeat = await waitFor(
      'the paused-for-pin heartbeat in Redis',
      async () => {
        const text = await redis.get(RedisKeys.signer('signer-0-0'));
        return text?.includes('"state":"paused-for-pin"') ? text : undefined;
      },
      20_000,
    );
    redis.disconnect();
    expect(JSON.parse(heartbeat)).toMatchObject({ certNo: parseCertificate(pipeline.eport.card.certificateBase64).certNo });
    await wrong.stop();

    await pipeline.startSigner(0);
    await pipeline.customs.waitForUploads(5, 30_000);
    expectExactlyOnceVerified(pipeline, sessionIDs);
    expect(pipeline.eport.stats().wrongPinAttempts).toBe(1);

    // The PIN, right or wrong, is in no log line, heartbeat, health reply or metric.
    for (const service of pipeline.services) {
      expect(service.output()).not.toContain(wrongPin);
      expect(service.output()).not.toContain(CARD_PIN);
    }
    for (const text of [heartbeat, JSON.stringify(status), metrics]) {
      expect(text).not.toContain(wrongPin);
      expect(text).not.toContain(CARD_PIN);
    }
  });
});

describe.each(['RSA', 'SM2'] as const)('reader faults with an %s card', (algorithm) => {
  const fixtures = Array.from({ length: 20 }, (_, i) => makeFixture(`rf${algorithm}${i}`));
  let pipeline: Pipeline;

  beforeAll(async () => {
    pipeline = await startPipeline({ cards: [{ algorithm, signLatencyMs: 20 }], fixtures, extraEnv: FAST_BREAKER });
  }, 60_000);
  afterAll(() => pipeline?.stop());

  it('two 50070 faults and a dropped connection during a batch: every request uploaded exactly once, verified', async () => {
    pipeline.eport.failNextRequests(2, 'Err:Custom50070');
    pipeline.eport.dropDuringNextSigns(1);
    const sessionIDs = await fire(
      pipeline,
      fixtures.map((f) => f.payment_order[0]?.order_no as string),
    );
    // This batch's own uploads: the other test of this pipeline may have uploaded one before.
    await waitFor(
      'the batch uploaded',
      async () => (sessionIDs.every((s) => pipeline.customs.accepted().has(s)) ? true : undefined),
      60_000,
    );
    expectExactlyOnceVerified(pipeline, sessionIDs);
    expect(pipeline.eport.stats().concurrentViolations).toBe(0);
    expect(pipeline.eport.stats().maxInFlight).toBe(1);
  });

  it('a signature corrupted on the way is caught before upload and signed again', async () => {
    const extra = [makeFixture(`corrupt${algorithm}`)];
    for (const f of extra) await insertSource(pipeline.pool, SOURCE_SCHEMA, f);
    pipeline.eport.corruptNextSignatures(1);
    const signer = pipeline.services.find((s) => s.name === 'signer-0') as ServiceProcess;
    const [sessionID] = await fire(pipeline, [extra[0]?.payment_order[0]?.order_no as string]);
    await waitForOutput(signer, 'signature failed local verification');
    await waitFor('the re-signed upload', async () => pipeline.customs.accepted().get(sessionID as string));
    expectExactlyOnceVerified(pipeline, [sessionID as string]);
    expect(pipeline.customs.uploads().every((u) => u.verified)).toBe(true);
  });
});

describe('two card PCs for one ebpCode', () => {
  const fixtures = Array.from({ length: 30 }, (_, i) => makeFixture(`fo${i}`));
  let pipeline: Pipeline;

  beforeAll(async () => {
    pipeline = await startPipeline({
      cards: [
        { algorithm: 'RSA', ebpCodes: ['3301963K69'], signLatencyMs: 30 },
        { algorithm: 'SM2', ebpCodes: ['3301963K69'], signLatencyMs: 30 },
      ],
      fixtures,
    });
  }, 60_000);
  afterAll(() => pipeline?.stop());

  it('share the work, and one takes over when the other dies mid-batch', async () => {
    const sessionIDs = await fire(
      pipeline,
      fixtures.map((f) => f.payment_order[0]?.order_no as string),
    );
    await waitFor('a few signatures from each card', async () =>
      pipeline.eports.every((e) => e.stats().signatures >= 2) ? true : undefined,
    );
    const first = pipeline.services.find((s) => s.name === 'signer-0') as ServiceProcess;
    await first.kill();
    await pipeline.customs.waitForUploads(30, 60_000);
    expectExactlyOnceVerified(pipeline, sessionIDs);
    const byCert = new Map<string, number>();
    for (const u of pipeline.customs.uploads()) byCert.set(u.certNo as string, (byCert.get(u.certNo as string) ?? 0) + 1);
    expect(byCert.size).toBe(2);
  });
});

describe('two ebpCodes, two cards', () => {
  const a = Array.from({ length: 4 }, (_, i) => makeFixture(`ea${i}`, { ebpCode: 'EBPAAAA001' }));
  const b = Array.from({ length: 4 }, (_, i) => makeFixture(`eb${i}`, { ebpCode: 'EBPBBBB002' }));
  let pipeline: Pipeline;

  beforeAll(async () => {
    pipeline = await startPipeline({
      cards: [
        { algorithm: 'RSA', ebpCodes: ['EBPAAAA001'] },
        { algorithm: 'SM2', ebpCodes: ['EBPBBBB002'] },
      ],
      fixtures: [...a, ...b],
    });
  }, 60_000);
  afterAll(() => pipeline?.stop());

  it('signs each document with the card registered for its ebpCode', async () => {
    const sessionIDs = await fire(
      pipeline,
      [...a, ...b].map((f) => f.payment_order[0]?.order_no as string),
    );
    await pipeline.customs.waitForUploads(8, 30_000);
    expectExactlyOnceVerified(pipeline, sessionIDs);
    const certOf = (i: number) =>
      parseCertificate((pipeline.eports[i] as { card: { certificateBase64: string } }).card.certificateBase64).certNo;
    for (const upload of pipeline.customs.uploads()) {
      const ebpCode = (JSON.parse(upload.headJson as string) as { ebpCode: string }).ebpCode;
      expect(upload.certNo).toBe(ebpCode === 'EBPAAAA001' ? certOf(0) : certOf(1));
    }
  });
});
