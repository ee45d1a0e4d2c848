// Reliability under faults (issue 9, part 4): the weather loop of the closed-loop e2e test — v1 trained on Seattle
// and served, traffic with feedback, New York arrives, a drift/performance retrain, canary, promotion — run twice
// in one invocation on a fresh local cluster each: first clean (the baseline), then with faults injected at seeded
// random points:
//   - the operator (the real bundle in a child process, leader election on) SIGKILLed and restarted, at least once
//     each when a run starts, while a trainer trains, just after a run's Job completes, mid-canary and around the
//     promotion, plus at random moments; half the restarts as a new pod (it waits for the old Lease to expire);
//   - MinIO stopped for seconds while traffic flows (servers spill their inference logs, then flush them) and
//     while the retrain's trainer runs (exit 75, the Job retries the pod);
//   - the API server stopped and restarted mid-canary (operator, node, kube-controller-manager recover).
// Then it counts, side by side for both runs: lost runs, runs failed, duplicate training Jobs, lost and duplicated
// inference-log records (predictions and feedback), failed requests, and the loop's duration (faulted / clean is
// the cost of the faults). Exits 1 when any count is not zero.
//   flock /tmp/perennial-loop.lock npx tsx bench/reliability.ts [--seed N] [--only faulted]
// Traffic reaches the servers through the EndpointSlices as kube-proxy would, keeping the last endpoints it read
// while the API server is down (kube-proxy keeps its rules too).
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Label } from '../src/api/labels.js';
import { feedbackPrefix, predictionsPrefix, versionsPrefix } from '../src/shared/artifact-layout.js';
import { parseLogRecord } from '../src/shared/inference-log.js';
import { MinioStore } from '../src/storage/minio-store.js';
import { mulberry32 as seeded } from '../src/shared/random.js';
import { buildBundles } from '../test/support/bundles.js';
import { eventually } from '../test/support/eventually.js';
import { LoopStack, loopBucket } from '../test/support/loop-stack.js';
import { Traffic, type TrafficCounts } from '../test/support/traffic.js';
import { days } from '../test/support/weather-traffic.js';
import { loopDeployment, loopTriggers, weather, weatherPeriods, weatherPipeline } from '../test/support/weather-loop.js';
import { SupervisedOperator } from './reliability-operator.js';
import { tallyLog, tallyRuns, type LogTally, type RunTally } from './reliability-tally.js';
import { jobFinished, LoopWatch, type LoopView } from './reliability-watch.js';

const namespace = 'loop';
const name = 'weather';
/** The canary's analysis step: longer than the e2e's 15 s, so a kill and an API server restart both fit inside it. */
const analysisMs = 30_000;
/** Seattle traffic before New York arrives: the MinIO outage under traffic happens in it. */
const seattleHoldMs = 25_000;

type Mode = 'clean' | 'faulted';

interface Outcome {
  readonly mode: Mode;
  readonly completed: boolean;
  readonly error: string | undefined;
  readonly loopMs: number;
  readonly runs: RunTally;
  readonly runSummary: string;
  readonly predictions: LogTally;
  readonly feedback: LogTally;
  readonly traffic: TrafficCounts;
  readonly kills: number;
  readonly selfExits: number;
  readonly faults: readonly string[];
  readonly failedTrainerPods: number;
}

