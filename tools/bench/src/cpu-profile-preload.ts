import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';

/**
 * Loaded into a service with NODE_OPTIONS=--require (Node refuses --cpu-prof there): profiles the
 * whole life of the process with V8's sampling profiler and writes
 * $BENCH_CPU_PROFILE_DIR/<script>-<pid>.cpuprofile when it exits (an in-process inspector session
 * answers synchronously, so this works in an exit handler).
 */
const dir = process.env.BENCH_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.enable');
  session.post('Profiler.start');
  process.on('exit', () => {
    session.post('Profiler.stop', (error, result) => {
      if (error) return;
      const service = path.basename(path.dirname(path.dirname(process.argv[1] ?? 'node')));
      writeFileSync(path.join(dir, `${service}-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
