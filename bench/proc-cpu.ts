// CPU time from /proc, for the benchmarks that split a run's CPU by process and thread (server-kafka.ts,
// kafka-broker-cost.ts): Linux only, as the benches' machines are.
import { readdirSync, readFileSync } from 'node:fs';

/** CPU seconds (user + system) used so far by a process (`/proc/<pid>/stat`) or one of its threads (`/proc/<pid>/task/<tid>/stat`). */
export function cpuSeconds(statPath: string): number {
  const fields = readFileSync(statPath, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime and stime, in clock ticks of 1/100 s
}

/** CPU seconds so far per thread group of a process: the threads' names (JVM threads have names) without their numbers. */
export function cpuByThreadGroup(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim().replace(/[#-]?\d+$/, '').replace(/\d+/g, 'N');
      out.set(name, (out.get(name) ?? 0) + cpuSeconds(`/proc/${pid}/task/${tid}/stat`));
    } catch { /* a thread that ended meanwhile */ }
  }
  return out;
}

/** A thread's scheduler figures (`/proc/<pid>/task/<tid>/schedstat`), in ms: time on a CPU, time ready but waiting for one, and how many times it was put on one. */
export interface SchedStat {
  readonly runMs: number;
  readonly waitMs: number;
  readonly slices: number;
}

/** Parses a schedstat line ("<ns on a CPU> <ns waiting on a run queue> <timeslices>"); undefined when it is not one. */
export function parseSchedstat(text: string): SchedStat | undefined {
  const [run, wait, slices, ...rest] = text.trim().split(/\s+/).map(Number);
  if (run === undefined || wait === undefined || slices === undefined || rest.length > 0 || ![run, wait, slices].every(Number.isSafeInteger)) return undefined;
  return { runMs: run / 1e6, waitMs: wait / 1e6, slices };
}

/** The schedstat of process `pid`'s main thread; undefined when the process has ended. */
function schedOfMainThread(pid: number): SchedStat | undefined {
  try {
    return parseSchedstat(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * The schedstat of the main thread of process `pid` and of every process it forked (a pod's primary and its serving
 * workers), summed; zeros for a process that has ended.
 */
export function schedOfProcessTree(pid: number): SchedStat {
  let total: SchedStat = { runMs: 0, waitMs: 0, slices: 0 };
  const add = (p: number): void => {
    const s = schedOfMainThread(p);
    if (s) total = { runMs: total.runMs + s.runMs, waitMs: total.waitMs + s.waitMs, slices: total.slices + s.slices };
    try {
      for (const child of readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim().split(/\s+/).filter((x) => x !== '')) add(Number(child));
    } catch { /* ended meanwhile */ }
  };
  add(pid);
  return total;
}
