// Loop latency (issue 9, part 4; issue 18, part 5): from drift onset to the new version serving 100%, on the local
// cluster with nothing faked, split into (a) training, (b) the waits the user configured, (c) the runtime's part
// (Kubernetes controllers, pods starting), (d) operator overhead: the part that is ours, and (e) drift detection:
// with the drift trigger's default detector (Sequential) the servers' sequential test crossing its threshold and the
// operator's next read of the pods putting it in liveMetrics; with detector Window, the time the servers' sliding
// PSI window takes to hold enough new rows for PSI over the threshold (its inertia). Reported apart so it neither
// hides nor inflates the operator's part.
//
//   1. The shared loop harness (LoopStack): cluster, the real node, the operator as its own process (as the chart runs
//      it; its CPU is not shared with this process's watches and traffic), v1 trained on Seattle and served, Seattle
//      traffic with feedback. Onset waits until the pipeline's minInterval since v1's run has passed, so the
//      measured interval is the loop reacting, not a rate limit still holding from the first run.
//   2. The stationary leg: Seattle traffic for at least --stationary seconds (default 120, longer than the loop's
//      onset → 100%) before onset, with the same triggers; it must start no run, record no driftSince and set no
//      server's detector (0 false alarms); the largest evidence seen in liveMetrics is printed against the threshold.
//   3. Drift onset: traffic switches to New York days and the New York CSVs land. The clock stops when the
//      ModelDeployment reports the new version stable, no canary, all stable replicas ready.
//   4. The timeline comes from watches on the objects (LoopTimeline): first-observed times in ms, next to the
//      objects' own whole-second timestamps.
//   5. Baseline, same invocation: the retrain's exact trainer config and environment (read from its Job), run as a
//      plain `node <trainer bundle>/main.js` (built from this tree) on a copy of exactly the objects it read (its lineage) and the champion
//      it started from, in a separate bucket, twice (the fastest counts: the machine is shared and a single run
//      can be slowed by other work); plus the user-configured waits and the detection as measured. total / baseline says
//      what the loop costs over the irreducible part (direct run + waits + detection).
// Run: npx tsx bench/loop-latency.ts [--stationary 120]   (through the shared lock: flock /tmp/perennial-heavy.lock npx tsx ...)
// Exits 1 if the loop does not complete or the stationary leg raised a false alarm.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { ManagedProcess } from '../localcluster/process.js';
import { repoRoot } from '../localcluster/cluster.js';
import type { TrainingRun } from '../src/api/training-pipeline.js';
import { parseDuration } from '../src/api/duration.js';
import { artifactKey, lastRunProfileKey, versionPrefix } from '../src/shared/artifact-layout.js';
import { PatchType } from '../src/operator/runtime/kube-http.js';
import { podEnv } from '../src/shared/pod-contract.js';
import { storeFor, trainerEnv } from '../test/integration/trainer-harness.js';
import { eventually } from '../test/support/eventually.js';
import { buildBundles } from '../test/support/bundles.js';
import { LoopStack, loopBucket } from '../test/support/loop-stack.js';
import { Traffic } from '../test/support/traffic.js';
import { days } from '../test/support/weather-traffic.js';
import { loopDeployment, loopTriggers, weather, weatherPeriods, weatherPipeline } from '../test/support/weather-loop.js';
import { LoopTimeline } from './loop-latency-timeline.js';
import { LoopIncompleteError, measure, printSplit, printTimeline, sec, type BaselineRun } from './loop-latency-report.js';
import { defaultFalseAlarmRate, detectionThreshold } from '../src/shared/drift-sequential.js';

const namespace = 'latency';
const name = 'weather';
/** Direct runs of the retrain: the fastest is the baseline (the least disturbed by the machine's other work). */
const baselineRuns = 2;
const { values: args } = parseArgs({ options: { stationary: { type: 'string', default: '120' } } });
/** Seconds of Seattle traffic before onset at the least: the stationary leg, judged for false alarms. */
const stationarySeconds = Number(args.stationary);

const started = Date.now();
const say = (what: string): void => console.log(`# ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s  ${what}`);

/**
 * The operator and trainer bundles built into a private folder from this tree (another engineer's build of dist/
 * never swaps them mid-run, and a stale dist/ never runs the baseline).
 */
