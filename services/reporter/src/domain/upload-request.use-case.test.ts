import { SCHEMA_VERSION, type ResendRequestMessage } from '@ceb179/contracts';
import { createLogger } from '@ceb179/logger';
import { ack, type HandlerOutcome } from '@ceb179/mq';
import { buildPayExInfoStr, buildUploadFormBody } from '@ceb179/protocol';
import { CustomsHttpError, CustomsUnreachableError } from '../clients/customs.client';
import { CONFIG_FAULT_HINT } from './customs-codes';
import { InMemoryUploadLedger, ScriptedCustoms } from './upload-request.fakes';
import { UploadRequest } from './upload-request.use-case';

const logger = createLogger({ service: 'test', level: 'silent' });
const NOW = Date.parse('2026-03-01T08:00:00.000Z');
const signature = { sessionID: 'sess-1', certNo: '01691f7f', signValue: 'c2lnbmF0dXJl', signerId: 'card-pc-1' };

const timeout = () => new CustomsUnreachableError('TRANSPORT', 'customs unreachable (TimeoutError)', 15_000, true);
const refused = () => new CustomsUnreachableError('TRANSPORT', 'customs unreachable (ECONNREFUSED)', 3, false);

describe('UploadRequest', () => {
  let ledger: InMemoryUploadLedger;
  let customs: ScriptedCustoms;
  let upload: UploadRequest;

  beforeEach(() => {
    jest.useFakeTimers({ now: NOW });
    ledger = new InMemoryUploadLedger();
    customs = new ScriptedCustoms();
    upload = new UploadRequest(ledger, customs, { maxTransportRetries: 5 }, logger);
    ledger.add({ sessionID: 'sess-1' });
  });

  afterEach(() => jest.useRealTimers());

  const row = () => ledger.rows.get('sess-1');
  const stored = () => {
    const found = row();
    if (!found) throw new Error('sess-1 is not in the ledger');
    return found;
  };

  describe('each customs code', () => {
    it('10000: uploaded, exactly the stored document with the signature, one attempt recorded', async () => {
      customs.answers({ code: '10000', message: '' });
      expect(await upload.run(signature, 0)).toEqual(ack);
      expect(row()).toMatchObject({ status: 'uploaded', customsCode: '10000', claimToken: undefined });
      expect(row()?.attempts).toEqual([{ latencyMs: 42, httpStatus: 200, customsCode: '10000', customsMessage: '', outcome: 'accepted' }]);
      const { headJson, listsJson } = stored();
      expect(customs.bodies).toEqual([
        buildUploadFormBody(
          buildPayExInfoStr({
            sessionID: 'sess-1',
            headJson,
            listsJson,
            serviceTime: '1700000000123',
            certNo: '01691f7f',
            signValue: 'c2lnbmF0dXJl',
          }),
        ),
      ]);
    });

    it('20004: a configuration fault with what to check, never retried', async () => {
      customs.answers({ code: '20004', message: '证书未备案' });
      expect(await upload.run(signature, 0)).toEqual(ack);
      expect(row()).toMatchObject({ status: 'config_fault', customsCode: '20004', reason: CONFIG_FAULT_HINT });
      expect(row()?.attempts.map((a) => a.outcome)).toEqual(['config_fault']);
    });

    it.each(['20000', '20001', '20002', '20005', '30000'])('%s: rejected, never retried', async (code) => {
      customs.answers({ code, message: '参数错误' });
      expect(await upload.run(signature, 0)).toEqual(ack);
      expect(row()).toMatchObject({ status: 'upload_rejected', customsCode: code, reason: `customs answered ${code}` });
      expect(row()?.attempts.map((a) => a.outcome)).toEqual(['rejected']);
      expect(customs.bodies).toHaveLength(1);
    });
  });

  describe('20006 ("already stored") is believed only when something of ours can be there', () => {
    it("to a first attempt it is a failure (e.g. customs' storage error): rejected, saying why", async () => {
      customs.answers({ code: '20006', message: '系统异常' });
      expect(await upload.run(signature, 0)).toEqual(ack);
      expect(row()?.status).toBe('upload_rejected');
      expect(row()?.reason).toMatch(/^customs answered 20006 to the first attempt for this sessionID \("系统异常"\)/);
      expect(row()?.attempts.map((a) => a.outcome)).toEqual(['rejected']);
    });

    it.each(['数据已存在', '重复申报', 'record already exists', 'Duplicate sessionID'])(
      'to a first attempt saying so ("%s"): uploaded',
      async (message) => {
        customs.answers({ code: '20006', message });
        await upload.run(signature, 0);
        expect(row()?.status).toBe('uploaded');
        expect(row()?.attempts.map((a) => a.outcome)).toEqual(['duplicate']);
      },
    );

    it('after an attempt that may have reached customs (a timeout): uploaded', async () => {
      customs.answers(timeout(), { code: '20006', message: '系统异常' });
      expect((await upload.run(signature, 0)).kind).toBe('retry');
      expect(await upload.run(signature, 1)).toEqual(ack);
      expect(row()?.status).toBe('uploaded');
    });

    it('after attempts that certainly never left (connection refused): still a failure', async () => {
      customs.answers(refused(), refused(), { code: '20006', message: '系统异常' });
      await upload.run(signature, 0);
      await upload.run(signature, 1);
      await upload.run(signature, 2);
      expect(row()?.status).toBe('upload_rejected');
      expect(row()?.attempts.map((a) => a.reachedCustoms)).toEqual([false, false, undefined]);
    });
  });

  describe('transport faults: retried, then given up', () => {
    it.each([
      [0, 1_000],
      [2, 4_000],
      [4, 15_000], // capped
    ])('before the deadline, after %i retries: back in %i ms, the claim released, the attempt recorded', async (retries, delayMs) => {
      customs.answers(timeout());
      expect(await upload.run(signature, retries)).toEqual<HandlerOutcome>({
        kind: 'retry',
        delayMs,
        reason: 'customs unreachable (TimeoutError)',
      });
      expect(row()).toMatchObject({
        status: 'signed',
        claimToken: undefined,
        reason: 'transport fault, retrying: customs unreachable (TimeoutError)',
      });
      expect(row()?.attempts).toEqual([
        { latencyMs: 0, outcome: 'transport_fault', error: 'customs unreachable (TimeoutError)', httpStatus: undefined },
      ]);
    });

    it.each([
      [0, 10_000],
      [3, 80_000],
      [4, 120_000], // capped
    ])('past the deadline, after %i retries: slower, back in %i ms', async (retries, delayMs) => {
      stored().deadlineAt = new Date(NOW - 1);
      customs.answers(new CustomsHttpError('TRANSPORT', 'customs answered HTTP 503', 503, 12));
      expect(await upload.run(signature, retries)).toMatchObject({ kind: 'retry', delayMs });
      expect(row()?.attempts[0]).toMatchObject({ httpStatus: 503, outcome: 'transport_fault' });
    });

    it('gives up after the configured retries: rejected, saying how many faults', async () => {
      customs.answers(timeout());
      expect(await upload.run(signature, 5)).toEqual(ack);
      expect(row()).toMatchObject({
        status: 'upload_rejected',
        reason: 'gave up after 6 transport faults: customs unreachable (TimeoutError)',
      });
    });

    it('records that a refused connection never reached customs (it decides a later 20006)', async () => {
      customs.answers(refused());
      await upload.run(signature, 0);
      expect(row()?.attempts[0]).toMatchObject({ outcome: 'transport_fault', reachedCustoms: false });
    });

    it('lets an error that is no AppError go to the broker (retried there as a failure), claim and row untouched', async () => {
      customs.answers(new TypeError('bug'));
      await expect(upload.run(signature, 0)).rejects.toThrow('bug');
      expect(row()?.status).toBe('signed');
      expect(row()?.attempts).toEqual([]);
    });
  });

  describe('config_fault: customs cannot be reached as configured, never retried', () => {
    it('an untrusted TLS certificate', async () => {
      customs.answers(
        new CustomsUnreachableError('CONFIG', "customs' TLS certificate is not trusted (SELF_SIGNED_CERT_IN_CHAIN)", 5, false),
      );
      expect(await upload.run(signature, 0)).toEqual(ack);
      expect(row()).toMatchObject({
        status: 'config_fault',
        customsCode: null,
        reason: "customs' TLS certificate is not trusted (SELF_SIGNED_CERT_IN_CHAIN)",
      });
      expect(row()?.attempts[0]).toMatchObject({ outcome: 'config_fault', reachedCustoms: false });
    });

    it('a URL that answers 404 with a page that is not customs JSON', async () => {
      customs.answers(new CustomsHttpError('CONFIG', 'customs URL answered HTTP 404 with a body that is not JSON', 404, 7));
      expect(await upload.run(signature, 0)).toEqual(ack);
      expect(row()?.status).toBe('config_fault');
      expect(row()?.attempts[0]).toMatchObject({ outcome: 'config_fault', httpStatus: 404 });
    });
  });

  describe('the upload claim', () => {
    it.each(['uploaded', 'upload_rejected', 'config_fault', 'data_fault'] as const)(
      'a request already %s: the duplicate signature is ignored',
      async (status) => {
        stored().status = status;
        expect(await upload.run(signature, 0)).toEqual(ack);
        expect(customs.bodies).toEqual([]);
      },
    );

    it('another reporter uploading it now: wait and look again', async () => {
      await ledger.claimForUpload('sess-1', '01691f7f', 'c2lnbmF0dXJl', 'card-pc-1');
      expect(await upload.run(signature, 0)).toEqual<HandlerOutcome>({
        kind: 'retry',
        delayMs: 10_000,
        reason: 'another reporter is uploading this request',
      });
      expect(customs.bodies).toEqual([]);
    });

    it('a signature for a request not assembled yet: retried, dropped after 5 retries', async () => {
      stored().status = 'received';
      expect(await upload.run(signature, 0)).toMatchObject({ kind: 'retry', delayMs: 1_000 });
      expect(await upload.run(signature, 4)).toMatchObject({ kind: 'retry', delayMs: 16_000 });
      expect(await upload.run(signature, 5)).toEqual(ack);
      expect(customs.bodies).toEqual([]);
    });

    it("keeps the first signature stored: a second signer's signature uploads the first one's bytes", async () => {
      customs.answers(timeout(), { code: '10000' });
      await upload.run(signature, 0);
      await upload.run({ ...signature, signValue: 'b3RoZXI=', signerId: 'card-pc-2' }, 1);
      expect(new Set(customs.bodies).size).toBe(1);
      expect(row()).toMatchObject({ status: 'uploaded', signValue: 'c2lnbmF0dXJl', signerId: 'card-pc-1' });
    });

    it("claim retaken meanwhile by another reporter: this one's result is only an attempt; the holder decides", async () => {
      customs.upload = async (body) => {
        customs.bodies.push(body);
        ledger.retakeClaim('sess-1');
        return { httpStatus: 200, code: '10000', message: '', latencyMs: 42 };
      };
      expect(await upload.run(signature, 0)).toEqual(ack);
      expect(row()?.status).toBe('signed');
      expect(row()?.attempts.map((a) => a.outcome)).toEqual(['accepted']);
    });
  });

  describe("an operator's re-send", () => {
    const resend: ResendRequestMessage = {
      v: SCHEMA_VERSION,
      sessionID: 'sess-1',
      requestedBy: 'alice',
      requestedAt: '2026-03-01T09:00:00.000Z',
    };

    it('uploads the stored signature again after a rejection', async () => {
      customs.answers({ code: '20001' }, { code: '10000' });
      await upload.run(signature, 0);
      expect(await upload.resend(resend, 0)).toEqual(ack);
      expect(row()?.status).toBe('uploaded');
      expect(customs.bodies[1]).toBe(customs.bodies[0]);
    });

    it('is refused once customs holds the request (10000 or 20006 in any attempt): nothing is sent', async () => {
      customs.answers({ code: '10000' });
      await upload.run(signature, 0);
      expect(await upload.resend(resend, 0)).toEqual(ack);
      expect(customs.bodies).toHaveLength(1);
      expect(row()?.status).toBe('uploaded');
    });

    it('waits while an upload of it is in progress', async () => {
      await ledger.claimForUpload('sess-1', '01691f7f', 'c2lnbmF0dXJl', 'card-pc-1');
      expect(await upload.resend(resend, 0)).toMatchObject({ kind: 'retry', delayMs: 10_000 });
    });
  });
});
