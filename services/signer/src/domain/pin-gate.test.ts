import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger } from '@ceb179/logger';
import type { ControlReply } from '@ceb179/protocol';
import { FilePinMemory } from '../data-access/pin-memory.file';
import { PinGate } from './pin-gate';

const logger = createLogger({ service: 'test', level: 'silent' });
const CERT = '1a2b3c4d';
const SIGN = 'cus-sec_SpcSignDataAsPEM';

const reply = (result: boolean, errors: string[] = []): ControlReply => ({
  id: 1,
  method: SIGN,
  status: '00',
  result,
  data: result ? ['sig', CERT] : [],
  errors,
});

describe('PinGate with its memory on disk', () => {
  let dir: string;
  const gate = (pin: string) => {
    const g = new PinGate(new FilePinMemory(dir), pin, logger);
    g.bindCard(CERT);
    return g;
  };

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'pin-gate-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is closed until the card is identified', () => {
    const g = new PinGate(new FilePinMemory(dir), '123456', logger);
    expect(g.state).toBe('unbound');
    expect(() => g.assertMaySend()).toThrow(/not been identified/);
  });

  it('lets a new PIN through once; a refusal closes it for this process and every later one', () => {
    const first = gate('111111');
    expect(first.state).toBe('open');
    first.assertMaySend();
    first.sending();
    first.answered(SIGN, reply(false, ['Err:PIN PIN码错误,剩余2次']));
    expect(first.state).toBe('refused');
    expect(() => first.assertMaySend()).toThrow(expect.objectContaining({ code: 'CARD_PIN' }));

    const afterRestart = gate('111111');
    expect(afterRestart.state).toBe('refused');
    expect(() => afterRestart.assertMaySend()).toThrow(/refused this PIN/);

    const corrected = gate('222222');
    expect(corrected.state).toBe('open');
  });

  it('never writes the PIN, only a salted fingerprint', () => {
    const g = gate('98765432');
    g.sending();
    g.answered(SIGN, reply(false, ['Err:PIN wrong']));
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    const text = readFileSync(path.join(dir, files[0] as string), 'utf8');
    expect(text).not.toContain('98765432');
    expect(JSON.parse(text)).toMatchObject({
      certNo: CERT,
      refused: [expect.objectContaining({ pin: expect.stringMatching(/^[0-9a-f]{64}$/) })],
    });
  });

  it('a first attempt that never got an answer counts as refused (it may have been counted by the card)', () => {
    const g = gate('333333');
    g.sending();
    g.unanswered('control did not answer within 15000 ms', true);
    expect(g.state).toBe('refused');
    expect(gate('333333').state).toBe('refused');
  });

  it('a process that died with a first attempt in flight leaves that PIN refused', () => {
    gate('444444').sending(); // SIGKILL here: no answer, no clean-up
    expect(gate('444444').state).toBe('refused');
  });

  it('with a PIN the card accepted before, a lost answer asks for a PIN-free probe, not a refusal', () => {
    const g = gate('555555');
    g.sending();
    g.answered(SIGN, reply(true));
    g.sending();
    g.unanswered('control connection lost', true);
    expect(g.state).toBe('probe-required');
    expect(() => g.assertMaySend()).toThrow(expect.objectContaining({ code: 'CARD_FAULT' }));
    g.probed();
    expect(g.state).toBe('open');
  });

  it('a reader fault on a PIN call is no verdict on the PIN, but the card must answer before the next one', () => {
    const g = gate('666666');
    g.sending();
    g.answered(SIGN, reply(false, ['Err:Custom50070']));
    expect(g.state).toBe('probe-required');
    g.probed();
    expect(g.state).toBe('open');
    expect(gate('666666').state).toBe('open');
  });

  it('an unsent call changes nothing', () => {
    const g = gate('777777');
    g.sending();
    g.unanswered('could not send to the control', false);
    expect(gate('777777').state).toBe('open');
  });

  it('refuses to guess when its memory is damaged', () => {
    const g = gate('888888');
    g.sending();
    g.answered(SIGN, reply(false, ['Err:PIN wrong']));
    const [file] = readdirSync(dir);
    writeFileSync(path.join(dir, file as string), '{ not json');
    expect(() => gate('888888')).toThrow(/damaged/);
  });

  it('clear forgets the refusals of a card', () => {
    const g = gate('999999');
    g.sending();
    g.answered(SIGN, reply(false, ['Err:PIN wrong']));
    const memory = new FilePinMemory(dir);
    expect(memory.list()).toEqual([expect.objectContaining({ certNo: CERT, refused: [expect.anything()] })]);
    expect(memory.clear(CERT.toUpperCase())).toHaveLength(1);
    expect(gate('999999').state).toBe('open');
  });
});
