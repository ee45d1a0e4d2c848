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
