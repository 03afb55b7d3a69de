import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as amqp from 'amqplib';
import { Pool } from 'pg';
import { startCustomsSim, type CustomsSim, type UploadRecord } from '@ceb179/customs-sim';
import { Queues, SCHEMA_VERSION, type SignatureMessage } from '@ceb179/contracts';
import { migrate } from '@ceb179/db';
import { SoftCard } from '@ceb179/eport-sim';
import type { Component } from '@ceb179/lifecycle';
import { createLogger } from '@ceb179/logger';
import { declareHeartbeatQueue, declareSignatureConsumption, Headers } from '@ceb179/mq';
import { buildPaymentDocument, buildSignString } from '@ceb179/protocol';
import { createTestDatabase, createTestVhost, freePort, makeFixture, waitFor, type TestDatabase, type TestVhost } from '@ceb179/testkit';
import { CustomsClient } from '../src/clients/customs.client';
import { announceReadySigner } from './signer-heartbeat';
import { composeReporter } from '../src/compose';
import { loadReporterConfig } from '../src/config';
import { RequestRepository } from '../src/data-access/request.repository';
import { UploadRequest } from '../src/domain/upload-request.use-case';

/**
 * The reporter can prove what it uploads: claims are fenced, a customs 20006 is "done" only when
 * something of ours can be stored there, a reply customs holds past the upload timeout ends in
 * exactly one stored document, and an untrusted TLS certificate is a configuration fault at once.
 */
const logger = createLogger({ service: 'test', level: 'silent' });
const UPLOAD_TIMEOUT_MS = 1_500;
const STORAGE_ERROR = '数据存储失败: 保存报文异常';

interface Seed {
  sessionID: string;
  headJson: string;
  listsJson: string;
  serviceTime: string;
  signString: string;
  deadline: Date;
}

