import type { InfraControl, PipelineService } from '@ceb179/harness';
import type { ChaosPlan, InfraRestart } from './plan';
import type { Supervisor } from './supervisor';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Kills run at their moments; kills of one service wait for its previous restart to be up. */
export async function runKills(
  plan: ChaosPlan,
  supervisors: Map<PipelineService, Supervisor>,
  at: (ms: number) => Promise<unknown>,
  say: (line: string) => void,
): Promise<void> {
  const chains = new Map<string, Promise<void>>();
  for (const kill of plan.kills) {
    const supervisor = supervisors.get(kill.service as PipelineService) as Supervisor;
    const previous = chains.get(kill.service) ?? Promise.resolve();
    chains.set(
      kill.service,
      previous.then(async () => {
        await at(kill.atMs);
        if (!(await supervisor.waitUp(120_000))) {
          say(`${kill.service} did not come up within 120 s; kill skipped`);
          return;
        }
        await supervisor.kill(kill.downMs);
      }),
    );
  }
  await Promise.all(chains.values());
}

/** Infrastructure restarts one after another, never two at once, at least 2 s apart. */
export async function runInfra(
  events: InfraRestart[],
  infra: InfraControl,
  at: (ms: number) => Promise<unknown>,
  say: (line: string) => void,
  state: (s: string) => void,
): Promise<void> {
  let nextAllowed = 0;
  for (const event of events) {
    await at(event.atMs);
    await sleep(Math.max(0, nextAllowed - Date.now()));
    const begun = Date.now();
    switch (event.kind) {
      case 'rabbitmq':
        say('rabbitmqctl stop_app');
        state('RabbitMQ down');
        await infra.stopRabbit();
        await sleep(event.downMs);
        say('rabbitmqctl start_app');
        state('RabbitMQ starting');
        await infra.startRabbit();
        say(`RabbitMQ back after ${((Date.now() - begun) / 1000).toFixed(1)} s`);
        break;
      case 'postgres':
        say('restarting Postgres');
        state('Postgres restarting');
        await infra.restartPostgres();
        say(`Postgres back after ${((Date.now() - begun) / 1000).toFixed(1)} s`);
        break;
      case 'redis':
        say('restarting Redis (shutdown nosave: its keys are gone)');
        state('Redis restarting');
        await infra.restartRedis();
        say(`Redis back after ${((Date.now() - begun) / 1000).toFixed(1)} s`);
        break;
      case 'postgres-stall':
      case 'redis-stall': {
        const service = event.kind === 'postgres-stall' ? 'postgres' : 'redis';
        const name = service === 'postgres' ? 'Postgres' : 'Redis';
        say(`stalling ${name} (SIGSTOP) for ${(event.downMs / 1000).toFixed(1)} s`);
        state(`${name} stalled`);
        try {
          await infra.stall(service);
          await sleep(event.downMs);
        } finally {
          await infra.resume(service);
        }
        say(`${name} answering again (SIGCONT) after ${((Date.now() - begun) / 1000).toFixed(1)} s`);
        break;
      }
    }
    state('');
    nextAllowed = Date.now() + 2_000;
  }
}
