import { isAppError } from '@ceb179/errors';
import type { Logger } from '@ceb179/logger';

/** Every long-lived part of a service: started in order, stopped in reverse. */
export interface Component {
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
}

/** A service composed of parts; stop() drains them in reverse start order. */
export class ComponentGroup implements Component {
  private readonly started: Component[] = [];

  constructor(private readonly parts: Component[]) {}

  async start(): Promise<void> {
    for (const part of this.parts) {
      await part.start();
      this.started.push(part);
    }
  }

  async stop(): Promise<void> {
    while (this.started.length > 0) {
      const part = this.started.pop() as Component;
      await part.stop();
    }
  }
}

/**
 * Runs a service until SIGTERM or SIGINT, then drains it (stop) and exits. A start-up failure
 * exits 1 with the reason; a CONFIG error prints just its message, which names the variable.
 */
export function runUntilSignal(name: string, logger: Logger, build: () => Promise<Component>): void {
  let service: Component | undefined;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, `${name} stopping: draining in-flight work`);
    const force = setTimeout(() => {
      logger.error(`${name} did not stop within 30 s; exiting`);
      process.exit(1);
    }, 30_000);
    force.unref();
    try {
      await service?.stop();
      logger.info(`${name} stopped`);
      process.exit(0);
    } catch (error) {
      logger.error({ err: (error as Error).message }, `${name} stop failed`);
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  (async () => {
    service = await build();
    await service.start();
    logger.info(`${name} started`);
  })().catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    logger.fatal({ err: message, code: isAppError(error) ? error.code : undefined }, `${name} failed to start`);
    process.exit(1);
  });
}

/** Loads config outside the logger (a bad setting must be reported even before logging works). */
export function loadOrExit<T>(load: () => T): T {
  try {
    return load();
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
