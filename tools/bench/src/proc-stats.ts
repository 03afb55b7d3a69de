import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * CPU time and resident memory of processes, read from /proc (Linux). CPU is utime + stime,
 * in clock ticks (usually 10 ms each), so a phase must be long enough for many ticks.
 */
let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** utime + stime of a process in milliseconds; undefined once it has gone. */
export function cpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold blanks and parentheses: fields are counted after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / clockTicks();
  } catch {
    return undefined;
  }
}

/** VmRSS in megabytes (MiB); undefined once the process has gone. */
export function residentMb(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Sums CPU over groups of processes (e.g. all signers) between two moments. */
export class CpuMeter {
  private readonly start = new Map<string, number>();

  constructor(private readonly groups: Record<string, number[]>) {
    for (const [name, pids] of Object.entries(groups)) this.start.set(name, sum(pids.map(cpuMs)));
  }

  /** CPU milliseconds each group used since the meter was made. */
  used(): Record<string, number> {
    const used: Record<string, number> = {};
    for (const [name, pids] of Object.entries(this.groups)) used[name] = sum(pids.map(cpuMs)) - (this.start.get(name) ?? 0);
    return used;
  }
}

/** Samples VmRSS of groups of processes until stopped, keeping each group's peak (a group's RSS = the largest of its processes). */
export class PeakMemory {
  private readonly peaks = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly groups: Record<string, number[]>,
    intervalMs = 250,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    for (const [name, pids] of Object.entries(this.groups)) {
      const now = Math.max(0, ...pids.map((pid) => residentMb(pid) ?? 0));
      this.peaks.set(name, Math.max(this.peaks.get(name) ?? 0, now));
    }
  }

  stop(): Record<string, number> {
    clearInterval(this.timer);
    this.sample();
    return Object.fromEntries(this.peaks);
  }
}

/** Each group's current VmRSS (the largest of its processes). */
export function residentNow(groups: Record<string, number[]>): Record<string, number> {
  return Object.fromEntries(Object.entries(groups).map(([name, pids]) => [name, Math.max(0, ...pids.map((pid) => residentMb(pid) ?? 0))]));
}

function sum(values: Array<number | undefined>): number {
  return values.reduce<number>((total, value) => total + (value ?? 0), 0);
}
