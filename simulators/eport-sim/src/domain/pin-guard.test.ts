import { PinGuard } from './pin-guard';
import { SoftCard } from './soft-card';

describe('PinGuard', () => {
  const card = SoftCard.create({ algorithm: 'RSA', pin: '1234' });

  it('locks after the given number of consecutive wrong PINs and then refuses the right one', () => {
    const guard = new PinGuard(card, 3);
    expect(guard.check('0000')).toMatchObject({ ok: false, locked: false });
    expect(guard.check('0000')).toMatchObject({ ok: false, locked: false });
    expect(guard.check('0000')).toMatchObject({ ok: false, locked: true });
    expect(guard.check('1234')).toMatchObject({ ok: false, locked: true });
    expect(guard.stats()).toEqual({ pinAttempts: 4, wrongPinAttempts: 3, locked: true });
  });

  it('resets the count on a right PIN', () => {
    const guard = new PinGuard(card, 3);
    guard.check('0000');
    guard.check('0000');
    expect(guard.check('1234')).toEqual({ ok: true });
    guard.check('0000');
    guard.check('0000');
    expect(guard.locked).toBe(false);
    expect(guard.check('1234')).toEqual({ ok: true });
  });

  it('says how many tries are left without echoing the PIN', () => {
    const guard = new PinGuard(card, 3);
    const first = guard.check('98765');
    expect(first.ok).toBe(false);
    if (!first.ok) {
      expect(first.error).toContain('2');
      expect(first.error).not.toContain('98765');
    }
  });

  it('unlocks on request', () => {
    const guard = new PinGuard(card, 1);
    guard.check('0000');
    expect(guard.locked).toBe(true);
    guard.unlock();
    expect(guard.check('1234')).toEqual({ ok: true });
  });
});