let counter = 0;
const key = (prefix: string) => `${prefix}-${Date.now().toString(36)}${(counter += 1)}`;
const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('reporter: uploads that can be proven', () => {
  const card = SoftCard.create({ algorithm: 'RSA', pin: '1' });
  let db: TestDatabase;
  let vhost: TestVhost;
  let pool: Pool;
  let customs: CustomsSim;
  let reporter: Component;
  let connection: amqp.ChannelModel;
  let publisher: amqp.ConfirmChannel;

  const row = async (sessionID: string) =>
    (await pool.query<Record<string, unknown>>('SELECT * FROM ceb179.request WHERE session_id = $1', [sessionID])).rows[0] as Record<
      string,
      unknown
    >;
  const attempts = async (sessionID: string) =>
    (
      await pool.query<{ outcome: string; customs_code: string | null; reached_customs: boolean | null; error: string | null }>(
        'SELECT outcome, customs_code, reached_customs, error FROM ceb179.upload_attempt WHERE session_id = $1 ORDER BY id',
        [sessionID],
      )
    ).rows;
  const uploadsFor = (sessionID: string): UploadRecord[] => customs.uploads().filter((u) => u.sessionID === sessionID);
  const waitForStatus = (sessionID: string, status: string, timeoutMs = 15_000) =>
    waitFor(
      `${sessionID} ${status}`,
      async () => {
        const found = await row(sessionID);
        return found?.status === status ? found : undefined;
      },
      timeoutMs,
      25,
    );

  async function seedAssembled(sessionID: string): Promise<Seed> {
    const fixture = makeFixture(sessionID);
    const document = buildPaymentDocument({
      source: { payment: fixture.payment, orders: fixture.payment_order, goods: fixture.order_goods },
      guid: randomUUID().toUpperCase(),
    });
    const serviceTime = String(Date.now());
    const signString = buildSignString({ sessionID, headJson: document.headJson, listsJson: document.listsJson, serviceTime });
    const deadline = new Date(Date.now() + 120_000);
    await pool.query(
      `INSERT INTO ceb179.request (session_id, order_no, status, received_at, deadline_at, published_at, assembled_at,
         ebp_code, guid, service_time, head_json, lists_json, sign_string)
       VALUES ($1, $2, 'assembled', now(), $3, now(), now(), $4, $5, $6, $7, $8, $9)`,
      [
        sessionID,
        fixture.payment_order[0]!.order_no,
        deadline,
        document.ebpCode,
        JSON.parse(document.headJson).guid,
        serviceTime,
        document.headJson,
        document.listsJson,
        signString,
      ],
    );
    return { sessionID, headJson: document.headJson, listsJson: document.listsJson, serviceTime, signString, deadline };
  }

  function signature(seed: Seed): SignatureMessage {
    return {
      v: SCHEMA_VERSION,
      sessionID: seed.sessionID,
      ebpCode: '3301963K69',
      certNo: card.certNo,
      signValue: card.sign(seed.signString),
      algorithm: 'RSA-SHA1',
      signedAt: new Date().toISOString(),
      signerId: 'test-signer',
      deadline: seed.deadline.toISOString(),
    };
  }

  async function publishSignature(message: SignatureMessage): Promise<void> {
    publisher.sendToQueue(Queues.signatures, Buffer.from(JSON.stringify(message)), {
      persistent: true,
      contentType: 'application/json',
      messageId: message.sessionID,
      correlationId: message.sessionID,
      headers: { [Headers.sessionID]: message.sessionID, [Headers.schema]: 1 },
    });
    await publisher.waitForConfirms();
  }

  beforeAll(async () => {
    [db, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
    pool = new Pool({ connectionString: db.url, max: 4 });
    await migrate(pool);
    customs = await startCustomsSim({ certificates: [{ certificateBase64: card.certificateBase64 }] });
    connection = await amqp.connect(vhost.url);
    const setup = await connection.createChannel();
    await declareSignatureConsumption(setup);
    await declareHeartbeatQueue(setup);
    publisher = await connection.createConfirmChannel();
    // The signer's heartbeat tells the reporter the card's certificate, which signatures must verify against.
    announceReadySigner(publisher, card, 'test-signer', 'card');
    await publisher.waitForConfirms();
    reporter = composeReporter(
      loadReporterConfig({
        CEB179_AMQP_URL: vhost.url,
        CEB179_DATABASE_URL: db.url,
        CEB179_CUSTOMS_URL: customs.uploadUrl,
        CEB179_REPORTER_UPLOAD_TIMEOUT_MS: String(UPLOAD_TIMEOUT_MS),
        CEB179_REPORTER_MAX_TRANSPORT_RETRIES: '5',
      }),
      logger,
    );
    await reporter.start();
  });

  afterAll(async () => {
    await reporter?.stop();
    await Promise.allSettled([connection?.close(), customs?.stop(), pool?.end()]);
    await Promise.allSettled([db?.drop(), vhost?.delete()]);
  });

  it('a reply customs holds longer than the upload timeout: retried, 20006, uploaded once, the same bytes', async () => {
    const seed = await seedAssembled(key('held'));
    customs.holdNextReplies(1, UPLOAD_TIMEOUT_MS * 2);
    await publishSignature(signature(seed));

    const uploaded = await waitForStatus(seed.sessionID, 'uploaded');
    expect(uploaded).toMatchObject({ customs_code: '20006', upload_claimed_at: null, upload_claim_token: null });
    const sent = uploadsFor(seed.sessionID);
    expect(sent.map((u) => u.code)).toEqual(['10000', '20006']); // the held one was stored at once
    expect(new Set(sent.map((u) => u.rawBody)).size).toBe(1); // no second, different document
    expect([...customs.accepted().keys()].filter((s) => s === seed.sessionID)).toHaveLength(1);
    const tried = await attempts(seed.sessionID);
    expect(tried.map((a) => [a.outcome, a.customs_code, a.reached_customs])).toEqual([
      ['transport_fault', null, null],
      ['duplicate', '20006', null],
    ]);
    expect(tried[0]?.error).toMatch(/TimeoutError|aborted/i);
  });

  it('a first-attempt 20006 with a storage error is upload_rejected with an alert, and not sent again', async () => {
    const seed = await seedAssembled(key('first-20006'));
    customs.refuseNextUploads(1, '20006', STORAGE_ERROR);
    await publishSignature(signature(seed));

    const rejected = await waitForStatus(seed.sessionID, 'upload_rejected');
    expect(rejected).toMatchObject({ customs_code: '20006', customs_message: STORAGE_ERROR, uploaded_at: null, upload_claim_token: null });
    expect(String(rejected.reason)).toContain('first attempt');
    await settle(2_000); // past the shortest retry delay
    expect(uploadsFor(seed.sessionID)).toHaveLength(1);
    expect(customs.accepted().has(seed.sessionID)).toBe(false);
    expect((await attempts(seed.sessionID)).map((a) => [a.outcome, a.customs_code])).toEqual([['rejected', '20006']]);
  });

  it('a 20006 with a storage error after an attempt that may have reached customs counts as done', async () => {
    const seed = await seedAssembled(key('late-20006'));
    customs.holdNextReplies(1, UPLOAD_TIMEOUT_MS * 2);
    await publishSignature(signature(seed));
    await waitFor('the first upload', async () => (uploadsFor(seed.sessionID).length === 1 ? true : undefined), 10_000, 20);
    customs.refuseNextUploads(1, '20006', STORAGE_ERROR);

    const uploaded = await waitForStatus(seed.sessionID, 'uploaded');
    expect(uploaded).toMatchObject({ customs_code: '20006', customs_message: STORAGE_ERROR });
    expect(uploadsFor(seed.sessionID).map((u) => u.code)).toEqual(['10000', '20006']);
    expect(new Set(uploadsFor(seed.sessionID).map((u) => u.rawBody)).size).toBe(1);
  });

  it('an attempt refused at connect never reached customs: a 20006 with a storage error after it is still not done', async () => {
    const seed = await seedAssembled(key('refused-then-20006'));
    const requests = new RequestRepository(pool, 30_000);
    const closedPort = `http://127.0.0.1:${await freePort()}/ceb2grab/grab/realTimeDataUpload`; // nobody listens
    const refused = new UploadRequest(requests, new CustomsClient(closedPort, UPLOAD_TIMEOUT_MS), { maxTransportRetries: 5 }, logger);
    expect(await refused.run(signature(seed), 0)).toMatchObject({ kind: 'retry' });
    expect((await attempts(seed.sessionID)).map((a) => [a.outcome, a.reached_customs])).toEqual([['transport_fault', false]]);

    customs.refuseNextUploads(1, '20006', STORAGE_ERROR);
    const reachable = new UploadRequest(
      requests,
      new CustomsClient(customs.uploadUrl, UPLOAD_TIMEOUT_MS),
      { maxTransportRetries: 5 },
      logger,
    );
    expect(await reachable.run(signature(seed), 1)).toEqual({ kind: 'ack' });
    expect(await row(seed.sessionID)).toMatchObject({ status: 'upload_rejected', customs_code: '20006' });
  });

  it('fences claims: a holder whose claim was retaken can neither finish nor release it', async () => {
    const requests = new RequestRepository(pool, 60_000);
    const seed = await seedAssembled(key('fence'));
    const message = signature(seed);
    const first = await requests.claimForUpload(seed.sessionID, message.certNo, message.signValue, 'a');
    expect(first).toMatchObject({ kind: 'claimed', claim: { earlierAttemptMayHaveReached: false } });
    expect(await requests.claimForUpload(seed.sessionID, message.certNo, message.signValue, 'b')).toEqual({ kind: 'busy' });
    // The first holder stalled past the stale-claim time.
    await pool.query("UPDATE ceb179.request SET upload_claimed_at = now() - interval '61 seconds' WHERE session_id = $1", [seed.sessionID]);
    const second = await requests.claimForUpload(seed.sessionID, message.certNo, message.signValue, 'b');
    expect(second).toMatchObject({ kind: 'claimed', claim: { earlierAttemptMayHaveReached: true } });
    if (first.kind !== 'claimed' || second.kind !== 'claimed') throw new Error('unreachable');
    expect(second.claim.token).not.toBe(first.claim.token);

    expect(await requests.finish(first.claim, 'upload_rejected', '20000', 'stale', 'stale')).toEqual({ applied: false, late: false });
    expect(await requests.releaseClaim(first.claim, 'stale')).toBe(false);
    expect(await row(seed.sessionID)).toMatchObject({ status: 'signed', upload_claim_token: second.claim.token });
    expect(await requests.finish(second.claim, 'uploaded', '10000', 'ok', null)).toEqual({ applied: true, late: false });
    expect(await row(seed.sessionID)).toMatchObject({ status: 'uploaded', customs_code: '10000', upload_claim_token: null });
  });

  it('a stale claim follows the upload timeout: retaken only after it', async () => {
    const requests = new RequestRepository(pool, 1_000);
    const seed = await seedAssembled(key('stale'));
    const message = signature(seed);
    expect((await requests.claimForUpload(seed.sessionID, message.certNo, message.signValue, 'a')).kind).toBe('claimed');
    expect((await requests.claimForUpload(seed.sessionID, message.certNo, message.signValue, 'b')).kind).toBe('busy');
    await settle(1_200);
    expect((await requests.claimForUpload(seed.sessionID, message.certNo, message.signValue, 'b')).kind).toBe('claimed');
  });

  describe('customs behind a TLS certificate Node does not trust', () => {
    let dir: string;
    let server: https.Server;
    let url: string;

    beforeAll(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'ceb179-tls-'));
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          path.join(dir, 'key.pem'),
          '-out',
          path.join(dir, 'cert.pem'),
          '-days',
          '1',
          '-subj',
          '/CN=127.0.0.1',
        ],
        { stdio: 'ignore' },
      );
      server = https.createServer(
        { key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) },
        (_req, res) => {
          res.setHeader('content-type', 'application/json;charset=utf-8');
          res.end('{"code":"10000","message":"上传成功"}');
        },
      );
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/ceb2grab/grab/realTimeDataUpload`;
    });

    afterAll(async () => {
      await new Promise((resolve) => server?.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    });

    it('is a configuration fault naming NODE_EXTRA_CA_CERTS after one attempt, never retried', async () => {
      const seed = await seedAssembled(key('tls'));
      const upload = new UploadRequest(
        new RequestRepository(pool, 30_000),
        new CustomsClient(url, UPLOAD_TIMEOUT_MS),
        { maxTransportRetries: 60 },
        logger,
      );
      const outcome = await upload.run(signature(seed), 0);
      expect(outcome).toEqual({ kind: 'ack' });
      const faulted = await row(seed.sessionID);
      expect(faulted).toMatchObject({ status: 'config_fault', upload_claim_token: null });
      expect(String(faulted.reason)).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY|DEPTH_ZERO/);
      expect(String(faulted.reason)).toContain('NODE_EXTRA_CA_CERTS');
      expect((await attempts(seed.sessionID)).map((a) => [a.outcome, a.reached_customs])).toEqual([['config_fault', false]]);
    });
  });
});
