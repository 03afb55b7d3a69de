import { parseCallbackMessage, parseSignatureMessage, parseSignJobMessage, SCHEMA_VERSION } from './index';

describe('message contracts', () => {
  const callback = {
    v: SCHEMA_VERSION,
    sessionID: 's-1',
    orderNo: 'o-1',
    receivedAt: '2026-01-01T00:00:00.000Z',
    deadline: '2026-01-01T00:02:00.000Z',
  };

  it('accepts a well-formed callback message', () => {
    expect(parseCallbackMessage(callback)).toEqual(callback);
  });

  it('names every bad field of a callback message', () => {
    expect(() => parseCallbackMessage({ ...callback, v: 2, orderNo: '' })).toThrow(
      expect.objectContaining({
        code: 'INVALID_INPUT',
        fields: [
          { field: 'v', problem: 'must be 1' },
          { field: 'orderNo', problem: 'must be a non-empty string' },
        ],
      }),
    );
  });

  it('rejects a payload that is not an object', () => {
    expect(() => parseSignJobMessage('x')).toThrow('sign job: payload is not a JSON object');
    expect(() => parseSignJobMessage(null)).toThrow('sign job: payload is not a JSON object');
  });

  it('rejects a signature message with an unknown algorithm', () => {
    const signature = {
      v: SCHEMA_VERSION,
      sessionID: 's',
      ebpCode: 'E',
      certNo: 'c',
      signValue: 'x',
      algorithm: 'MD5',
      signedAt: 't',
      signerId: 'id',
      deadline: 'd',
    };
    expect(() => parseSignatureMessage(signature)).toThrow(
      expect.objectContaining({
        fields: [{ field: 'algorithm', problem: 'must be RSA-SHA1 or SM2-SM3' }],
      }),
    );
    expect(parseSignatureMessage({ ...signature, algorithm: 'SM2-SM3' }).algorithm).toBe('SM2-SM3');
  });
});
