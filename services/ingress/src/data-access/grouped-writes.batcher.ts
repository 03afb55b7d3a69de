/**
 * Collects writes that nobody waits on for the reply and sends them together: one statement (or
 * one Redis pipeline) for every key gathered over `lingerMs`, or as soon as `maxKeys` are
 * waiting. Under load this replaces one round trip per callback by one per group, which is most
 * of the CPU such a write costs (the system call and the server's work per statement).
 * Each caller's promise settles with its group's write.
 */
export class GroupedWrites {
  private keys: string[] = [];
  private waiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly write: (keys: string[]) => Promise<void>,
    private readonly lingerMs: number,
    private readonly maxKeys = 500,
  ) {}

  add(key: string): Promise<void> {
    if (this.lingerMs === 0) return this.write([key]);
    const settled = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.keys.push(key);
    if (this.keys.length >= this.maxKeys) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.lingerMs);
    return settled;
  }

  /** Sends what is waiting now (also at shutdown, so nothing waits for the timer). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.keys.length === 0) return;
    const keys = this.keys;
    const waiters = this.waiters;
    this.keys = [];
    this.waiters = [];
    this.write(keys).then(
      () => waiters.forEach((w) => w.resolve()),
      (error: unknown) => waiters.forEach((w) => w.reject(error)),
    );
  }
}
