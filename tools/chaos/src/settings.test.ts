import { readSettings } from './settings';

describe('chaos settings', () => {
  it('has the documented defaults and is no dry run unless asked', () => {
    const settings = readSettings({ CHAOS_SEED: '7' });
    expect(settings).toEqual({ callbacks: 500, rate: 20, seed: 7, timeoutS: 240, stallMs: 15_000, dryRun: false });
  });

  it('reads every CHAOS_* variable and --dry-run', () => {
    const env = { CHAOS_CALLBACKS: '40', CHAOS_RATE: '2.5', CHAOS_SEED: '0', CHAOS_TIMEOUT_S: '30', CHAOS_STALL_MS: '0' };
    expect(readSettings(env, ['--dry-run'])).toEqual({ callbacks: 40, rate: 2.5, seed: 0, timeoutS: 30, stallMs: 0, dryRun: true });
  });

  it('names the variable and its rule when a value is wrong', () => {
    expect(() => readSettings({ CHAOS_CALLBACKS: '1.5' })).toThrow('CHAOS_CALLBACKS: must be a positive integer, got "1.5"');
    expect(() => readSettings({ CHAOS_RATE: '0' })).toThrow(/^CHAOS_RATE: /);
    expect(() => readSettings({ CHAOS_SEED: String(2 ** 32) })).toThrow(/^CHAOS_SEED: /);
  });

  it('refuses an unknown argument instead of running the real thing', () => {
    expect(() => readSettings({}, ['--dryrun'])).toThrow('unknown argument --dryrun');
  });

  it('picks a fresh seed when none is given', () => {
    const { seed } = readSettings({});
    expect(Number.isInteger(seed) && seed > 0).toBe(true);
  });
});
