import { DEADLINE_MS } from '@ceb179/contracts';
import { AppError } from '@ceb179/errors';
import { createLogger } from '@ceb179/logger';
import type { RecordedCallback } from '../data-access/callback.repository';
import { InMemoryDuplicateHint, InMemoryLedger, Pending, RecordingPublisher } from './callback-intake.fakes';
import { CallbackIntake, type IntakeResult } from './callback-intake.use-case';
import type { OpenReq } from './open-req';

const logger = createLogger({ service: 'test', level: 'silent' });
const NOW = new Date('2026-03-01T08:00:00.000Z');
const call: OpenReq = { orderNo: 'SO-1', sessionID: 'sess-1', serviceTime: '1700000000123' };

/** Watches a promise without awaiting it, so a test can ask "answered yet?" while fake time stands still. */
function watch<T>(promise: Promise<T>): { settled: boolean; value?: T; error?: unknown } {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

describe('CallbackIntake', () => {
  let ledger: InMemoryLedger;
  let hint: InMemoryDuplicateHint;
  let publisher: RecordingPublisher;

  const intake = (answerBudgetMs = 3_000) => new CallbackIntake(ledger, hint, publisher, logger, { answerBudgetMs });

  beforeEach(() => {
    jest.useFakeTimers({ now: NOW });
    ledger = new InMemoryLedger();
    hint = new InMemoryDuplicateHint();
    publisher = new RecordingPublisher();
  });

  afterEach(() => jest.useRealTimers());

  describe('with the ledger answering', () => {
    it('accepts a new call: records it with its 2-minute deadline, remembers it, hands it on and marks it published', async () => {
      const subject = intake();
      expect(await subject.accept(call, NOW)).toBe<IntakeResult>('accepted');
      await subject.drain();

      const expected: RecordedCallback = {
        sessionID: 'sess-1',
        orderNo: 'SO-1',
        customsServiceTime: '1700000000123',
        receivedAt: NOW,
        deadlineAt: new Date(NOW.getTime() + DEADLINE_MS),
      };
      expect(publisher.published).toEqual([expected]);
      expect(ledger.rows.get('sess-1')).toEqual({ ...expected, published: true });
      expect(hint.remembered.has('sess-1')).toBe(true);
    });

    it('answers a call the duplicate hint has seen as a duplicate without asking the ledger or publishing', async () => {
      hint.remember('sess-1');
      ledger.answer = () => Promise.reject(new Error('the ledger must not be asked'));
      expect(await intake().accept(call, NOW)).toBe<IntakeResult>('duplicate');
      expect(ledger.rows.size).toBe(0);
      expect(publisher.published).toEqual([]);
    });

    it('answers a call the ledger already holds as a duplicate and hands nothing on (the hint had forgotten it)', async () => {
      const subject = intake();
      await subject.accept(call, NOW);
      await subject.drain();
      hint.remembered.clear();

      expect(await subject.accept({ ...call, orderNo: 'SO-other' }, new Date(NOW.getTime() + 1_000))).toBe<IntakeResult>('duplicate');
      await subject.drain();
      expect(publisher.published.map((c) => c.orderNo)).toEqual(['SO-1']);
      expect(ledger.rows.get('sess-1')?.orderNo).toBe('SO-1');
      expect(hint.remembered.has('sess-1')).toBe(true);
    });

    it('still accepts when the hand-off to RabbitMQ fails, leaving the row unpublished for the outbox relay', async () => {
      publisher.answer = () => Promise.reject(new Error('channel closed'));
      const subject = intake();
      expect(await subject.accept(call, NOW)).toBe<IntakeResult>('accepted');
      await subject.drain();
      expect(ledger.rows.get('sess-1')?.published).toBe(false);
      expect(publisher.published).toEqual([]);
    });
  });

  describe('with the ledger down: RabbitMQ records the call instead', () => {
    beforeEach(() => {
      ledger.answer = () => Promise.reject(new Error('connection refused'));
    });

    it('accepts once RabbitMQ confirms, with the same sessionID, times and deadline the row would have had', async () => {
      expect(await intake().accept(call, NOW)).toBe<IntakeResult>('accepted');
      expect(publisher.published).toEqual([
        {
          sessionID: 'sess-1',
          orderNo: 'SO-1',
          customsServiceTime: '1700000000123',
          receivedAt: NOW,
          deadlineAt: new Date(NOW.getTime() + DEADLINE_MS),
        },
      ]);
      expect(hint.remembered.size).toBe(0); // nothing in the ledger yet: the hint must not claim it is recorded
    });

    it('accepts nothing when RabbitMQ refuses too: a TRANSPORT error, so customs is not told 10000', async () => {
      publisher.answer = () => Promise.reject(new Error('broker down'));
      const refused = intake().accept(call, NOW);
      await expect(refused).rejects.toThrow(AppError);
      await expect(refused).rejects.toMatchObject({
        code: 'TRANSPORT',
        message: 'the platform could not record the call; nothing was accepted',
      });
    });
  });

  describe('the answer budget, with the ledger stalled', () => {
    let stalled: Pending<RecordedCallback | undefined>;
    let insertRow: (() => RecordedCallback | undefined) | undefined;

    beforeEach(() => {
      stalled = new Pending();
      ledger.answer = (insert) => {
        insertRow = insert;
        return stalled.promise;
      };
    });

    it.each([
      [3_000, 2_500], // the broker keeps 500 ms
      [900, 600], // the broker keeps a third of a short budget
    ])('with a budget of %i ms waits %i ms for the ledger, then records through RabbitMQ', async (budgetMs, ledgerWaitMs) => {
      const answer = watch(intake(budgetMs).accept(call, NOW));
      await jest.advanceTimersByTimeAsync(ledgerWaitMs - 1);
      expect(publisher.published).toEqual([]);
      expect(answer.settled).toBe(false);

      await jest.advanceTimersByTimeAsync(1);
      expect(publisher.published.map((c) => c.sessionID)).toEqual(['sess-1']);
      expect(answer).toEqual({ settled: true, value: 'accepted' });
    });

    it('answers within the budget even when RabbitMQ stalls too: refused at the budget, not later', async () => {
      publisher.answer = () => new Promise<void>(() => undefined);
      const answer = watch(intake(3_000).accept(call, NOW));
      await jest.advanceTimersByTimeAsync(2_999);
      expect(answer.settled).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect(answer.settled).toBe(true);
      expect(answer.error).toMatchObject({ code: 'TRANSPORT' });
    });

    it('counts the budget from the arrival, not from when the intake got to it', async () => {
      const arrivedEarlier = new Date(NOW.getTime() - 2_000);
      const answer = watch(intake(3_000).accept(call, arrivedEarlier));
      await jest.advanceTimersByTimeAsync(499);
      expect(publisher.published).toEqual([]);
      await jest.advanceTimersByTimeAsync(1);
      expect(answer).toEqual({ settled: true, value: 'accepted' });
    });

    it('marks the row published when the given-up insert lands after RabbitMQ recorded the call (no second hand-off)', async () => {
      const subject = intake(3_000);
      const answer = watch(subject.accept(call, NOW));
      await jest.advanceTimersByTimeAsync(2_500);
      expect(answer.value).toBe('accepted');

      stalled.resolve(insertRow?.());
      await subject.drain();
      expect(ledger.rows.get('sess-1')?.published).toBe(true);
      expect(publisher.published).toHaveLength(1);
    });

    it('leaves the late row unpublished when RabbitMQ did not record the call either, so the relay publishes it', async () => {
      publisher.answer = () => Promise.reject(new Error('broker down'));
      const subject = intake(3_000);
      const answer = watch(subject.accept(call, NOW));
      await jest.advanceTimersByTimeAsync(2_500);
      expect(answer.error).toMatchObject({ code: 'TRANSPORT' });

      stalled.resolve(insertRow?.());
      await subject.drain();
      expect(ledger.rows.get('sess-1')?.published).toBe(false);
    });
  });
});
