import { AppError } from '@ceb179/errors';
import { formatAmount } from './index';
import { loadGoldenVectors } from './testing/golden-vectors';

const vectors = loadGoldenVectors();

function faultOf(numeric: string): AppError {
  try {
    formatAmount(numeric);
  } catch (error) {
    return error as AppError;
  }
  throw new Error(`formatAmount(${numeric}) did not throw`);
}

describe('formatAmount', () => {
  it.each(vectors.amounts.map((a) => [a.numeric, a.json]))('golden amount %s -> %s', (numeric, json) => {
    expect(formatAmount(numeric)).toBe(json);
  });

  it.each([
    ['0', '0'],
    ['0.00000', '0'],
    ['00000', '0'],
    ['1.123450', '1.12345'],
    ['99999999999999.99999', '99999999999999.99999'],
    ['00000000000000012.5', '12.5'],
    ['10.01000', '10.01'],
    ['100', '100'],
  ])('%s -> %s', (numeric, json) => {
    expect(formatAmount(numeric)).toBe(json);
  });

  it('keeps every digit of amounts a float would round', () => {
    expect(formatAmount('99999999999999.99999')).not.toBe(String(Number('99999999999999.99999')));
  });

  it.each([
    ['-1.00', /negative/],
    ['-0', /negative/],
    ['1e5', /exponent/],
    ['1.5E-3', /exponent/],
    ['abc', /not a plain decimal/],
    ['1,5', /not a plain decimal/],
    ['.5', /not a plain decimal/],
    ['5.', /not a plain decimal/],
    [' 5', /not a plain decimal/],
    ['NaN', /not a plain decimal/],
    ['Infinity', /not a plain decimal/],
    ['', /empty/],
    ['123456789012345', /more than 14 integer digits \(15\)/],
    ['1.123456', /more than 5 fraction digits \(6\)/],
  ])('rejects %j', (numeric, problem) => {
    const error = faultOf(numeric);
    expect(error).toBeInstanceOf(AppError);
    expect(error.code).toBe('DATA_FAULT');
    expect(error.fields).toHaveLength(1);
    expect(error.fields[0]?.field).toBe('totalAmount');
    expect(error.fields[0]?.problem).toMatch(problem);
  });

  it('counts integer digits after stripping leading zeros', () => {
    expect(formatAmount('000012345678901234')).toBe('12345678901234');
  });
});
