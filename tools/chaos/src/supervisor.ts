import { readyText, type Pipeline, type PipelineService, type ServiceProcess } from '@ceb179/harness';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Delay before a service that exited on its own is started again (as systemd or Kubernetes would). */
const RESPAWN_DELAY_MS = 1_000;

/**
 * Keeps one service of the pipeline running, as a process manager does in production: a service
 * that exits on its own (e.g. it could not start because Postgres or RabbitMQ was down at that
 * moment) is started again after a second. kill() is the chaos: SIGKILL, then a start after a pause.
 */
export class Supervisor {
  private running: ServiceProcess | undefined;
  private readonly killedByUs = new WeakSet<ServiceProcess>();
  private stopped = false;
  private pending: Promise<void> | undefined;
  kills = 0;
  /** Exits we did not cause, with what the process printed last. */
  readonly unexpectedExits: string[] = [];

  constructor(
    private readonly pipeline: Pipeline,
    readonly service: PipelineService,
    private readonly say: (line: string) => void,
  ) {
    const current = pipeline.current(service);
    if (!current) throw new Error(`${service} is not running`);
    this.watch(current);
  }

  /** Alive and past its start-up (printed its ready line). */
  get up(): boolean {
    const service = this.running;
    return (
      service !== undefined &&
      service.child.exitCode === null &&
      service.child.signalCode === null &&
      service.output().includes(readyText(this.service))
    );
  }

  async waitUp(timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (!this.up) {
      if (Date.now() > until || this.stopped) return false;
      await sleep(100);
    }
    return true;
  }

  /** SIGKILL now; started again after `downMs`. Resolves once the new process is spawned. */
  async kill(downMs: number): Promise<void> {
    const victim = this.running;
    if (!victim || this.stopped) return;
    this.killedByUs.add(victim);
    this.running = undefined;
    await victim.kill();
    this.kills += 1;
    this.say(`SIGKILL ${this.service} (pid ${victim.child.pid}); starting it again in ${(downMs / 1000).toFixed(1)} s`);
    await this.respawnAfter(downMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.pending?.catch(() => undefined);
  }

  private respawnAfter(delayMs: number): Promise<void> {
    const run = (async () => {
      await sleep(delayMs);
      if (this.stopped) return;
      this.watch(this.pipeline.spawn(this.service));
    })();
    this.pending = run;
    return run;
  }

  private watch(started: ServiceProcess): void {
    this.running = started;
    void started.exited().then((code) => {
      if (this.killedByUs.has(started) || this.stopped || this.running !== started) return;
      this.unexpectedExits.push(`${this.service} exited with ${code}: ${lastWords(started.output())}`);
      this.say(`${this.service} exited on its own (code ${code}); starting it again in 1 s`);
      this.running = undefined;
      void this.respawnAfter(RESPAWN_DELAY_MS);
    });
  }
}

/** What a service died of: its last fatal log line (message and error), else its last line. */
function lastWords(output: string): string {
  const lines = output.trim().split('\n');
  const fatal = lines.filter((l) => l.includes('"level":"fatal"')).at(-1);
  const last = fatal ?? lines.at(-1) ?? '';
  try {
    const line = JSON.parse(last) as { msg?: string; err?: string };
    return `${line.msg ?? ''}${line.err ? ` (${line.err})` : ''}`;
  } catch {
    return last.slice(0, 300);
  }
}
