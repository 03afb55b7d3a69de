/** How a promise fared against a time limit. The promise itself runs on; the caller may still watch it. */
export type Raced<T> = { kind: 'settled'; value: T } | { kind: 'failed'; error: unknown } | { kind: 'timed-out' };

/** Waits for `work` at most `ms` milliseconds. */
export function within<T>(work: Promise<T>, ms: number): Promise<Raced<T>> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ kind: 'timed-out' }), Math.max(0, ms));
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve({ kind: 'settled', value });
      },
      (error: unknown) => {
        clearTimeout(timer);
        resolve({ kind: 'failed', error });
      },
    );
  });
}
