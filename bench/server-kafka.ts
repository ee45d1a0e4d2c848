// The cost of the Kafka sink (spec.server.kafka) on the model server's throughput, side by side in one run:
//   sink on   the server bundle publishing every prediction as a CloudEvent to a real Kafka broker (KRaft, the
//             jars of scripts/kafka-jars.sh) on this machine, besides logging to MinIO as always
//   sink off  the same bundle, model and row with the sink off
// Both serve the model the real trainer publishes from the Seattle weather data; one-row POST
// /v1/models/weather:predict under wrk at 64 connections, BENCH_ROUNDS alternating rounds of BENCH_SECONDS each,
// medians compared. The broker, both servers and wrk share the machine's cores, so the broker's own work is part of
// the req/s cost measured (on a real deployment it runs elsewhere). Printed beside req/s, from /proc, per round:
// the server's own CPU per request (all its threads, its main thread (the event loop), and its busiest other thread:
// with the sink on, the sink's sender thread), the broker's CPU seconds and how busy the whole machine was, so the
// sink's cost to the pod can be told from the broker's use of the cores.
// After each sink-on round, /metrics of that server is read on a fresh connection while the sink drains what the
// round left (the time each read took, the events still buffered); at the end, the sink's events sent and dropped.
// Run:
//   npx tsx bench/server-kafka.ts        (BENCH_SECONDS=10, BENCH_ROUNDS=3, BENCH_WARMUP=30; heavy: under flock /tmp/perennial-heavy.lock here)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { LocalCluster } from '../localcluster/cluster.js';
import { podEnv } from '../src/shared/pod-contract.js';
import { parsePrometheusText, serverMetricNames } from '../src/shared/server-metrics.js';
import { storeFor } from '../test/integration/trainer-harness.js';
import { KafkaBroker } from '../test/support/kafka-broker.js';
import { quickTraining, serverEnv, startServer, trainWeatherModel, waitReady, weatherInstances, type RunningServer } from '../test/support/served-model.js';
import { cpuByThreadGroup, cpuSeconds } from './proc-cpu.js';

const seconds = Number(process.env['BENCH_SECONDS'] ?? 10);
const rounds = Number(process.env['BENCH_ROUNDS'] ?? 3);
/**
 * Seconds of load on each server before the rounds (not reported). Longer than a round: the broker is a JVM started
 * by this bench, which compiles its produce path for tens of seconds under load (its JIT threads took about a third
 * of its CPU in the first 15 s after a 10 s warm-up: bench/kafka-broker-cost.ts); a broker that serves a cluster did
 * that long ago.
 */
const warmupSeconds = Number(process.env['BENCH_WARMUP'] ?? 30);
const connections = 64;

function wrk(url: string, script: string, duration = seconds): number {
  const out = execFileSync('wrk', ['-t', '2', '-c', String(connections), '-d', `${duration}s`, '-s', script, `${url}/v1/models/weather:predict`], { encoding: 'utf8', timeout: (duration + 30) * 1000 });
  if (/Non-2xx or 3xx responses/.test(out)) throw new Error(`non-2xx answers:\n${out}`);
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
}

/** CPU seconds so far of each thread of a process, by thread id. */
function threadCpuSeconds(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.set(tid, cpuSeconds(`/proc/${pid}/task/${tid}/stat`));
    } catch { /* a thread that ended meanwhile */ }
  }
  return out;
}

/** The CPU seconds of the thread (other than `pid`'s main thread) that used the most between two snapshots. */
function busiestOtherThread(pid: number, before: Map<string, number>, after: Map<string, number>): number {
  let most = 0;
  for (const [tid, s] of after) if (tid !== String(pid)) most = Math.max(most, s - (before.get(tid) ?? 0));
  return most;
}

/** The whole machine's busy and total CPU time so far (the first line of /proc/stat), in clock ticks. */
function machineTicks(): { busy: number; total: number } {
  const t = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const total = t.reduce((a, x) => a + x, 0);
  return { busy: total - (t[3] ?? 0) - (t[4] ?? 0), total }; // idle and iowait are not busy
}

/** The broker's JVM: the java process whose command line names the broker's folder. */
function brokerPid(dir: string): number | undefined {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      if (cmd.includes('kafka.Kafka') && cmd.includes(dir)) return Number(d);
    } catch { /* a process that ended meanwhile */ }
  }
  return undefined;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/**
 * GET /metrics on a connection of its own (no agent: nothing pooled from before a round is reused), at most 10 s;
 * the time it took. A failure names its cause (refused, reset, timed out) and whether the server still runs.
 */
