import { GroupedWrites } from './grouped-writes.batcher';

describe('GroupedWrites', () => {
  afterEach(() => jest.useRealTimers());

  it('sends the keys gathered within the linger as one write, and settles every caller with it', async () => {
    jest.useFakeTimers();
    const writes: string[][] = [];
    const grouped = new GroupedWrites(async (keys) => void writes.push(keys), 100);
    const settled = [grouped.add('a'), grouped.add('b'), grouped.add('c')];
    expect(writes).toEqual([]);
    jest.advanceTimersByTime(100);
    await Promise.all(settled);
    expect(writes).toEqual([['a', 'b', 'c']]);
    const later = grouped.add('d');
    jest.advanceTimersByTime(100);
    await later;
    expect(writes).toEqual([['a', 'b', 'c'], ['d']]);
  });

  it('writes at once when maxKeys are waiting', async () => {
    jest.useFakeTimers();
    const writes: string[][] = [];
    const grouped = new GroupedWrites(async (keys) => void writes.push(keys), 10_000, 2);
    await Promise.all([grouped.add('a'), grouped.add('b')]);
    expect(writes).toEqual([['a', 'b']]);
  });

  it('rejects every caller of a group whose write failed, and the next group is written anew', async () => {
    jest.useFakeTimers();
    let fail = true;
    const grouped = new GroupedWrites(async () => {
      if (fail) throw new Error('ledger down');
    }, 50);
    const first = [grouped.add('a'), grouped.add('b')];
    jest.advanceTimersByTime(50);
    await expect(Promise.all(first)).rejects.toThrow('ledger down');
    await expect(first[1]).rejects.toThrow('ledger down');
    fail = false;
    const second = grouped.add('c');
    jest.advanceTimersByTime(50);
    await expect(second).resolves.toBeUndefined();
  });

  it('with linger 0 writes each key alone', async () => {
    const writes: string[][] = [];
    const grouped = new GroupedWrites(async (keys) => void writes.push(keys), 0);
    await Promise.all([grouped.add('a'), grouped.add('b')]);
    expect(writes).toEqual([['a'], ['b']]);
  });
});
