import { classifyRefusal } from './card-faults';

describe('classifyRefusal', () => {
  it.each([
    ['Err:Custom50070', /reader reset failed/],
    ['Err:Custom50200', /no card/],
    ['Err:Base60408', /cannot be reached/],
  ])('treats %s as a retryable reader fault, even on a PIN-bearing call', (text, hint) => {
    const error = classifyRefusal('cus-sec_SpcSignDataAsPEM', [text], true);
    expect(error.code).toBe('CARD_FAULT');
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(hint);
  });

  it('treats any other refusal of a PIN-bearing call as a possible PIN failure: never retried', () => {
    for (const text of ['Err:PIN PIN码错误,剩余2次', '卡已锁定', 'Err:Unknown', '']) {
      const error = classifyRefusal('cus-sec_SpcSignDataAsPEM', text ? [text] : [], true);
      expect(error.code).toBe('CARD_PIN');
      expect(error.retryable).toBe(false);
    }
  });

  it('treats a refusal of a call without the PIN as a card fault', () => {
    expect(classifyRefusal('cus-sec_SpcGetCertNo', ['Err:Something'], false).code).toBe('CARD_FAULT');
  });
});