function scrape(s: RunningServer): Promise<{ ms: number; text: string }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const req = get(`${s.url}/metrics`, { agent: false, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => (res.statusCode === 200 ? resolve({ ms: performance.now() - start, text }) : reject(new Error(`/metrics answered ${String(res.statusCode)}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('/metrics: no answer within 10 s')));
    req.on('error', (e) => reject(new Error(`/metrics of ${s.url} failed after ${(performance.now() - start).toFixed(0)} ms (server ${s.child.exitCode === null && s.child.signalCode === null ? 'running' : `exited ${String(s.child.exitCode ?? s.child.signalCode)}`}): ${e.message}`)));
  });
}

function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  return parsePrometheusText(text).filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v)).reduce((a, x) => a + x.value, 0);
}

const work = mkdtempSync(join(tmpdir(), 'bench-kafka-'));
const instance = weatherInstances('Seattle').instances.find((r) => String(r['date']).startsWith('2015-06')) ?? {};
const script = join(work, 'post.lua');
writeFileSync(script, `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = ${JSON.stringify(JSON.stringify({ instances: [instance] }))}\n`);

const cluster = await LocalCluster.start({ name: 'bench-kafka', controllerManager: false });
const broker = await KafkaBroker.start(3);
const servers: RunningServer[] = [];
try {
  const admin = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: 'predictions', numPartitions: 3 }, { topic: 'feedback', numPartitions: 3 }] });
  await admin.disconnect();
  const bucket = 'bench-kafka';
  await trainWeatherModel(cluster.info, storeFor(cluster.info), bucket, 'v1', quickTraining);
  const kafkaEnv = { [podEnv.serverKafkaBrokers]: broker.bootstrap, [podEnv.serverKafkaPredictionsTopic]: 'predictions', [podEnv.serverKafkaFeedbackTopic]: 'feedback' };
  const on = await startServer(serverEnv(cluster.info, { bucket, version: 'v1', deployment: 'ml/kafka-on', env: kafkaEnv }));
  servers.push(on);
  const off = await startServer(serverEnv(cluster.info, { bucket, version: 'v1', deployment: 'ml/kafka-off' }));
  servers.push(off);
  await Promise.all([waitReady(on), waitReady(off)]);
  wrk(on.url, script, warmupSeconds);
  wrk(off.url, script, warmupSeconds); // warm-up of both (and of the broker), not reported
  const brokerProc = brokerPid(broker.dir);
  type Round = { rps: number; cpuUs: number; mainUs: number; otherUs: number; brokerCpuS: number; machineBusy: number };
  const results: Record<'on' | 'off', Round[]> = { on: [], off: [] };
  const drains: string[] = [];
  /** The broker's CPU seconds per thread group over all sink-on rounds, and those rounds' requests. */
  const brokerGroups = new Map<string, number>();
  let onRequests = 0;
  const order: ReadonlyArray<readonly ['on' | 'off', 'on' | 'off']> = [['on', 'off'], ['off', 'on']];
  for (let r = 0; r < rounds; r++) {
    for (const which of order[r % 2] ?? []) {
      const server = which === 'on' ? on : off;
      const pid = server.child.pid ?? 0;
      const [cpu0, main0, threads0, broker0, machine0] = [cpuSeconds(`/proc/${pid}/stat`), cpuSeconds(`/proc/${pid}/task/${pid}/stat`), threadCpuSeconds(pid), brokerProc ? cpuSeconds(`/proc/${brokerProc}/stat`) : NaN, machineTicks()];
      const groups0 = brokerProc ? cpuByThreadGroup(brokerProc) : new Map<string, number>();
      const rate = wrk(server.url, script);
      const machine1 = machineTicks();
      const requests = rate * seconds;
      if (which === 'on' && brokerProc) {
        for (const [name, s1] of cpuByThreadGroup(brokerProc)) brokerGroups.set(name, (brokerGroups.get(name) ?? 0) + s1 - (groups0.get(name) ?? 0));
        onRequests += requests;
      }
      results[which].push({
        rps: rate,
        cpuUs: ((cpuSeconds(`/proc/${pid}/stat`) - cpu0) / requests) * 1e6,
        mainUs: ((cpuSeconds(`/proc/${pid}/task/${pid}/stat`) - main0) / requests) * 1e6,
        otherUs: (busiestOtherThread(pid, threads0, threadCpuSeconds(pid)) / requests) * 1e6,
        brokerCpuS: brokerProc ? cpuSeconds(`/proc/${brokerProc}/stat`) - broker0 : NaN,
        machineBusy: (machine1.busy - machine0.busy) / (machine1.total - machine0.total),
      });
      if (which === 'on') {
        // The sink drains what the round left while /metrics is read: each read must be answered, and promptly.
        const reads: string[] = [];
        for (let i = 0; i < 50; i++) {
          const { ms, text } = await scrape(on);
          const buffered = metric(text, serverMetricNames.kafkaBuffered);
          reads.push(`${ms.toFixed(0)} ms (${buffered} buffered)`);
          if (buffered === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        drains.push(`round ${r + 1}: ${reads.join(', ')}`);
      }
    }
  }
  const med = (which: 'on' | 'off', f: (x: Round) => number): number => median(results[which].map(f));
  const [mOn, mOff] = [med('on', (x) => x.rps), med('off', (x) => x.rps)];
  console.log(`\nKafka sink cost: one-row predict requests, wrk ${connections} connections, ${rounds} alternating rounds of ${seconds} s after ${warmupSeconds} s of warm-up each, node ${process.version}; broker, servers and wrk on the same ${String(availableParallelism())} cores`);
  console.log('| server | req/s per round | median req/s | server CPU µs/request (all threads; main thread; busiest other thread) | broker CPU s per round | machine busy |');
  console.log('|---|---|---|---|---|---|');
  for (const which of ['off', 'on'] as const) {
    const rs = results[which];
    console.log(`| sink ${which} | ${rs.map((x) => x.rps.toFixed(0)).join(', ')} | ${med(which, (x) => x.rps).toFixed(0)} | ${med(which, (x) => x.cpuUs).toFixed(1)}; ${med(which, (x) => x.mainUs).toFixed(1)}; ${med(which, (x) => x.otherUs).toFixed(1)} | ${rs.map((x) => x.brokerCpuS.toFixed(1)).join(', ')} | ${rs.map((x) => `${(x.machineBusy * 100).toFixed(0)}%`).join(', ')} |`);
  }
  console.log(`sink on / sink off: ${(mOn / mOff).toFixed(3)} (cost ${((1 - mOn / mOff) * 100).toFixed(1)}%; target at most 10%)`);
  const [cOn, cOff] = [med('on', (x) => x.cpuUs), med('off', (x) => x.cpuUs)];
  console.log(`server CPU per request (median of rounds): sink off ${cOff.toFixed(1)} µs, sink on ${cOn.toFixed(1)} µs (${(cOn - cOff).toFixed(1)} µs, ${((cOn / cOff - 1) * 100).toFixed(1)}% more); main thread ${med('off', (x) => x.mainUs).toFixed(1)} and ${med('on', (x) => x.mainUs).toFixed(1)} µs`);
  console.log(`broker CPU per sink-on request: ${((med('on', (x) => x.brokerCpuS) / (mOn * seconds)) * 1e6).toFixed(1)} µs (median of rounds)`);
  const groups = [...brokerGroups].map(([name, s]) => [name, (s / onRequests) * 1e6] as const).filter(([, us]) => us >= 0.1).sort((a, b) => b[1] - a[1]);
  console.log(`broker CPU per sink-on request by thread group (all sink-on rounds): ${groups.map(([n, us]) => `${n} ${us.toFixed(1)}`).join(', ')} µs`);
  console.log(`/metrics of the sink-on server after each of its rounds, while the sink drained (time per read, events still buffered):\n  ${drains.join('\n  ')}`);
  const { text } = await scrape(on);
  console.log(`events: ${metric(text, serverMetricNames.kafkaEvents, { outcome: 'sent' })} sent, ${metric(text, serverMetricNames.kafkaEvents, { outcome: 'dropped' })} dropped, ${metric(text, serverMetricNames.kafkaBuffered)} still buffered at the end`);
} catch (e: unknown) {
  for (const s of servers) console.error(`server ${s.url} (exit ${JSON.stringify(await Promise.race([s.exited, Promise.resolve('running')]))}) log tail:\n${s.output().slice(-3000)}`);
  throw e;
} finally {
  for (const s of servers) await s.stop('SIGKILL');
  await broker.destroy();
  await cluster.stop();
}
