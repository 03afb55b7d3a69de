import { Writable } from 'node:stream';
import { alertDoc, createLogger, forSession } from './index';

function capture(): { stream: Writable; lines: () => Array<Record<string, unknown>> } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return {
    stream,
    lines: () =>
      text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('createLogger', () => {
  it('links every alert line to its entry in docs/errors.md, and only alert lines', () => {
    const out = capture();
    const logger = forSession(createLogger({ service: 'test', destination: out.stream }), 'S-1');
    logger.error({ alert: 'config', code: '20004' }, 'CONFIGURATION ALERT');
    logger.info({ code: '10000' }, 'uploaded');
    const [alertLine, plainLine] = out.lines();
    expect(alertLine).toMatchObject({
      service: 'test',
      sessionID: 'S-1',
      alert: 'config',
      errorDoc: 'docs/errors.md#alert-config',
      msg: 'CONFIGURATION ALERT',
    });
    expect(plainLine).not.toHaveProperty('errorDoc');
    expect(alertDoc('pin')).toBe('docs/errors.md#alert-pin');
  });

  it('still censors PIN-bearing keys on alert lines', () => {
    const out = capture();
    createLogger({ service: 'test', destination: out.stream }).fatal({ alert: 'pin', passwd: '123456', args: { passwd: '123456' } }, 'PIN');
    const [line] = out.lines();
    expect(JSON.stringify(line)).not.toContain('123456');
    expect(line).toMatchObject({ passwd: '[redacted]', errorDoc: 'docs/errors.md#alert-pin' });
  });
});
