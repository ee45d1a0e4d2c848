// The cost of the Kafka sink (spec.server.kafka) on the model server's throughput, side by side in one run:
//   sink on   the server bundle publishing every prediction as a CloudEvent to a real Kafka broker (KRaft, the
//             jars of scripts/kafka-jars.sh) on this machine, besides logging to MinIO as always
//   sink off  the same bundle, model and row with the sink off
// Both serve the model the real trainer publishes from the Seattle weather data; one-row POST
// /v1/models/weather:predict under wrk at 64 connections, BENCH_ROUNDS alternating rounds of BENCH_SECONDS each,
// medians compared. The broker, both servers and wrk share the machine's cores, so the broker's own work is part of
// the req/s cost measured (on a real deployment it runs elsewhere); the server's own CPU per request (from /proc) is
// printed beside it: the sink's cost to the pod. At the end: events sent and dropped by the sink.
// Run:
//   npx tsx bench/server-kafka.ts        (BENCH_SECONDS=10, BENCH_ROUNDS=3)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { LocalCluster } from '../localcluster/cluster.js';
import { podEnv } from '../src/shared/pod-contract.js';
import { parsePrometheusText, serverMetricNames } from '../src/shared/server-metrics.js';
import { storeFor } from '../test/integration/trainer-harness.js';
import { KafkaBroker } from '../test/support/kafka-broker.js';
import { quickTraining, serverEnv, startServer, trainWeatherModel, waitReady, weatherInstances, type RunningServer } from '../test/support/served-model.js';

const seconds = Number(process.env['BENCH_SECONDS'] ?? 10);
const rounds = Number(process.env['BENCH_ROUNDS'] ?? 3);
const connections = 64;

function wrk(url: string, script: string): number {
  const out = execFileSync('wrk', ['-t', '2', '-c', String(connections), '-d', `${seconds}s`, '-s', script, `${url}/v1/models/weather:predict`], { encoding: 'utf8', timeout: (seconds + 30) * 1000 });
  if (/Non-2xx or 3xx responses/.test(out)) throw new Error(`non-2xx answers:\n${out}`);
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
function cpuSeconds(pid: number | undefined): number {
  const fields = readFileSync(`/proc/${String(pid)}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime and stime, in clock ticks of 1/100 s
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function metric(s: RunningServer, name: string, labels: Record<string, string>): Promise<number> {
  // A fresh connection: an idle keep-alive one from before the load may be closed by the server as it is reused.
  const samples = parsePrometheusText(await (await fetch(`${s.url}/metrics`, { headers: { connection: 'close' } })).text());
  return samples.filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v)).reduce((a, x) => a + x.value, 0);
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
  wrk(on.url, script);
  wrk(off.url, script); // warm-up of both, not reported
  const rps: Record<'on' | 'off', number[]> = { on: [], off: [] };
  const cpuPerRequestUs: Record<'on' | 'off', number[]> = { on: [], off: [] };
  const order: ReadonlyArray<readonly ['on' | 'off', 'on' | 'off']> = [['on', 'off'], ['off', 'on']];
  for (let r = 0; r < rounds; r++) {
    for (const which of order[r % 2] ?? []) {
      const server = which === 'on' ? on : off;
      const cpuBefore = cpuSeconds(server.child.pid);
      const rate = wrk(server.url, script);
      rps[which].push(rate);
      // The server's own CPU per request: the sink's cost to the pod, apart from the broker's use of the same cores.
      cpuPerRequestUs[which].push(((cpuSeconds(server.child.pid) - cpuBefore) / (rate * seconds)) * 1e6);
    }
  }
  const [mOn, mOff] = [median(rps.on), median(rps.off)];
  console.log(`\nKafka sink cost: one-row predict requests, wrk ${connections} connections, ${rounds} alternating rounds of ${seconds} s, node ${process.version}; broker, servers and wrk on the same cores`);
  console.log('| server | req/s per round | median req/s |');
  console.log('|---|---|---|');
  console.log(`| sink off | ${rps.off.map((x) => x.toFixed(0)).join(', ')} | ${mOff.toFixed(0)} |`);
  console.log(`| sink on | ${rps.on.map((x) => x.toFixed(0)).join(', ')} | ${mOn.toFixed(0)} |`);
  console.log(`sink on / sink off: ${(mOn / mOff).toFixed(3)} (cost ${((1 - mOn / mOff) * 100).toFixed(1)}%; target at most 10%)`);
  const [cOn, cOff] = [median(cpuPerRequestUs.on), median(cpuPerRequestUs.off)];
  console.log(`server CPU per request (median of rounds): sink off ${cOff.toFixed(1)} µs, sink on ${cOn.toFixed(1)} µs (${((cOn / cOff - 1) * 100).toFixed(1)}% more)`);
  const sent = await metric(on, serverMetricNames.kafkaEvents, { outcome: 'sent' });
  const dropped = await metric(on, serverMetricNames.kafkaEvents, { outcome: 'dropped' });
  const buffered = await metric(on, serverMetricNames.kafkaBuffered, {});
  console.log(`events: ${sent} sent, ${dropped} dropped, ${buffered} still buffered at the end`);
} catch (e: unknown) {
  for (const s of servers) console.error(`server ${s.url} (exit ${JSON.stringify(await Promise.race([s.exited, Promise.resolve('running')]))}) log tail:\n${s.output().slice(-3000)}`);
  throw e;
} finally {
  for (const s of servers) await s.stop('SIGKILL');
  await broker.destroy();
  await cluster.stop();
}
