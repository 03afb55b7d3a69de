import { createLogger } from '@ceb179/logger';
import { ReaderBreaker } from './reader-breaker';
import { SignerStatus } from './signer-status';

const logger = createLogger({ service: 'test', level: 'silent' });
const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function setup(probeResults: boolean[]) {
  const status = new SignerStatus('s', []);
  status.set('ready');
  const events: string[] = [];
  const breaker = new ReaderBreaker(
    {
      threshold: 3,
      cooldownMs: 20,
      maxCooldownMs: 100,
      probe: async () => {
        events.push('probe');
        if (!probeResults.shift()) throw new Error('still no card');
      },
      pauseConsumption: () => events.push('pause'),
      resumeConsumption: async () => void events.push('resume'),
      restartControl: async () => void events.push('restart-control'),
    },
    status,
    logger,
  );
  return { status, events, breaker };
}

describe('ReaderBreaker', () => {
  it('stays closed below the threshold, and a success resets the count', () => {
    const { breaker, events } = setup([]);
    breaker.fault('50070');
    breaker.fault('50070');
    breaker.success();
    breaker.fault('50070');
    breaker.fault('50070');
    expect(breaker.isOpen).toBe(false);
    expect(events).toEqual([]);
    breaker.stop();
  });

  it('opens at the threshold: pauses, restarts the control, probes until the card answers, then resumes', async () => {
    const { breaker, events, status } = setup([false, true]);
    for (let i = 0; i < 3; i++) breaker.fault('50200');
    expect(breaker.isOpen).toBe(true);
    expect(status.state).toBe('reader-fault');
    await tick(150);
    expect(events).toEqual(['pause', 'restart-control', 'probe', 'probe', 'resume']);
    expect(breaker.isOpen).toBe(false);
    expect(status.state).toBe('ready');
    breaker.stop();
  });

  it('never probes or resumes once the signer is stopped for the PIN', async () => {
    const { breaker, events, status } = setup([true]);
    for (let i = 0; i < 3; i++) breaker.fault('50200');
    status.set('paused-for-pin', 'wrong PIN');
    await tick(80);
    expect(events).toEqual(['pause', 'restart-control']);
    breaker.stop();
  });
});
