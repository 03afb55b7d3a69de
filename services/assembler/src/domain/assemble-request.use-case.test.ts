import { SCHEMA_VERSION, type CallbackMessage } from '@ceb179/contracts';
import { createLogger } from '@ceb179/logger';
import { ack, retryIn, type HandlerOutcome } from '@ceb179/mq';
import { parseSignString } from '@ceb179/protocol';
import type { RequestStatus } from '../data-access/request.repository';
import { InMemoryPayments, InMemoryRequests, RecordingSignJobs, samplePayment } from './assemble-request.fakes';
import { AssembleRequest } from './assemble-request.use-case';

const logger = createLogger({ service: 'test', level: 'silent' });
const NOW = Date.parse('2026-03-01T08:00:00.000Z');
const UPPERCASE_UUID = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;

function callback(overrides: Partial<CallbackMessage> = {}, deadlineInMs = 120_000): CallbackMessage {
  return {
    v: SCHEMA_VERSION,
    sessionID: 'sess-1',
    orderNo: 'SO-1',
    customsServiceTime: '1700000000123',
    receivedAt: new Date(NOW).toISOString(),
    deadline: new Date(NOW + deadlineInMs).toISOString(),
    ...overrides,
  };
}

describe('AssembleRequest', () => {
  let requests: InMemoryRequests;
  let payments: InMemoryPayments;
  let signJobs: RecordingSignJobs;
  let assemble: AssembleRequest;

  beforeEach(() => {
    jest.useFakeTimers({ now: NOW });
    requests = new InMemoryRequests();
    payments = new InMemoryPayments();
    signJobs = new RecordingSignJobs();
    assemble = new AssembleRequest(
      requests,
      payments,
      signJobs,
      { timeZone: 'Asia/Shanghai', lookupRetries: 3, lookupRetryDelayMs: 3_000 },
      logger,
    );
    payments.byOrderNo.set('SO-1', samplePayment('SO-1'));
  });

  afterEach(() => jest.useRealTimers());

  describe('a payment that is there', () => {
    it('stores the document once and publishes one sign job for its ebpCode, with the deadline of the call', async () => {
      expect(await assemble.run(callback(), 0)).toEqual(ack);

      const row = requests.rows.get('sess-1');
      expect(row?.status).toBe('assembled');
      expect(row?.assembly?.guid).toMatch(UPPERCASE_UUID);
      expect(row?.assembly?.serviceTime).toBe(String(NOW));
      expect(signJobs.published).toEqual([
        { sessionID: 'sess-1', ebpCode: '3301963K69', signString: row?.assembly?.signString, deadlineAt: new Date(NOW + 120_000) },
      ]);
    });

    it('signs exactly the stored head and lists text, with the stored serviceTime and guid', async () => {
      await assemble.run(callback(), 0);
      const assembly = requests.rows.get('sess-1')?.assembly;
      const parts = parseSignString(signJobs.published[0]?.signString ?? '');
      expect(parts).toMatchObject({
        sessionID: 'sess-1',
        headJson: assembly?.headJson,
        listsJson: assembly?.listsJson,
        serviceTime: assembly?.serviceTime,
      });
      expect(JSON.parse(parts.headJson)).toMatchObject({
        guid: assembly?.guid,
        ebpCode: '3301963K69',
        totalAmount: 100,
        tradingTime: '20181212041803',
      });
    });

    it('re-publishes the stored job on a redelivery, without a look-up or a new guid', async () => {
      await assemble.run(callback(), 0);
      const first = signJobs.published[0];
      expect(await assemble.run(callback(), 0)).toEqual(ack);
      expect(signJobs.published).toEqual([first, first]);
      expect(payments.lookups).toBe(1);
    });

    it('leaves the request assembled when publishing fails (the broker retries), and the retry publishes what was stored', async () => {
      signJobs.failWith = new Error('channel closed');
      await expect(assemble.run(callback(), 0)).rejects.toThrow('channel closed');
      const stored = requests.rows.get('sess-1')?.sign_string;
      expect(requests.rows.get('sess-1')?.status).toBe('assembled');

      signJobs.failWith = undefined;
      await assemble.run(callback(), 1);
      expect(signJobs.published.map((job) => job.signString)).toEqual([stored]);
    });

    it('publishes nothing when another delivery assembled the request first', async () => {
      requests.anotherDeliveryAssemblesFirst = true;
      expect(await assemble.run(callback(), 0)).toEqual(ack);
      expect(signJobs.published).toEqual([]);
    });

    it.each<RequestStatus>(['signed', 'uploaded', 'data_fault', 'upload_rejected', 'config_fault'])(
      'does nothing for a request already %s',
      async (status) => {
        await requests.ensure(callback());
        const row = requests.rows.get('sess-1');
        if (row) row.status = status;
        expect(await assemble.run(callback(), 0)).toEqual(ack);
        expect(signJobs.published).toEqual([]);
        expect(payments.lookups).toBe(0);
        expect(requests.rows.get('sess-1')?.status).toBe(status);
      },
    );

    it('creates the ledger row when ingress could only record the call in RabbitMQ', async () => {
      expect(requests.rows.size).toBe(0);
      await assemble.run(callback(), 0);
      expect(requests.rows.get('sess-1')).toMatchObject({ order_no: 'SO-1', deadline_at: new Date(NOW + 120_000), status: 'assembled' });
    });
  });

  describe('data faults: never uploaded, never retried', () => {
    it('marks a payment that breaks the protocol rules a data fault, naming the fields, and publishes nothing', async () => {
      const broken = samplePayment('SO-1');
      broken.payment.total_amount = 'ten';
      payments.byOrderNo.set('SO-1', broken);

      expect(await assemble.run(callback(), 0)).toEqual(ack);
      const row = requests.rows.get('sess-1');
      expect(row?.status).toBe('data_fault');
      expect(row?.reason).toBe(
        'payment document breaks protocol rules: payExchangeInfoHead.totalAmount is not a plain decimal number ("ten")',
      );
      expect(signJobs.published).toEqual([]);
    });

    it("marks a sessionID that a sign string cannot carry (a '\"') a data fault", async () => {
      expect(await assemble.run(callback({ sessionID: 'sess"1' }), 0)).toEqual(ack);
      expect(requests.rows.get('sess"1')).toMatchObject({ status: 'data_fault', reason: expect.stringContaining('"') as unknown });
      expect(signJobs.published).toEqual([]);
    });
  });

  describe('an order not (yet) in the source', () => {
    const unknown = () => callback({ orderNo: 'SO-unknown' });

    it.each([
      [0, 3_000],
      [1, 6_000],
      [2, 12_000],
    ])('after look-up %i retries with back-off (%i ms) and notes why on the row', async (retries, delayMs) => {
      const outcome = await assemble.run(unknown(), retries);
      expect(outcome).toEqual<HandlerOutcome>(retryIn(delayMs, 'order SO-unknown is not in payment_order'));
      expect(requests.rows.get('sess-1')).toMatchObject({
        status: 'received',
        reason: `order SO-unknown is not in payment_order; look-up ${retries + 1} of 4, retrying`,
      });
    });

    it('gives up after the configured retries: a data fault, nothing published', async () => {
      expect(await assemble.run(unknown(), 3)).toEqual(ack);
      expect(requests.rows.get('sess-1')).toMatchObject({ status: 'data_fault', reason: 'order SO-unknown is not in payment_order' });
      expect(signJobs.published).toEqual([]);
    });

    it('gives up at once when the retry would come after the deadline', async () => {
      // 3 s back-off waits in the 3 s delay queue: a deadline 3 s away is too close.
      expect(await assemble.run(callback({ orderNo: 'SO-unknown' }, 3_000), 0)).toEqual(ack);
      expect(requests.rows.get('sess-1')?.status).toBe('data_fault');
    });

    it('still retries when the retry comes back just before the deadline', async () => {
      expect((await assemble.run(callback({ orderNo: 'SO-unknown' }, 3_001), 0)).kind).toBe('retry');
      expect(requests.rows.get('sess-1')?.status).toBe('received');
    });

    it('counts the delay queue the retry really waits in, not the back-off asked for (6 s waits 10 s)', async () => {
      expect(await assemble.run(callback({ orderNo: 'SO-unknown' }, 9_000), 1)).toEqual(ack);
      expect(requests.rows.get('sess-1')?.status).toBe('data_fault');
      requests.rows.clear();
      expect((await assemble.run(callback({ orderNo: 'SO-unknown' }, 10_001), 1)).kind).toBe('retry');
    });

    it('assembles once the order appears on a later look-up', async () => {
      expect((await assemble.run(callback({ orderNo: 'SO-late' }), 0)).kind).toBe('retry');
      payments.byOrderNo.set('SO-late', samplePayment('SO-late'));
      expect(await assemble.run(callback({ orderNo: 'SO-late' }), 1)).toEqual(ack);
      expect(requests.rows.get('sess-1')).toMatchObject({ status: 'assembled', reason: null });
      expect(signJobs.published).toHaveLength(1);
    });
  });
});