function operatorBundle(): { path: string; trainer: string; cleanup: () => void } {
  const out = join('.cache', 'bench-bundles', String(process.pid));
  const built = buildBundles(['operator', 'trainer'], out);
  return { path: built.operator, trainer: built.trainer, cleanup: () => rmSync(join(repoRoot, out), { recursive: true, force: true }) };
}

interface JobSpec {
  readonly spec?: { readonly template?: { readonly spec?: { readonly containers?: ReadonlyArray<{ readonly env?: ReadonlyArray<{ readonly name: string; readonly value?: string }> }> } } };
}

interface Lineage {
  readonly sources: ReadonlyArray<{ readonly bucket: string; readonly key: string }>;
  readonly startedAt?: string;
  readonly finishedAt?: string;
}

/** The retrain done directly: the Job's config and environment, a plain process, a copy of exactly its inputs. */
async function runBaseline(stack: LoopStack, run: TrainingRun, baselineBucket: string, trainer: string): Promise<BaselineRun> {
  const job = await stack.http.request<JobSpec>('GET', `/apis/batch/v1/namespaces/${namespace}/jobs/${run.name}`);
  const plain: Record<string, string> = {};
  for (const e of job.spec?.template?.spec?.containers?.[0]?.env ?? []) if (e.value !== undefined) plain[e.name] = e.value;
  const configText = plain[podEnv.trainerConfig];
  if (configText === undefined) throw new LoopIncompleteError(`Job ${run.name} has no ${podEnv.trainerConfig}`);
  const config = JSON.parse(configText) as { championVersion?: string };
  const store = storeFor(stack.cluster.info);
  const pipeline = { namespace, name };
  const lineage = JSON.parse((await store.getBuffer(loopBucket, artifactKey(pipeline, run.version ?? '', 'lineage'))).toString('utf8')) as Lineage;
  const keys = new Set<string>(lineage.sources.filter((s) => s.bucket === loopBucket).map((s) => s.key));
  // The champion it was compared with and warm-started from.
  if (config.championVersion !== undefined) for (const o of await store.list(loopBucket, versionPrefix(pipeline, config.championVersion))) keys.add(o.key);
  // The profile the schema-drift check compares with (now the retrain's own: same schema, same verdict).
  keys.add(lastRunProfileKey(pipeline));
  await stack.minio.makeBucket(baselineBucket);
  for (const key of keys) await store.put(baselineBucket, key, await store.getBuffer(loopBucket, key));
  const env = { ...plain, ...trainerEnv(stack.cluster.info, baselineBucket, config) };
  const load = loadavg()[0] ?? 0;
  const t0 = Date.now();
  const child = spawn(process.execPath, [trainer], { cwd: repoRoot, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  const wallMs = Date.now() - t0;
  if (code !== 0) throw new LoopIncompleteError(`the direct trainer run exited ${String(code)}: ${stderr.slice(-500)}`);
  const own = JSON.parse((await store.getBuffer(baselineBucket, artifactKey(pipeline, run.version ?? '', 'lineage'))).toString('utf8')) as Lineage;
  const metrics = JSON.parse((await store.getBuffer(baselineBucket, artifactKey(pipeline, run.version ?? '', 'metrics'))).toString('utf8')) as { candidate?: { metrics?: Record<string, number> } };
  const inProcessMs = own.startedAt && own.finishedAt ? Date.parse(own.finishedAt) - Date.parse(own.startedAt) : undefined;
  return { wallMs, inProcessMs, accuracy: metrics.candidate?.metrics?.['accuracy'], objects: keys.size, load };
}

interface StationaryLeg {
  maxEvidence: number;
  features: number;
  detected: string | undefined;
  windows: number;
}

/** Reads liveMetrics every couple of seconds until `untilMs`: the largest evidence and any detection. */
async function watchStationary(stack: LoopStack, untilMs: number): Promise<StationaryLeg> {
  const leg: StationaryLeg = { maxEvidence: 0, features: 0, detected: undefined, windows: 0 };
  const seen = new Set<string>();
  while (Date.now() < untilMs) {
    const live = (await stack.getMd(name)).status?.liveMetrics;
    if (live?.time !== undefined && !seen.has(live.time)) {
      seen.add(live.time);
      leg.windows += 1;
      leg.maxEvidence = Math.max(leg.maxEvidence, live.maxDriftEvidence ?? 0);
      leg.features = Math.max(leg.features, Object.keys(live.driftEvidence ?? {}).length);
      leg.detected ??= live.driftDetectedTime;
    }
    await sleep(Math.min(2000, Math.max(0, untilMs - Date.now())));
  }
  return leg;
}

async function main(): Promise<void> {
  const bundle = operatorBundle();
  const stack = await LoopStack.start({ name: 'bench-loop-latency', namespace, operator: 'none', data: { dataset: weather, periods: weatherPeriods('Seattle') } }).catch((e: unknown) => {
    bundle.cleanup();
    throw e;
  });
  const operator = new ManagedProcess({
    name: 'operator', command: process.execPath, args: [bundle.path],
    env: { ...stack.operatorEnv(), KUBECONFIG: stack.cluster.info.kubeconfigPath, PERENNIAL_LOG_LEVEL: 'info' },
    logFile: join(stack.cluster.logDir, 'operator.log'),
  });
  operator.start();
  say(`cluster, node and operator (pid ${operator.pid ?? '?'}) up; logs in ${stack.cluster.logDir}`);
  let traffic: Traffic | undefined;
  let timeline: LoopTimeline | undefined;
  try {
    await stack.create('trainingpipelines', weatherPipeline(name, loopTriggers(name), stack.namespace));
    await stack.create('modeldeployments', loopDeployment(name));
    await stack.untilMd(name, 'v1 served', (x) => x.status?.stableVersion === 'v1' && x.status.stableReadyReplicas === 2 && x.status.phase === 'Healthy');
    say('v1 trained on Seattle, blessed and serving on 2 pods');
    traffic = new Traffic({ endpoints: () => stack.endpoints(name), feedback: stack.feedbackTarget(name), model: name, source: days('Seattle') });
    traffic.start();
    const trafficFrom = Date.now();
    let tp = await stack.getTp(name);
    const quietUntil = Date.parse(tp.status?.lastTriggerTime ?? '') + parseDuration(tp.spec.triggers.minInterval) + 1000;
    const firstLive = Date.now() + 3000;
    await stack.untilMd(name, 'v1 live metrics on Seattle', (x) => Date.parse(x.status?.liveMetrics?.time ?? '') > firstLive && (x.status?.liveMetrics?.labelledSamples ?? 0) >= 30);
    const stationaryUntil = Math.max(quietUntil, trafficFrom + stationarySeconds * 1000);
    say(`stationary leg: Seattle traffic for ${sec(stationaryUntil - trafficFrom)} s in all (minInterval ${tp.spec.triggers.minInterval} since v1's run, --stationary ${stationarySeconds})`);
    const leg = await watchStationary(stack, stationaryUntil);
    const stationaryMs = Date.now() - trafficFrom;
    const stationaryRows = traffic.counts.requests * 4;
    tp = await stack.getTp(name);
    const threshold = leg.features > 0 ? detectionThreshold(leg.features, tp.spec.triggers.drift?.falseAlarmRate ?? defaultFalseAlarmRate) : NaN;
    say(`stationary leg over: ${sec(stationaryMs)} s, about ${stationaryRows} Seattle rows over 2 pods, ${leg.windows} liveMetrics windows; largest evidence ${leg.maxEvidence.toFixed(2)} of ${threshold.toFixed(2)} nats; detected ${leg.detected ?? 'never'}; runs ${tp.status?.runs?.length ?? 0} (v1's), driftSince ${tp.status?.driftSince ?? '-'}`);
    if ((tp.status?.runs?.length ?? 0) !== 1 || tp.status?.driftSince !== undefined || tp.status?.performanceSince !== undefined || leg.detected !== undefined) {
      throw new LoopIncompleteError(`a false alarm on Seattle traffic before onset: runs ${JSON.stringify(tp.status?.runs?.map((r) => r.name))}, driftSince ${tp.status?.driftSince ?? '-'}, detected ${leg.detected ?? '-'}`);
    }
    timeline = new LoopTimeline(stack.kc, namespace, name);
    await timeline.start();
    await sleep(1000); // the watches' initial lists delivered: what follows is new

    // Drift onset.
    const onsetMs = Date.now();
    traffic.source = days('New York');
    await stack.upload(weather, weatherPeriods('New York'));
    say(`drift onset: New York traffic, New York CSV objects landed (after ${sec(onsetMs - trafficFrom)} s of Seattle traffic)`);
    tp = await stack.untilTp(name, 'a drift or performance run', (x) => (x.status?.runs ?? []).some((r) => r.trigger === 'Drift' || r.trigger === 'Performance'), 240_000);
    const retrainName = tp.status?.runs?.[0]?.name ?? '';
    say(`retrain ${retrainName} started: ${tp.status?.runs?.[0]?.reason ?? ''}`);
    tp = await stack.untilTp(name, `${retrainName} to end`, (x) => x.status?.runs?.find((r) => r.name === retrainName)?.outcome !== 'Running', 300_000);
    const run = tp.status?.runs?.find((r) => r.name === retrainName);
    if (!run || run.outcome !== 'Blessed') throw new LoopIncompleteError(`the retrain ended ${run?.outcome ?? '?'}: ${run?.message ?? ''}`);
    const version = run.version ?? '';
    say(`${version} blessed (holdout accuracy ${run.metrics?.['accuracy']?.toFixed(3) ?? '?'} vs v1 ${run.championMetrics?.['accuracy']?.toFixed(3) ?? '?'})`);
    const md = await stack.untilMd(name, `${version} at 100%`, (x) => x.status?.stableVersion === version && x.status.canaryVersion === undefined && x.status.stableReadyReplicas === x.spec.server.replicas, 300_000);
    say(`${version} stable on every replica`);
    const tl = timeline;
    await eventually('the watch to see it too', () => tl.get(`md:done:${version}`) !== undefined, 10_000);
    // The clock has stopped: no further run may compete with the baseline for CPU. (New York traffic keeps the
    // drift trigger firing against the new version too, once minInterval has passed since the retrain.)
    await stack.http.request('PATCH', `/apis/perennial.dev/v1alpha1/namespaces/${namespace}/trainingpipelines/${name}`, {
      contentType: PatchType.merge, body: { spec: { suspend: true } },
    });
    // After the clock: how soon the stable Service's endpoints hold only the new version (not part of the total).
    await sleep(3000);
    timeline.stop();
    const measured = measure(timeline, onsetMs, tp, md, run);
    printTimeline(timeline, onsetMs, measured, run);

    const lineage = JSON.parse((await storeFor(stack.cluster.info).getBuffer(loopBucket, artifactKey({ namespace, name }, version, 'lineage'))).toString('utf8')) as Lineage;
    const running = timeline.get(`pod:${measured.trainerPod}:running`)?.atMs;
    const trainer = {
      startupMs: running !== undefined && lineage.startedAt ? Date.parse(lineage.startedAt) - running : undefined,
      inProcessMs: lineage.startedAt && lineage.finishedAt ? Date.parse(lineage.finishedAt) - Date.parse(lineage.startedAt) : undefined,
    };
    const baselines: BaselineRun[] = [];
    for (let i = 1; i <= baselineRuns; i++) {
      say(`baseline ${i}/${baselineRuns}: ${version}'s run again as a plain process (traffic still flowing, as during the retrain)`);
      baselines.push(await runBaseline(stack, run, `loop-baseline-${i}`, bundle.trainer));
    }
    await traffic.stop();
    say(`traffic: ${traffic.counts.requests} requests, ${traffic.counts.failed} failed`);
    const later = (await stack.getTp(name)).status?.runs?.filter((r) => r.name !== run.name && Date.parse(r.startTime ?? '') > onsetMs) ?? [];
    if (later.length > 0) say(`warning: run(s) ${later.map((r) => r.name).join(', ')} started after the clock and ran beside the baseline`);
    printSplit(timeline, measured, baselines, run, trainer);
    console.log(`stationary leg (before onset, same triggers): ${sec(stationaryMs)} s of Seattle traffic (${stationaryMs >= measured.split.totalMs ? 'longer than' : 'SHORTER than'} the loop's ${sec(measured.split.totalMs)} s), about ${stationaryRows} rows: 0 false alarms (largest evidence ${leg.maxEvidence.toFixed(2)} of ${threshold.toFixed(2)} nats)`);
  } finally {
    timeline?.stop();
    await traffic?.stop();
    await operator.stop().catch(() => undefined);
    await stack.stop();
    bundle.cleanup();
  }
}

main().then(() => process.exit(0), (e: unknown) => {
  console.error(`\nloop latency: the loop did not complete: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  process.exit(1);
});
