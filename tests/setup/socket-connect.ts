import net from 'node:net';

/** Where the unit guard keeps net.Socket#connect as Node made it, for whoever must put it back. */
export const ORIGINAL_CONNECT = Symbol.for('ceb179.test.original-socket-connect');

type Prototype = typeof net.Socket.prototype & { [ORIGINAL_CONNECT]?: typeof net.Socket.prototype.connect };

/** Puts net.Socket#connect back as Node made it, if the unit guard replaced it. */
export function restoreSocketConnect(): void {
  const prototype = net.Socket.prototype as Prototype;
  const original = prototype[ORIGINAL_CONNECT];
  if (!original) return;
  prototype.connect = original;
  delete prototype[ORIGINAL_CONNECT];
}