function argValue(flag: string): string | undefined {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** The endpoints of the stable Service; the last list read while the API server cannot be asked. */
function lastKnown(read: () => Promise<string[]>): () => Promise<string[]> {
  let last: string[] = [];
  return async () => {
    try {
      last = await read();
    } catch {
      // kube-proxy keeps the rules it has while the API server is away; so does this client.
    }
    return last;
  };
}

/** The ids of every record of one kind under a log prefix; objects are cached by key (a batch key is written once). */
class LogReader {
  private readonly cache = new Map<string, string[]>();
  constructor(private readonly store: MinioStore, private readonly prefix: string, private readonly kind: 'prediction' | 'feedback') {}

  async ids(): Promise<string[]> {
    for (const o of await this.store.list(loopBucket, this.prefix)) {
      if (this.cache.has(o.key) || !o.key.endsWith('.jsonl')) continue;
      const text = (await this.store.getBuffer(loopBucket, o.key)).toString('utf8');
      const ids: string[] = [];
      for (const line of text.split('\n')) {
        if (line.trim() === '') continue;
        const r = parseLogRecord(JSON.parse(line));
        if (r?.kind === this.kind) ids.push(r.id);
      }
      this.cache.set(o.key, ids);
    }
    return [...this.cache.values()].flat();
  }
}

/** Faults one at a time (a fault waits for the one in progress), each printed with the loop's state. */
class FaultInjector {
  private chain: Promise<void> = Promise.resolve();
  private busy = false;
  readonly done: string[] = [];

  constructor(private readonly stack: LoopStack, private readonly operator: SupervisedOperator, private readonly watch: LoopWatch,
    private readonly rand: () => number, private readonly print: (line: string) => void) {}

  private run(what: string, fn: () => Promise<string>, skipIfBusy = false): Promise<void> {
    if (skipIfBusy && this.busy) {
      this.print(`fault skipped (another in progress): ${what}`);
      return Promise.resolve();
    }
    const next = this.chain.then(async () => {
      this.busy = true;
      this.print(`FAULT ${what}\n         state: ${this.watch.describe()}`);
      try {
        const detail = await fn();
        this.done.push(what);
        this.print(`      ${detail}`);
      } catch (e: unknown) {
        this.print(`FAULT ${what} could not be injected: ${e instanceof Error ? e.message : String(e)}`);
      } finally {
        this.busy = false;
      }
    });
    this.chain = next;
    return next;
  }

  kill(what: string, skipIfBusy = false): Promise<void> {
    return this.run(`operator SIGKILL ${what}`, async () => {
      const newPod = this.rand() < 0.5;
      const before = this.operator.podName;
      await this.operator.kill(newPod);
      return newPod ? `${before} killed; replacement pod ${this.operator.podName} must wait for the Lease` : `${before} killed; its container restarted (same Lease identity)`;
    }, skipIfBusy);
  }

  minioOutage(what: string, ms: number): Promise<void> {
    return this.run(`MinIO stopped ${what}`, async () => {
      const at = Date.now();
      await this.stack.cluster.stopMinio();
      await sleep(ms);
      await this.stack.cluster.startMinio();
      return `down ${((Date.now() - at) / 1000).toFixed(1)} s`;
    });
  }

  apiServerOutage(what: string, ms: number): Promise<void> {
    return this.run(`API server stopped ${what}`, async () => {
      const at = Date.now();
      await this.stack.cluster.stopApiServer();
      await sleep(ms);
      await this.stack.cluster.startApiServer();
      return `down ${((Date.now() - at) / 1000).toFixed(1)} s`;
    });
  }

  /** Resolves when every fault asked for so far has ended (MinIO and the API server are up again). */
  async settled(): Promise<void> {
    for (;;) {
      const c = this.chain;
      await c;
      if (c === this.chain) return;
    }
  }
}

/** The targeted and random faults of the faulted run, each an agent waiting for its moment; abort() ends them. */
function startFaultAgents(faults: FaultInjector, watch: LoopWatch, rand: () => number, signal: AbortSignal): Promise<unknown> {
  const between = (lo: number, hi: number): number => Math.round(lo + rand() * (hi - lo));
  const at = async (what: (v: LoopView) => boolean): Promise<LoopView | undefined> => watch.until(what, signal);
  const pause = async (ms: number): Promise<boolean> => {
    await sleep(ms, undefined, { signal }).catch(() => undefined);
    return !signal.aborted;
  };
  const retrainRun = (v: LoopView): string | undefined => {
    const c = v.tp?.status?.currentRun;
    return c !== undefined && c !== `${name}-1` ? c : undefined;
  };
  const running = (v: LoopView, run: string): boolean => v.pods.some((p) => p.metadata?.labels?.[Label.run] === run && p.status?.phase === 'Running');
  const jobDone = (v: LoopView, run: string): boolean => jobFinished(v.jobs.find((j) => j.metadata?.name === run));
  // Delays are drawn up front (and the injector and the Seattle outage draw from generators of their own), so one
  // seed gives the same fault points whatever order the agents wake in.
  const d = {
    v1Start: between(0, 1500), v1Train: between(500, 3000), v1Done: between(0, 1500),
    v2Start: between(0, 300), v2MinioAfter: between(1000, 4000), v2MinioFor: between(6000, 10_000), v2Done: between(0, 1500),
    canaryKill: between(1000, 5000), apiAfter: between(3000, 8000), apiFor: between(6000, 14_000),
    beforePromote: between(0, 1500), afterPromote: between(0, 1000), random1: between(10_000, 150_000), random2: between(10_000, 150_000),
  };
  const agents: Array<Promise<unknown>> = [
    (async () => { if (await pause(d.v1Start)) await faults.kill(`${d.v1Start} ms after the pipeline was applied (the first run starting)`); })(),
    (async () => {
      if (await at((v) => running(v, `${name}-1`)) && await pause(d.v1Train)) await faults.kill(`training in progress (${name}-1's trainer running ${d.v1Train} ms)`);
    })(),
    (async () => {
      if (await at((v) => jobDone(v, `${name}-1`)) && await pause(d.v1Done)) await faults.kill(`${d.v1Done} ms after ${name}-1's Job finished (around the blessing)`);
    })(),
    (async () => {
      const v = await at((x) => retrainRun(x) !== undefined);
      const run = v === undefined ? undefined : retrainRun(v);
      if (run === undefined) return;
      if (await pause(d.v2Start)) await faults.kill(`${d.v2Start} ms after ${run} was claimed in status (its Job about to be / just created)`);
      if (await at((x) => running(x, run)) && await pause(d.v2MinioAfter)) {
        await faults.minioOutage(`while ${run}'s trainer runs (${d.v2MinioAfter} ms in)`, d.v2MinioFor);
      }
      if (await at((x) => jobDone(x, run)) && await pause(d.v2Done)) await faults.kill(`${d.v2Done} ms after ${run}'s Job finished (around the blessing)`);
    })(),
    (async () => {
      if (await at((v) => v.md?.status?.canaryVersion !== undefined) && await pause(d.canaryKill)) await faults.kill(`mid-canary (${d.canaryKill} ms after the canary started)`);
    })(),
    (async () => {
      if (await at((v) => v.md?.status?.canaryVersion !== undefined && (v.md.status.currentStep ?? 0) >= 1) && await pause(d.apiAfter)) {
        await faults.apiServerOutage(`mid-canary (${d.apiAfter} ms into the analysis step)`, d.apiFor);
      }
    })(),
    (async () => {
      // Just before the promotion is recorded: at the end of the analysis window as the status gives it.
      const v = await at((x) => x.md?.status?.canaryVersion !== undefined && (x.md.status.currentStep ?? 0) >= 1 && x.md.status.stepStartTime !== undefined);
      const start = Date.parse(v?.md?.status?.stepStartTime ?? '');
      if (v === undefined || !Number.isFinite(start)) return;
      const wait = start + analysisMs - d.beforePromote - Date.now();
      if (await pause(Math.max(0, wait))) await faults.kill(`during promotion (${d.beforePromote} ms before the analysis window ends)`);
    })(),
    (async () => {
      const v1Stable = (x: LoopView): boolean => x.md?.status?.stableVersion === 'v1';
      if (!(await at(v1Stable))) return;
      if (await at((x) => x.md?.status?.stableVersion !== undefined && !v1Stable(x)) && await pause(d.afterPromote)) {
        await faults.kill(`during promotion (${d.afterPromote} ms after the stable version switched)`);
      }
    })(),
    (async () => { if (await pause(d.random1)) await faults.kill(`at a random moment (${d.random1} ms after apply)`, true); })(),
    (async () => { if (await pause(d.random2)) await faults.kill(`at a random moment (${d.random2} ms after apply)`, true); })(),
  ];
  return Promise.all(agents);
}

async function scenario(mode: Mode, seed: number): Promise<Outcome> {
  const started = Date.now();
  const print = (line: string): void => console.log(`# [${mode}] ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s  ${line}`);
  const rand = seeded(seed);
  const randSeattle = seeded(seed + 1);
  const stack = await LoopStack.start({
    name: `bench-reliability-${mode}`, namespace, operator: 'none', data: { dataset: weather, periods: weatherPeriods('Seattle') },
    operatorEnv: { PERENNIAL_LEADER_ELECT: 'true', PERENNIAL_LEASE_NAMESPACE: namespace, PERENNIAL_LOG_LEVEL: 'info' },
  });
  const operator = new SupervisedOperator({
    env: { ...stack.operatorEnv(), KUBECONFIG: stack.cluster.info.kubeconfigPath, PERENNIAL_HEALTH_PORT: '0' },
    logDir: stack.cluster.logDir, report: print,
  });
  const watch = new LoopWatch(stack.kc, stack.http, namespace, name);
  const traffic = new Traffic({ endpoints: lastKnown(() => stack.endpoints(name)), feedback: { ...stack.feedbackTarget(name), endpoints: lastKnown(() => stack.feedbackTarget(name).endpoints()) }, model: name, source: days('Seattle') });
  const store = new MinioStore({ endPoint: stack.s3.endPoint, port: stack.s3.port, useSSL: false, accessKey: stack.s3.accessKey, secretKey: stack.s3.secretKey, region: stack.s3.region });
  const faults = new FaultInjector(stack, operator, watch, seeded(seed + 2), print);
  const stopAgents = new AbortController();
  setMaxListeners(50, stopAgents.signal); // one abort listener per waiting agent
  let agents: Promise<unknown> = Promise.resolve();
  let completed = false;
  let error: string | undefined;
  let loopMs = 0;
  try {
    operator.start();
    await watch.start();
    print(`cluster, node and operator (child process ${operator.podName}, leader election on) up; logs in ${stack.cluster.logDir}`);
    const t0 = Date.now();
    if (mode === 'faulted') agents = startFaultAgents(faults, watch, rand, stopAgents.signal);
    await stack.create('trainingpipelines', weatherPipeline(name, loopTriggers(name), stack.namespace));
    await stack.create('modeldeployments', loopDeployment(name, `${analysisMs / 1000}s`));
    print('TrainingPipeline and ModelDeployment applied');
    await stack.untilTp(name, 'v1 blessed', (x) => x.status?.championVersion === 'v1', 300_000);
    print('v1 blessed');
    await stack.untilMd(name, 'v1 served', (x) => x.status?.stableVersion === 'v1' && x.status.stableReadyReplicas === 2 && x.status.phase === 'Healthy', 300_000);
    print('v1 serving on 2 pods; Seattle traffic with feedback starts');
    traffic.start();
    if (mode === 'faulted') {
      const after = Math.round(2000 + randSeattle() * 4000);
      const down = Math.round(5000 + randSeattle() * 4000);
      await sleep(after);
      await faults.minioOutage(`under Seattle traffic (${after} ms after it started)`, down);
      await sleep(Math.max(0, seattleHoldMs - after - down));
    } else {
      await sleep(seattleHoldMs);
    }
    traffic.source = days('New York');
    await eventually('New York uploaded', async () => { await stack.upload(weather, weatherPeriods('New York')); return true; }, 60_000, 1000);
    print('New York traffic and New York CSV objects start flowing');
    const tp = await stack.untilTp(name, 'a retrain', (x) => (x.status?.runs ?? []).some((r) => r.trigger === 'Drift' || r.trigger === 'Performance'), 300_000);
    const retrain = tp.status?.runs?.[0];
    print(`retrain ${retrain?.name ?? '?'} (${retrain?.version ?? '?'}) started by ${retrain?.trigger ?? '?'}`);
    const md = await stack.untilMd(name, 'a retrained champion promoted', (x) => {
      const s = x.status;
      return s?.stableVersion !== undefined && s.stableVersion !== 'v1' && s.canaryVersion === undefined && s.phase === 'Healthy';
    }, 480_000);
    loopMs = Date.now() - t0;
    completed = true;
    print(`${md.status?.stableVersion ?? '?'} promoted: loop ${(loopMs / 1000).toFixed(1)} s from apply`);
  } catch (e: unknown) {
    error = e instanceof Error ? e.message : String(e);
    loopMs = Date.now() - started;
    print(`the loop did not complete: ${error}`);
  }
  // A fault drawn for the moment the loop completes (just after the promotion) still gets its turn.
  if (completed && mode === 'faulted') await sleep(2000);
  stopAgents.abort();
  await agents;
  await faults.settled();
  try {
    return await tally(mode, stack, watch, traffic, store, print, { completed, error, loopMs, kills: operator.kills, selfExits: operator.selfExits, faults: faults.done });
  } finally {
    await watch.stop();
    await operator.stop();
    await stack.stop();
  }
}

/** Everything counted once the loop is at rest: runs and Jobs, the inference logs in the store, the traffic. */
async function tally(mode: Mode, stack: LoopStack, watch: LoopWatch, traffic: Traffic, store: MinioStore, print: (line: string) => void,
  loop: Pick<Outcome, 'completed' | 'error' | 'loopMs' | 'kills' | 'selfExits' | 'faults'>): Promise<Outcome> {
  await traffic.stop();
  const c = traffic.counts;
  print(`traffic stopped: ${c.requests} requests, ${c.failed} failed; ${c.feedback} feedback posts, ${c.feedbackFailed} failed`);

  // Let a run still in progress end, then read everything at rest.
  await stack.untilTp(name, 'no run in progress', (x) => x.status?.currentRun === undefined, 240_000).catch((e: unknown) => print(String(e)));
  const tpEnd = await eventually('the pipeline', () => stack.getTp(name), 60_000, 1000);
  const published = (await store.list(loopBucket, versionsPrefix({ namespace, name })))
    .map((o) => /versions\/([^/]+)\/manifest\.json$/.exec(o.key)?.[1]).filter((v): v is string => v !== undefined);
  const runs = tallyRuns(name, tpEnd.spec.historyLimit, tpEnd.status ?? {}, watch.seenJobs(), published);
  const runSummary = (tpEnd.status?.runs ?? []).slice().reverse().map((r) => `${r.name}/${r.version ?? '?'} ${r.trigger} ${r.outcome}`).join(', ');
  print(`runs: ${runSummary}; Jobs seen: ${watch.seenJobs().map((j) => j.name).join(', ')}; published: ${published.join(', ')}`);

  // The servers write a batch every 5 s (spilled ones on a backoff up to 15 s): wait until every answered id is in.
  const predictionLog = new LogReader(store, predictionsPrefix({ namespace, name }), 'prediction');
  const feedbackLog = new LogReader(store, feedbackPrefix({ namespace, name }), 'feedback');
  let predictions = tallyLog(c.predictionIds, []);
  let feedback = tallyLog(c.predictionIds, []);
  const flushDeadline = Date.now() + 90_000;
  while (Date.now() < flushDeadline) {
    try {
      predictions = tallyLog(c.predictionIds, await predictionLog.ids());
      feedback = tallyLog(c.predictionIds, await feedbackLog.ids());
      if (predictions.missing === 0 && feedback.missing === 0) break;
    } catch (e: unknown) {
      print(`reading the logs: ${e instanceof Error ? e.message : String(e)}`);
    }
    await sleep(2000);
  }
  print(`inference logs: predictions missing ${predictions.missing}, duplicated ${predictions.duplicates}; feedback missing ${feedback.missing}, duplicated ${feedback.duplicates}`);

  return { mode, ...loop, runs, runSummary, predictions, feedback, traffic: c, failedTrainerPods: watch.failedTrainerPods() };
}

function report(outcomes: readonly Outcome[]): number {
  const col = (s: string | number): string => String(s).padStart(10);
  const row = (label: string, f: (o: Outcome) => string | number): void => console.log(`${label.padEnd(34)}${outcomes.map((o) => col(f(o))).join('')}`);
  console.log(`\n${''.padEnd(34)}${outcomes.map((o) => col(o.mode)).join('')}`);
  row('loop completed (apply → promoted)', (o) => (o.completed ? 'yes' : 'NO'));
  row('loop duration (s)', (o) => (o.loopMs / 1000).toFixed(1));
  row('operator kills / own exits', (o) => `${o.kills} / ${o.selfExits}`);
  row('other faults', (o) => o.faults.filter((f) => !f.startsWith('operator')).length);
  row('trainer pods failed and retried', (o) => o.failedTrainerPods);
  row('runs (blessed or rejected)', (o) => o.runSummary.split(', ').filter((r) => / (Blessed|Rejected)$/.test(r)).length);
  row('lost runs', (o) => o.runs.lost.length);
  row('runs failed', (o) => o.runs.failed.length);
  row('duplicate Jobs', (o) => o.runs.duplicateJobs);
  row('lost prediction records', (o) => o.predictions.missing);
  row('duplicate prediction records', (o) => o.predictions.duplicates);
  row('lost feedback records', (o) => o.feedback.missing);
  row('duplicate feedback records', (o) => o.feedback.duplicates);
  row('failed requests', (o) => o.traffic.failed);
  row('failed feedback posts', (o) => o.traffic.feedbackFailed);
  row('requests answered', (o) => o.traffic.requests - o.traffic.failed);
  row('prediction ids answered', (o) => o.traffic.predictionIds.length);
  const clean = outcomes.find((o) => o.mode === 'clean');
  const faulted = outcomes.find((o) => o.mode === 'faulted');
  if (clean?.completed && faulted?.completed) {
    console.log(`\ncost of the faults: faulted / clean loop duration = ${(faulted.loopMs / clean.loopMs).toFixed(2)}`);
  }
  let bad = 0;
  for (const o of outcomes) {
    const problems = [
      ...(o.completed ? [] : [`loop did not complete: ${o.error ?? ''}`]),
      ...o.runs.lost.map((x) => `lost run: ${x}`), ...o.runs.failed.map((x) => `run failed: ${x}`),
      ...o.runs.duplicateJobNotes.map((x) => `duplicate Job: ${x}`),
      ...(o.predictions.missing + o.predictions.duplicates > 0 ? [`prediction log: ${o.predictions.missing} missing (e.g. ${o.predictions.firstMissing.join(', ')}), ${o.predictions.duplicates} duplicated`] : []),
      ...(o.feedback.missing + o.feedback.duplicates > 0 ? [`feedback log: ${o.feedback.missing} missing (e.g. ${o.feedback.firstMissing.join(', ')}), ${o.feedback.duplicates} duplicated`] : []),
      ...(o.traffic.failed + o.traffic.feedbackFailed > 0 ? [`${o.traffic.failed} failed requests, ${o.traffic.feedbackFailed} failed feedback posts; first errors: ${o.traffic.errors.slice(0, 5).join(' | ')}`] : []),
    ];
    for (const p of problems) console.log(`[${o.mode}] ${p}`);
    bad += problems.length;
  }
  const faulted0 = faulted?.faults ?? [];
  if (faulted) console.log(`\nfaults injected (${faulted0.length}):\n${faulted0.map((f) => `  - ${f}`).join('\n')}`);
  return bad === 0 ? 0 : 1;
}

async function main(): Promise<void> {
  const seedText = argValue('--seed');
  const seed = seedText !== undefined ? Number(seedText) : Date.now() % 1_000_000;
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got ${String(seedText)}`);
  const only = argValue('--only');
  console.log(`# reliability under faults: seed ${seed} (repeat with --seed ${seed})`);
  buildBundles(['operator']);
  const modes: Mode[] = only === 'faulted' || only === 'clean' ? [only] : ['clean', 'faulted'];
  const outcomes: Outcome[] = [];
  for (const mode of modes) outcomes.push(await scenario(mode, seed));
  process.exitCode = report(outcomes);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
