import { AppError, isDependencyFailure } from './index';

describe('isDependencyFailure', () => {
  it('recognises an unreachable or stalled dependency', () => {
    expect(isDependencyFailure(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isDependencyFailure(new Error('Query read timeout'))).toBe(true); // pg query_timeout
    expect(isDependencyFailure(new Error('timeout exceeded when trying to connect'))).toBe(true); // pg-pool
    expect(isDependencyFailure(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDependencyFailure(new Error('Command timed out'))).toBe(true); // ioredis commandTimeout
    expect(isDependencyFailure(Object.assign(new Error('the database system is shutting down'), { code: '57P03' }))).toBe(true);
    expect(isDependencyFailure(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }))).toBe(
      true,
    );
    expect(isDependencyFailure(new AppError('TRANSPORT', 'RabbitMQ is not connected'))).toBe(true);
    expect(isDependencyFailure(new AppError('INTERNAL', 'wrapped', { cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }) }))).toBe(
      true,
    );
    expect(isDependencyFailure(new AggregateError([Object.assign(new Error('a'), { code: 'ECONNREFUSED' })], 'connect failed'))).toBe(true);
  });

  it('does not excuse a broken message or program', () => {
    expect(isDependencyFailure(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBe(false);
    expect(isDependencyFailure(Object.assign(new Error('relation "ceb179.request" does not exist'), { code: '42P01' }))).toBe(false);
    expect(isDependencyFailure(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
    // The server answered: a statement that keeps running too long must end as poison, not loop for ever.
    expect(isDependencyFailure(Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }))).toBe(false);
    expect(isDependencyFailure(new AppError('INVALID_INPUT', 'bad payload'))).toBe(false);
    expect(isDependencyFailure(undefined)).toBe(false);
    expect(isDependencyFailure('a string')).toBe(false);
  });
});
