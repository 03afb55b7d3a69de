/**
 * What must be undone even when the run is interrupted (Ctrl-C, SIGTERM): throw-away databases,
 * vhosts (and their quorum queues) and the processes under test. Sections register each resource
 * as they make it and release it in their own `finally`; a signal runs whatever is still registered.
 */
const pending = new Set<() => Promise<unknown>>();

export function onInterrupt(undo: () => Promise<unknown>): () => void {
  pending.add(undo);
  return () => void pending.delete(undo);
}

let interrupted = false;

export function undoOnSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      if (interrupted) return;
      interrupted = true;
      process.stderr.write(`\n${signal}: removing the bench's databases, vhosts and processes ...\n`);
      const undo = [...pending].map((fn) => fn().catch(() => undefined));
      const limit = setTimeout(() => process.exit(130), 60_000);
      void Promise.all(undo).then(() => {
        clearTimeout(limit);
        process.exit(130);
      });
    });
  }
}
