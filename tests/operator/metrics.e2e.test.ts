import { randomUUID } from 'node:crypto';
import { parseCertificate } from '@ceb179/protocol';
import { startPipeline, type Pipeline, type PipelineService } from '@ceb179/harness';
import { makeFixture, waitFor } from '@ceb179/testkit';

/**
 * Every cloud service's ops listener after a few real callbacks: /metrics holds the named series
 * with the values the ledger and the simulators say they must have; /healthz and /readyz answer.
 */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not Prometheus text: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1] as string] = pair[2] as string;
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The one sample of `name` whose labels include `labels` (undefined when none; an error when several). */
function sample(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

describe('metrics, health and readiness of every cloud service', () => {
  const fixtures = [makeFixture('metrics-a'), makeFixture('metrics-b'), makeFixture('metrics-c'), makeFixture('metrics-d')];
  let pipeline: Pipeline;
  const opsUrl = (service: PipelineService) => {
    const port = /"opsPort":(\d+)/.exec(pipeline.current(service)?.output() ?? '')?.[1];
    if (!port) throw new Error(`${service} did not log its ops port`);
    return `http://127.0.0.1:${port}`;
  };
  const scrape = async (service: PipelineService) => {
    const response = await fetch(`${opsUrl(service)}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    return parsePrometheus(await response.text());
  };

  beforeAll(async () => {
    pipeline = await startPipeline({
      fixtures,
      extraEnv: { CEB179_ASSEMBLER_LOOKUP_RETRIES: '1', CEB179_ASSEMBLER_LOOKUP_RETRY_DELAY_MS: '300' },
      logLabel: 'metrics',
    });
    // One upload meets a transport fault first (retried), one call asks about an unknown order.
    pipeline.customs.failNextUploads(1, 503);
    const orders = [...fixtures.map((f) => f.payment_order[0]?.order_no as string), 'SO-metrics-unknown'];
    await Promise.all(
      orders.map((orderNo) => pipeline.customs.fireCallback({ ingressUrl: pipeline.ingressUrl, orderNo, sessionID: randomUUID() })),
    );
    await waitFor(
      '4 uploaded and 1 data fault',
      async () => {
        const { rows } = await pipeline.pool.query<{ status: string; n: number }>(
          'SELECT status, count(*)::int AS n FROM ceb179.request GROUP BY 1',
        );
        const n = (status: string) => rows.find((r) => r.status === status)?.n ?? 0;
        return n('uploaded') === 4 && n('data_fault') === 1 ? true : undefined;
      },
      60_000,
    );
  }, 120_000);

  afterAll(async () => {
    await pipeline?.stop();
  });

  it('ingress counts the callbacks by code and times each answer; its outbox is empty', async () => {
    const m = await scrape('ingress');
    expect(sample(m, 'ceb179_callbacks_received_total', { code: '10000', http_status: '200', service: 'ingress' })).toBe(5);
    expect(sample(m, 'ceb179_callback_answer_seconds_count')).toBe(5);
    expect(sample(m, 'ceb179_callback_answer_seconds_bucket', { le: '1' })).toBe(5);
    expect(sample(m, 'ceb179_outbox_backlog')).toBe(0);
    expect(sample(m, 'process_cpu_seconds_total', { service: 'ingress' })).toBeGreaterThan(0);
  });

  it('reporter counts customs codes, the transport retry, uploads against the deadline, and the stages', async () => {
    const m = await scrape('reporter');
    expect(sample(m, 'ceb179_customs_replies_total', { code: '10000', outcome: 'accepted' })).toBe(4);
    expect(sample(m, 'ceb179_customs_replies_total', { code: 'none', outcome: 'transport_fault' })).toBe(1);
    expect(sample(m, 'ceb179_transport_faults_total')).toBe(1);
    expect(sample(m, 'ceb179_uploads_total', { timing: 'inside' })).toBe(4);
    expect(sample(m, 'ceb179_uploads_total', { timing: 'late' })).toBeUndefined();
    expect(sample(m, 'ceb179_callback_to_upload_seconds_count')).toBe(4);
    expect(sample(m, 'ceb179_callback_to_upload_seconds_bucket', { le: '120' })).toBe(4);
    for (const stage of ['assembled', 'signed', 'uploaded']) expect(sample(m, 'ceb179_stage_seconds_count', { stage })).toBe(4);

    // The histogram's sum is the ledger's: received -> uploaded over the four uploads.
    const { rows } = await pipeline.pool.query<{ total: number }>(
      "SELECT sum(extract(epoch FROM uploaded_at - received_at))::float8 AS total FROM ceb179.request WHERE status = 'uploaded'",
    );
    expect(sample(m, 'ceb179_callback_to_upload_seconds_sum')).toBeCloseTo(rows[0]?.total as number, 2);

    expect(sample(m, 'ceb179_requests', { status: 'uploaded' })).toBe(4);
    expect(sample(m, 'ceb179_requests', { status: 'data_fault' })).toBe(1);
    expect(sample(m, 'ceb179_requests', { status: 'signed' })).toBe(0);
    expect(sample(m, 'ceb179_late_requests')).toBe(0);
    expect(sample(m, 'ceb179_oldest_in_flight_seconds')).toBe(0);
    expect(sample(m, 'ceb179_dead_letters')).toBe(0);
  });

  it("reporter exports every signer's last heartbeat: up, state, certificate days left", async () => {
    const certificate = parseCertificate(pipeline.eport.card.certificateBase64);
    const signer = /"signerId":"(signer-0-\d+)"/.exec(pipeline.current('signer-0')?.output() ?? '')?.[1] ?? 'signer-0-0';
    // Until the signer's 'ready' heartbeat is in (the reporter reads the registry at most once a second,
    // so a scrape may still show the 'starting' one that came first), it is up but not ready yet.
    const m = await waitFor(
      'the signer in the metrics, ready',
      async () => {
        const scraped = await scrape('reporter');
        return sample(scraped, 'ceb179_signer_up', { signer }) === 1 &&
          sample(scraped, 'ceb179_signer_state', { signer, state: 'ready' }) === 1
          ? scraped
          : undefined;
      },
      20_000,
      500,
    );
    expect(sample(m, 'ceb179_signer_state', { signer, state: 'starting' })).toBeUndefined();
    const daysLeft = Math.floor((certificate.notAfter.getTime() - Date.now()) / 86_400_000);
    expect(sample(m, 'ceb179_signer_certificate_days_left', { signer, cert_no: certificate.certNo })).toBeGreaterThanOrEqual(daysLeft - 1);
    expect(sample(m, 'ceb179_signer_certificate_days_left', { signer, cert_no: certificate.certNo })).toBeLessThanOrEqual(daysLeft);
    expect(Date.now() / 1000 - (sample(m, 'ceb179_signer_last_heartbeat_timestamp_seconds', { signer }) as number)).toBeLessThan(60);
  });

  it.each(['ingress', 'assembler', 'reporter'] as const)(
    '%s answers /healthz and is ready with its dependencies and consumers',
    async (service) => {
      const health = await fetch(`${opsUrl(service)}/healthz`);
      expect(health.status).toBe(200);
      const ready = await fetch(`${opsUrl(service)}/readyz`);
      const body = (await ready.json()) as { status: string; checks: Record<string, boolean> };
      expect(ready.status).toBe(200);
      expect(body.status).toBe('ready');
      if (service !== 'ingress') expect(body.checks).toEqual({ database: true, broker: true, consumers: true });
      const m = await scrape(service);
      expect(sample(m, 'process_resident_memory_bytes', { service })).toBeGreaterThan(0);
    },
  );
});
