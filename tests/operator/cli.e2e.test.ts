import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as amqp from 'amqplib';
import { Queues } from '@ceb179/contracts';
import { SoftCard } from '@ceb179/eport-sim';
import { AmqpResendPublisher } from '@ceb179/operator';
import { parseCertificate } from '@ceb179/protocol';
import { type Pipeline } from '@ceb179/harness';
import { createServiceUsers, repoRoot, waitFor } from '@ceb179/testkit';
import { cliEnv, runCli } from './cli-helper';
import { SERVED_EBP_CODE, startOperatorScenario, type OperatorScenario } from './scenario';

/**
 * The operator CLI against a real pipeline (ingress, assembler, signer, reporter on a throw-away
 * database, vhost and Redis db; customs and the card simulated): every command reads what the
 * pipeline really wrote, and a re-send uploads the stored bytes through the reporter.
 */
describe('ceb179 operator CLI', () => {
  const SERVED = SERVED_EBP_CODE;
  let scenario: OperatorScenario;
  let pipeline: Pipeline;
  let env: Record<string, string>;
  let certDir: string;
  let sessions: OperatorScenario['sessions'];
  let orders: OperatorScenario['orders'];
  const status = (sessionID: string) => scenario.status(sessionID);

  beforeAll(async () => {
    scenario = await startOperatorScenario('operator-cli');
    ({ pipeline, sessions, orders } = scenario);
    // The CLI connects to RabbitMQ as the least-privilege "operator" user of deploy/rabbitmq/permissions.json.
    const users = (await createServiceUsers(pipeline.vhost, path.join(repoRoot(), 'deploy/rabbitmq/permissions.json'))) as Record<
      string,
      string
    >;
    env = { ...cliEnv(pipeline.env), CEB179_AMQP_URL: users.operator as string };
    certDir = mkdtempSync(path.join(tmpdir(), 'ceb179-cli-cert-'));
  }, 120_000);

  afterAll(async () => {
    await pipeline?.stop();
    if (certDir) rmSync(certDir, { recursive: true, force: true });
  });

  it('show prints the whole timeline of an uploaded request, by sessionID and by orderNo, as the ledger has it', async () => {
    const text = await runCli(['show', sessions.uploaded], env);
    expect(text.code).toBe(0);
    const row = (await pipeline.pool.query('SELECT * FROM ceb179.request WHERE session_id = $1', [sessions.uploaded])).rows[0];
    const attempts = (await pipeline.pool.query('SELECT * FROM ceb179.upload_attempt WHERE session_id = $1', [sessions.uploaded])).rows;
    expect(attempts).toHaveLength(1);
    for (const at of [row.received_at, row.assembled_at, row.signed_at, row.uploaded_at])
      expect(text.stdout).toContain((at as Date).toISOString());
    expect(text.stdout).toContain(`order ${orders.uploaded}`);
    expect(text.stdout).toMatch(/status +uploaded +customs 10000/);
    expect(text.stdout).toMatch(/uploaded \d+\.\d s inside the 2-minute deadline/);
    expect(text.stdout).toMatch(
      new RegExp(
        `1\\. ${(attempts[0].attempted_at as Date).toISOString()}  HTTP 200  code 10000 .* accepted  ${attempts[0].latency_ms} ms`,
      ),
    );

    const json = await runCli(['show', orders.uploaded, '--json'], env);
    expect(json.code).toBe(0);
    const timeline = JSON.parse(json.stdout);
    expect(timeline).toMatchObject({
      sessionID: sessions.uploaded,
      orderNo: orders.uploaded,
      status: 'uploaded',
      customsCode: '10000',
      late: false,
      certNo: row.cert_no,
      guid: row.guid,
      serviceTime: row.service_time,
      deadline: { verdict: 'inside', deadlineAt: (row.deadline_at as Date).toISOString() },
      attempts: [{ httpStatus: 200, customsCode: '10000', outcome: 'accepted', latencyMs: attempts[0].latency_ms }],
    });
    expect(timeline.stages.map((s: { stage: string }) => s.stage)).toEqual(['received', 'assembled', 'signed', 'uploaded']);
    expect(timeline.deadline.marginMs).toBe((row.deadline_at as Date).getTime() - (row.uploaded_at as Date).getTime());
  });

  it('show of an unknown key exits 3 with a clear message; bad usage exits 2', async () => {
    const missing = await runCli(['show', 'no-such-session'], env);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('no request with sessionID or orderNo no-such-session');
    const usage = await runCli(['list'], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('exactly one of --failed, --late, --in-flight, --all');
    expect((await runCli(['frobnicate'], env)).code).toBe(2);
  });

  it('list --failed, --in-flight and --late find the right requests', async () => {
    const failed = JSON.parse((await runCli(['list', '--failed', '--json'], env)).stdout) as { sessionID: string; status: string }[];
    expect(failed.map((t) => [t.sessionID, t.status]).sort()).toEqual(
      [
        [sessions.rejected, 'upload_rejected'],
        [sessions.unknown, 'data_fault'],
      ].sort(),
    );
    const inFlight = await runCli(['list', '--in-flight'], env);
    expect(inFlight.code).toBe(0);
    expect(inFlight.stdout).toContain(sessions.waiting);
    expect(inFlight.stdout).toMatch(/assembled .* in flight, \d+\.\d s left before the deadline/);
    expect(inFlight.stdout).not.toContain(sessions.uploaded);
    const limited = JSON.parse((await runCli(['list', '--all', '--limit', '2', '--json'], env)).stdout) as unknown[];
    expect(limited).toHaveLength(2);
    // Nothing is late yet: all within two minutes of their call.
    expect((await runCli(['list', '--late'], env)).stdout.trim()).toBe('none');
  });

  it('verify re-verifies the stored signature against the card certificate and names it', async () => {
    const certificateFile = path.join(certDir, 'card.cer');
    writeFileSync(certificateFile, pipeline.eport.card.certificateBase64);
    const result = await runCli(['verify', sessions.uploaded, '--certificate', certificateFile], env);
    expect(result.code).toBe(0);
    const certNo = parseCertificate(pipeline.eport.card.certificateBase64).certNo;
    expect(result.stdout).toContain(`certNo ${certNo}`);
    expect(result.stdout).toContain(`from file ${certificateFile}`);
    expect(result.stdout).toContain('signature    VALID over the stored sign string');

    // Another card's certificate: the signature does not verify and the certNo differs (exit 4).
    const other = SoftCard.create({ algorithm: 'RSA', pin: '12345678' });
    writeFileSync(certificateFile, other.certificateBase64);
    const wrong = await runCli(['verify', sessions.uploaded, '--certificate', certificateFile, '--json'], env);
    expect(wrong.code).toBe(4);
    expect(JSON.parse(wrong.stdout)).toMatchObject({ signatureValid: false, certNoMatches: false, signStringMatchesDocument: true });

    // Without --certificate: the certificate the signer reported in its heartbeats, kept by certNo.
    const known = await runCli(['verify', sessions.uploaded, '--json'], env);
    expect(known.stderr).toBe('');
    expect(known.code).toBe(0);
    expect(JSON.parse(known.stdout)).toMatchObject({
      signatureValid: true,
      certNoMatches: true,
      signStringMatchesDocument: true,
      certificate: {
        certNo,
        algorithm: 'RSA-SHA1',
        source: `the certificate a signer reported for certNo ${certNo} (Redis ceb179:certificates)`,
      },
    });

    const unsigned = await runCli(['verify', sessions.unknown], env);
    expect(unsigned.code).toBe(4);
    expect(unsigned.stderr).toContain('data_fault: the ledger holds no signature to verify');
  });

  it('signers shows the card PC that signed, with its certNo and state', async () => {
    const certNo = parseCertificate(pipeline.eport.card.certificateBase64).certNo;
    const cards = await waitFor(
      'a heartbeat in Redis',
      async () => {
        const result = await runCli(['signers', '--json'], env);
        // The worker's Redis db may hold signers of earlier test files (silent by now): look at ours.
        const ours = (JSON.parse(result.stdout) as { signerId: string; certNo: string | null }[]).filter((c) => c.certNo === certNo);
        return ours.length > 0 ? ours : undefined;
      },
      30_000,
      1_000,
    );
    expect(cards).toEqual([
      expect.objectContaining({
        signerId: expect.stringMatching(/^signer-0-/),
        state: 'ready',
        certNo,
        algorithm: 'RSA-SHA1',
        silent: false,
        ebpCodes: [SERVED],
      }),
    ]);
    expect((await runCli(['signers'], env)).stdout).toMatch(
      new RegExp(`signer-0-\\d+ +ready +certNo ${certNo} RSA-SHA1 +ebpCodes ${SERVED}`),
    );
  });

  it('resend refuses a request customs holds and one never signed, and uploads nothing', async () => {
    const before = pipeline.customs.uploads().length;
    const held = await runCli(['resend', sessions.uploaded], env);
    expect(held.code).toBe(4);
    expect(held.stderr).toContain(`re-send refused: customs already holds ${sessions.uploaded}`);
    const unsigned = await runCli(['resend', sessions.waiting], env);
    expect(unsigned.code).toBe(4);
    expect(unsigned.stderr).toContain('has not been signed yet');
    expect((await runCli(['resend', 'no-such-session'], env)).code).toBe(3);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(pipeline.customs.uploads()).toHaveLength(before);
    expect(await status(sessions.uploaded)).toBe('uploaded');
  });

  it('resend uploads the stored bytes of a rejected request once through the reporter, and then refuses', async () => {
    const { sessionID: rejected } = await scenario.rejectedRequest('resend');
    const stored = (await pipeline.pool.query('SELECT * FROM ceb179.request WHERE session_id = $1', [rejected])).rows[0];
    expect(pipeline.customs.accepted().has(rejected)).toBe(false);
    const result = await runCli(['resend', rejected], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`re-sent ${rejected}: now uploaded`);
    expect(result.stdout).toContain('upload attempts: 2');
    const upload = pipeline.customs.accepted().get(rejected);
    expect(upload).toMatchObject({
      headJson: stored.head_json,
      listsJson: stored.lists_json,
      serviceTime: stored.service_time,
      certNo: stored.cert_no,
      signValue: stored.sign_value,
      signString: stored.sign_string,
      verified: true,
    });
    const after = (await pipeline.pool.query('SELECT * FROM ceb179.request WHERE session_id = $1', [rejected])).rows[0];
    expect(after).toMatchObject({ status: 'uploaded', guid: stored.guid, sign_value: stored.sign_value, customs_code: '10000' });
    expect(after.reason).toBeNull();

    const again = await runCli(['resend', rejected], env);
    expect(again.code).toBe(4);
    expect(pipeline.customs.uploads().filter((u) => u.sessionID === rejected)).toHaveLength(2); // the 503 and the re-send
  });

  it('the reporter itself refuses a re-send of a request customs holds, even when asked directly', async () => {
    const before = pipeline.customs.uploads().length;
    await new AmqpResendPublisher(pipeline.env.CEB179_AMQP_URL as string, 'test').publishResend({
      v: 1,
      sessionID: sessions.uploaded,
      requestedBy: 'test',
      requestedAt: new Date().toISOString(),
    });
    await waitFor(
      'the reporter refusing',
      async () => (pipeline.current('reporter')?.output().includes('re-send refused') ? true : undefined),
      20_000,
    );
    expect(pipeline.customs.uploads()).toHaveLength(before);
    expect(await status(sessions.uploaded)).toBe('uploaded');
  });

  it('redrive moves dead letters back to the queue they came from', async () => {
    const connection = await amqp.connect(pipeline.env.CEB179_AMQP_URL as string);
    try {
      const channel = await connection.createConfirmChannel();
      // A message the assembler cannot read: it is dead-lettered with its source queue.
      channel.sendToQueue(Queues.callbacks, Buffer.from('{"v":1,"sessionID":"poison"}'), { persistent: true });
      await channel.waitForConfirms();
      await waitFor(
        'a dead letter',
        async () => ((await channel.checkQueue(Queues.deadLetters)).messageCount === 1 ? true : undefined),
        20_000,
      );
      // The operator user may send re-send requests only: re-driving is an administrator's job.
      const refused = await runCli(['redrive'], env);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('re-driving needs a RabbitMQ user that may read ceb179.dead-letters');
      const admin = { ...env, CEB179_AMQP_URL: pipeline.env.CEB179_AMQP_URL as string };
      const result = await runCli(['redrive', '--json'], admin);
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({ moved: { [Queues.callbacks]: 1 }, left: 0 });
      // Still poison: the assembler dead-letters it again, which proves it went back to its queue.
      await waitFor(
        'dead-lettered again',
        async () => {
          const dead = await channel.checkQueue(Queues.deadLetters);
          return dead.messageCount === 1 ? true : undefined;
        },
        20_000,
        1000,
      );
      expect((await runCli(['redrive', '--queue', 'ceb179.elsewhere'], admin)).stdout).toContain(`1 left in ${Queues.deadLetters}`);
    } finally {
      await connection.close();
    }
  });
});
