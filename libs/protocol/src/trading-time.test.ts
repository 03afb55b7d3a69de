import { AppError } from '@ceb179/errors';
import { formatTradingTime } from './index';

describe('formatTradingTime', () => {
  it('moves a time just after midnight China time to the next day', () => {
    expect(formatTradingTime('2023-11-14T16:00:01Z')).toBe('20231115000001');
    expect(formatTradingTime(new Date('2023-12-31T16:30:00Z'))).toBe('20240101003000');
  });

  it('prints midnight as 00, not 24', () => {
    expect(formatTradingTime('2023-11-14T16:00:00Z')).toBe('20231115000000');
    expect(formatTradingTime('2023-11-15T00:00:00Z', 'UTC')).toBe('20231115000000');
  });

  it('accepts Dates, ISO texts and Postgres timestamptz texts alike', () => {
    expect(formatTradingTime(new Date(Date.UTC(2018, 11, 11, 20, 18, 3)))).toBe('20181212041803');
    expect(formatTradingTime('2018-12-11T20:18:03Z')).toBe('20181212041803');
    expect(formatTradingTime('2018-12-11T20:18:03.999Z')).toBe('20181212041803');
    expect(formatTradingTime('2018-12-11 20:18:03+00')).toBe('20181212041803');
    expect(formatTradingTime('2018-12-12 04:18:03+08')).toBe('20181212041803');
    expect(formatTradingTime('2018-12-12T04:18:03+08:00')).toBe('20181212041803');
    expect(formatTradingTime('2018-12-11T15:18:03-0500')).toBe('20181212041803');
  });

  it('drops fractions of a second instead of rounding into the next day', () => {
    expect(formatTradingTime(new Date('2023-11-14T15:59:59.999Z'))).toBe('20231114235959');
  });

  it('formats in the configured zone', () => {
    expect(formatTradingTime('2023-11-14T16:30:00Z', 'UTC')).toBe('20231114163000');
    expect(formatTradingTime('2023-11-14T16:30:00Z', 'Asia/Hong_Kong')).toBe('20231115003000');
  });

  it.each([
    ['2018-12-11T20:18:03', /offset/],
    ['2018-12-11', /offset/],
    ['yesterday', /offset/],
    ['2018-02-30T20:18:03Z', /calendar/],
    ['2018-12-11T24:00:00Z', /calendar/],
    ['2018-12-11T20:18:03+25:00', /offset/],
  ])('rejects %j as a data fault', (text, problem) => {
    expect(() => formatTradingTime(text)).toThrow(AppError);
    try {
      formatTradingTime(text);
    } catch (error) {
      const e = error as AppError;
      expect(e.code).toBe('DATA_FAULT');
      expect(e.fields[0]?.field).toBe('tradingTime');
      expect(e.fields[0]?.problem).toMatch(problem);
    }
  });

  it('rejects an invalid Date', () => {
    expect(() => formatTradingTime(new Date('nope'))).toThrow(expect.objectContaining({ code: 'DATA_FAULT' }));
  });

  it('reports an unknown time zone as configuration', () => {
    expect(() => formatTradingTime('2018-12-11T20:18:03Z', 'Mars/Olympus')).toThrow(expect.objectContaining({ code: 'CONFIG' }));
  });
});
