import type { Logger } from '@ceb179/logger';
import { CardControl } from './domain/card-control';
import type { ControlQuirks } from './domain/control-quirks';
import type { SoftCard } from './domain/soft-card';
import { ControlServer } from './entry-points/control.server';

export { SoftCard, type SoftCardOptions, type SoftCardJSON, type CardAlgorithm } from './domain/soft-card';
export { ControlErrors } from './domain/control-errors';
export {
  HARSH_QUIRKS,
  TIDY_QUIRKS,
  type ControlQuirks,
  type Base64Format,
  type CertNoFormat,
  type SignEncoding,
} from './domain/control-quirks';
export { loadOrCreateCard, readCardFile } from './data-access/card.file';

export interface EportSimOptions {
  card: SoftCard;
  /** 0 = a random free port. Default 0. */
  port?: number;
  /** Default 127.0.0.1, like the real control. */
  host?: string;
  /** Delay before each signature is returned (sign requests only). Default 0. */
  signLatencyMs?: number;
  /** Consecutive wrong PINs that lock the card. Default 3. */
  maxWrongPins?: number;
  /** Ways a real control differs from the tidy default (formats, greeting, pings, encoding). */
  quirks?: Partial<ControlQuirks>;
  logger?: Logger;
}

export interface EportSimStats {
  requests: number;
  signatures: number;
  /** Every PIN presented (sign and verify-PIN requests), including those refused because the card is locked. */
  pinAttempts: number;
  /** PINs checked and found wrong, over the simulator's life (a right PIN resets the lock counter, not this). */
  wrongPinAttempts: number;
  locked: boolean;
  maxInFlight: number;
  /** Requests that arrived, on any connection, while another was still being served. */
  concurrentViolations: number;
  /** Connections open now. */
  connections: number;
  /** Connections accepted since start. */
  totalConnections: number;
}

export interface EportSim {
  url: string;
  port: number;
  card: SoftCard;
  stats(): EportSimStats;
  /** The next `count` card requests fail with `error` (default the no-card fault `Err:Custom50200`). */
  failNextRequests(count: number, error?: string): void;
  /** Closes every open connection abruptly, as a crashing control would. */
  dropConnections(): void;
  /** The next `count` signatures have one byte flipped (a corrupted signature must never be uploaded). */
  corruptNextSignatures(count: number): void;
  /** The next `count` sign requests are signed but the connection drops before the reply. */
  dropDuringNextSigns(count: number): void;
  /** Resets the lock-out, as the issuer would. */
  unlockCard(): void;
  /** The card's PIN is changed under a running client (a card swap, or the holder changed it). */
  changePin(newPin: string): void;
  /** The control starts behaving otherwise (e.g. signing GBK after an upgrade), from the next request on. */
  setQuirks(quirks: Partial<ControlQuirks>): void;
  stop(): Promise<void>;
}

export async function startEportSim(options: EportSimOptions): Promise<EportSim> {
  const host = options.host ?? '127.0.0.1';
  const control = new CardControl(options.card, {
    signLatencyMs: options.signLatencyMs ?? 0,
    maxWrongPins: options.maxWrongPins ?? 3,
    ...(options.quirks ? { quirks: options.quirks } : {}),
  });
  const server = await ControlServer.listen({
    control,
    port: options.port ?? 0,
    host,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const port = server.port;
  let stopped: Promise<void> | undefined;
  return {
    url: `ws://${urlHost(host)}:${port}`,
    port,
    card: options.card,
    stats: () => ({ ...control.stats(), ...server.stats() }),
    failNextRequests: (count, error) => control.failNext(count, error),
    dropConnections: () => server.dropConnections(),
    unlockCard: () => control.unlock(),
    changePin: (newPin) => options.card.changePin(newPin),
    setQuirks: (quirks) => control.setQuirks(quirks),
    corruptNextSignatures: (count) => control.corruptNextSignatures(count),
    dropDuringNextSigns: (count) => control.dropDuringNextSigns(count),
    stop: () => (stopped ??= server.close()),
  };
}

/** A wildcard listen address is not dialable: report loopback, which always reaches it. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
