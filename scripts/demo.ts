// `make demo`: the closed loop of issue 9 played for a person on the local cluster, nothing faked: the real control
// plane (etcd, kube-apiserver, kube-controller-manager, MinIO), a real node (kubelet, containerd, kube-proxy, CoreDNS)
// running the images built from the Dockerfiles, the operator installed with `helm install charts/perennial` (two
// replicas, one leading), and client traffic with feedback labels. Three acts:
//   1. v1 is trained on Seattle in a GPU Job, blessed and served on 2 pods; Seattle traffic with feedback.
//   2. New York arrives (traffic and CSV objects): drift and falling live accuracy fire a retrain on the fed-back
//      data; v2 is evaluated against v1 on the same holdout, blessed, canaried through the live gates, promoted,
//      and live accuracy on New York recovers.
//   3. A deliberately bad candidate is blessed with relaxed training gates, canaried, failed by a live gate and
//      rolled back on its own, the stable version untouched.
// Then a summary (timeline, requests, versions); the traffic and the status lines go on until Ctrl-C, so the person
// can look around with kubectl. Ctrl-C at any moment stops everything: no process, network namespace or data left,
// only the logs. `--exit-after-scenario` exits after the summary instead: 0 when every step happened and no request
// failed (test/e2e/demo.test.ts runs it that way, so the demo cannot rot).
//
// Milestones print as `[  73 s] v2 canary at 50%`, status lines (when the state changes, at most every 3 s) as
// `[  73 s] · pipeline ... | deployment ... | live ... | requests ...`.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from '../localcluster/cluster.js';
import type { ModelDeployment } from '../src/api/model-deployment.js';
import type { TrainingPipeline, TrainingRun } from '../src/api/training-pipeline.js';
import { parseDuration } from '../src/api/duration.js';
import { PatchType } from '../src/operator/runtime/kube-http.js';
import { artifactKey } from '../src/shared/artifact-layout.js';
import { parseEvaluationReport, type EvaluationReport } from '../src/shared/evaluation-report.js';
import { buildBundles } from '../test/support/bundles.js';
import { operatorLogs, operatorRelease } from '../test/support/operator-chart.js';
import { LiveMetricsLog, LoopStack, loopBucket } from '../test/support/loop-stack.js';
import { Traffic, type TrafficCounts } from '../test/support/traffic.js';
import { days } from '../test/support/weather-traffic.js';
import { badCandidatePatch, loopDeployment, loopTriggers, weather, weatherDataPrefix, weatherPeriods, weatherPipeline } from '../test/support/weather-loop.js';

const namespace = 'demo';
const name = 'weather';
/** How long the person watches the healthy state (v1 on Seattle) before New York arrives. */
const seattleMs = 35_000;
const statusEveryMs = 3000;
const exitAfterScenario = process.argv.slice(2).includes('--exit-after-scenario');

// ---- output

const started = Date.now();
const stamp = (): string => `[${String(Math.round((Date.now() - started) / 1000)).padStart(4)} s]`;
const say = (line: string): void => console.log(`${stamp()} ${line}`);
/** Lines under a milestone (hints, details): indented past the stamp so milestones stand out. */
const aside = (line: string): void => console.log(`${' '.repeat(stamp().length + 1)}${line}`);
const timeline: { seconds: number; what: string }[] = [];
function milestone(what: string, inTimeline = true): void {
  say(what);
  if (inTimeline) timeline.push({ seconds: (Date.now() - started) / 1000, what });
}
function act(title: string, hints: readonly string[]): void {
  console.log(`\n── ${title} ${'─'.repeat(Math.max(3, 100 - title.length))}`);
  for (const h of hints) aside(`try: ${h}`);
}
const fix = (n: number | undefined, digits = 3): string => (n === undefined || Number.isNaN(n) ? '?' : n.toFixed(digits));

// ---- stopping: Ctrl-C at any moment

/** Ctrl-C (or the scenario's end with --exit-after-scenario): every wait of the scenario ends with Interrupted. */
class Interrupted extends Error {
  constructor() {
    super('interrupted');
    this.name = 'Interrupted';
  }
}

/** A step of the scenario that did not happen: what was expected, and what was seen instead. */
class StepFailed extends Error {
  constructor(readonly expected: string, seen: string) {
    super(`expected ${expected}; ${seen}`);
    this.name = 'StepFailed';
  }
}

const interrupted = new AbortController();
/** What is running, filled in as it starts; the stop order is the reverse. */
const up: { stack?: LoopStack; traffic?: Traffic; live?: LiveMetricsLog; watcher?: Watcher } = {};
let shuttingDown = false;
let firstSignalAt = 0;

function onSignal(): void {
  // One Ctrl-C can arrive more than once: the terminal signals the whole process group, and npx and tsx each relay
  // it to their child too (tsx re-sends it when the child's event loop did not acknowledge it within 30 ms, as
  // happens while the machine is busy). A person's second Ctrl-C comes later than a second.
  if (shuttingDown && Date.now() - firstSignalAt < 1000) return;
  if (shuttingDown) {
    // A second Ctrl-C: the cleanup hooks of the harness (localcluster/cleanup.ts) kill what is left at exit.
    console.log('\nstopping at once');
    process.exit(130);
  }
  if (!up.stack) {
    // The cluster is still starting: its processes, data folder and the pod network are registered with the
    // harness' exit hooks from the moment they exist, and those kill and remove them synchronously.
    console.log('\nCtrl-C while starting: stopping what has started');
    process.exit(130);
  }
  firstSignalAt = Date.now();
  void shutdown(exitAfterScenario ? 130 : 0, 'Ctrl-C');
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
process.on('SIGHUP', onSignal);

async function shutdown(code: number, why: string): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  interrupted.abort();
  console.log('');
  say(`${why}: stopping the traffic, the operator, the pods and the cluster (Ctrl-C again to stop at once)...`);
  await up.traffic?.stop();
  await up.live?.stop();
  await up.watcher?.stop();
  if (up.traffic) say(`requests: ${requestSummary(up.traffic.counts)}`);
  if (up.stack) await saveOperatorLog(up.stack);
  await up.stack?.stop();
  say(`stopped: no process, network namespace or cluster data left${up.stack ? `; the logs stay in ${up.stack.cluster.logDir}` : ''}`);
  process.exit(code);
}

/** Sleeps, unless the demo is stopping. */
async function pause(ms: number): Promise<void> {
  try {
    await sleep(ms, undefined, { signal: interrupted.signal });
  } catch {
    throw new Interrupted();
  }
}

/**
 * Waits until probe returns a value (errors count as "not yet": the cluster may be busy) or fails the step after
 * timeoutMs, saying what was expected; `seen` describes the state instead, for that message.
 */
async function until<T>(expected: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, seen?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (interrupted.signal.aborted) throw new Interrupted();
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (e: unknown) {
      if (e instanceof StepFailed) throw e;
    }
    if (Date.now() > deadline) throw new StepFailed(`${expected} within ${Math.round(timeoutMs / 1000)} s`, seen?.() ?? 'it did not happen');
    await pause(500);
  }
}

// ---- what the person sees: state diffs as milestones, and a status line

interface Snapshot {
  readonly tp?: TrainingPipeline | undefined;
  readonly md?: ModelDeployment | undefined;
}

interface Change {
  readonly text: string;
  /** Goes into the summary's timeline (analysis verdicts are too many for it). */
  readonly timeline: boolean;
}

/** The milestones between two observations of the pipeline and the deployment, in the order they happened. */
function changes(prev: Snapshot, next: Snapshot): Change[] {
  return [...triggerChanges(prev, next), ...runChanges(prev.tp, next.tp), ...rolloutChanges(prev.md, next.md)];
}

/**
 * A drift or performance trigger starting to count (it fires once the condition has lasted its `for`), and one
 * that stops counting without firing (the condition went away first, e.g. a first window of a few requests).
 */
function triggerChanges(prev: Snapshot, next: Snapshot): Change[] {
  const out: Change[] = [];
  const was = prev.tp?.status;
  const s = next.tp?.status;
  const triggers = next.tp?.spec.triggers;
  const live = next.md?.status?.liveMetrics;
  // A run that started since the clock did is what cleared it (the observation of its start may come a poll earlier).
  const ranSince = (since: string | undefined): boolean => since !== undefined && (s?.runs?.[0]?.startTime ?? '') >= since;
  if (s?.driftSince && !was?.driftSince && triggers?.drift) {
    const evidence = live?.maxDriftEvidence;
    const what = triggers.drift.detector === 'Window' || evidence === undefined
      ? `max PSI ${fix(live?.maxDriftPsi)} over ${live?.driftSamples ?? '?'} requests, above the drift trigger's ${triggers.drift.psiThreshold}`
      : `the servers' sequential test detected a shift (evidence ${fix(evidence)} nats; max PSI ${fix(live?.maxDriftPsi)} over ${live?.driftSamples ?? '?'} requests)`;
    out.push({ timeline: true, text: `drift: ${what}; it fires if that lasts ${triggers.drift.for ?? '0s'}` });
  }
  // Only while the trigger is there and the value really went back: removing a trigger also clears its clock.
  if (was?.driftSince && !s?.driftSince && !ranSince(was.driftSince) && triggers?.drift && (live?.maxDriftPsi ?? Infinity) <= triggers.drift.psiThreshold) {
    out.push({ timeline: true, text: `drift back under the threshold (max PSI ${fix(live?.maxDriftPsi)}) before the trigger fired: no retrain` });
  }
  if (s?.performanceSince && !was?.performanceSince && triggers?.performance) {
    out.push({ timeline: true, text: `performance: live ${triggers.performance.metric} ${fix(live?.accuracy)} below the performance trigger's ${triggers.performance.threshold}; it fires if that lasts ${triggers.performance.for ?? '0s'}` });
  }
  if (was?.performanceSince && !s?.performanceSince && !ranSince(was.performanceSince) && triggers?.performance && (live?.accuracy ?? -Infinity) >= triggers.performance.threshold) {
    out.push({ timeline: true, text: `live accuracy back above the threshold (${fix(live?.accuracy)}) before the trigger fired: no retrain` });
  }
  return out;
}

function runChanges(prev: TrainingPipeline | undefined, next: TrainingPipeline | undefined): Change[] {
  const out: Change[] = [];
  const before = new Map((prev?.status?.runs ?? []).map((r) => [r.name, r]));
  const champion = prev?.status?.championVersion;
  for (const r of [...(next?.status?.runs ?? [])].reverse()) {
    const old = before.get(r.name);
    if (!old) out.push({ timeline: true, text: `run ${r.name} started for ${r.version ?? '?'} by ${r.trigger}${r.reason ? `: ${r.reason}` : ''}` });
    if (r.outcome !== 'Running' && (old === undefined || old.outcome === 'Running')) out.push({ timeline: true, text: runOutcome(r, champion) });
  }
  return out;
}

function runOutcome(r: TrainingRun, champion: string | undefined): string {
  const v = r.version ?? r.name;
  const acc = r.metrics?.['accuracy'];
  const champ = r.championMetrics?.['accuracy'];
  switch (r.outcome) {
    case 'Blessed':
      return champ !== undefined && champion !== undefined && champion !== v
        ? `${v} blessed: holdout accuracy ${fix(acc)} vs champion ${champion} ${fix(champ)} on the same holdout`
        : `${v} blessed: holdout accuracy ${fix(acc)} (the first version: no champion to beat)`;
    case 'Rejected': {
      const failed = (r.gates ?? []).filter((g) => !g.passed).map((g) => `${g.name}: ${g.message ?? ''}`);
      return `${v} rejected: ${failed.join('; ') || r.message || 'a gate failed'}`;
    }
    default:
      return `run ${r.name} ended ${r.outcome}: ${r.message ?? ''}`;
  }
}

function rolloutChanges(prev: ModelDeployment | undefined, next: ModelDeployment | undefined): Change[] {
  const out: Change[] = [];
  const p = prev?.status;
  const s = next?.status;
  if (!s || !next) return out;
  const seen = new Set((p?.analysis ?? []).map(analysisKey));
  for (const a of [...(s.analysis ?? [])].reverse()) {
    if (seen.has(analysisKey(a))) continue;
    out.push({ timeline: false, text: `  analysis of ${a.version}: ${a.verdict}${a.message ? ` (${a.message})` : ''}` });
  }
  if (s.canaryVersion && (s.canaryVersion !== p?.canaryVersion || s.canaryWeight !== p.canaryWeight)) {
    const weight = s.canaryWeight ?? 0;
    out.push({ timeline: true, text: weight === 0 ? `${s.canaryVersion} canary created (0% until its pod is ready)` : `${s.canaryVersion} canary at ${weight}%` });
  }
  if (s.stableVersion && p?.stableVersion && s.stableVersion !== p.stableVersion) {
    out.push({ timeline: true, text: `${s.stableVersion} promoted: the stable version now (${p.stableVersion} kept ready for an instant rollback)` });
  }
  if (s.abortedVersion && s.abortedVersion !== p?.abortedVersion) {
    const failed = s.analysis?.find((a) => a.version === s.abortedVersion && a.verdict === 'Failed');
    out.push({ timeline: true, text: `${s.abortedVersion} rolled back${failed?.message ? `: ${failed.message}` : ''}; stable ${s.stableVersion ?? '?'} untouched` });
  }
  const replicas = next.spec.server.replicas ?? 2;
  const serving = (x: ModelDeployment['status']): boolean =>
    x?.stableVersion !== undefined && x.canaryVersion === undefined && x.phase === 'Healthy' && (x.stableReadyReplicas ?? 0) >= replicas;
  if (serving(s) && !(serving(p) && p?.stableVersion === s.stableVersion)) {
    out.push({ timeline: true, text: `${s.stableVersion ?? '?'} serving on ${s.stableReadyReplicas ?? 0} pods` });
  }
  return out;
}

const analysisKey = (a: { time: string; version: string; step?: number | undefined; verdict: string }): string => `${a.time}|${a.version}|${a.step ?? ''}|${a.verdict}`;

/** The state part of the status line: printed when it changes. */
function statusState({ tp, md }: Snapshot): string {
  const t = tp?.status;
  const d = md?.status;
  const run = t?.runs?.[0];
  const live = d?.liveMetrics;
  return [
    `pipeline ${t?.phase ?? '-'}: champion ${t?.championVersion ?? '-'}, latest ${t?.latestVersion ?? '-'}${run ? `, run ${run.name} ${run.outcome}` : ''}`,
    `deployment ${d?.phase ?? '-'}: stable ${d?.stableVersion ?? '-'}${d?.canaryVersion ? `, canary ${d.canaryVersion}@${d.canaryWeight ?? 0}%` : ''}`,
    `live ${live?.version ?? '-'}: accuracy ${fix(live?.accuracy)}, max PSI ${fix(live?.maxDriftPsi)}`,
  ].join(' | ');
}

function requestSummary(c: TrafficCounts): string {
  return `${c.requests} sent, ${c.failed} failed; ${c.feedback} feedback posts, ${c.feedbackFailed} failed`;
}

/** Polls the pipeline and the deployment each second: prints their changes as milestones, and the status line. */
class Watcher {
  latest: Snapshot = {};
  /** Every version seen as the stable one. */
  readonly served = new Set<string>();
  private stopped = false;
  private running: Promise<void> | undefined;
  private lastState = '';
  private lastStatusAt = 0;

  constructor(private readonly stack: LoopStack, private readonly counts: () => TrafficCounts | undefined) {}

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const [tp, md] = await Promise.all([this.stack.getTp(name).catch(() => undefined), this.stack.getMd(name).catch(() => undefined)]);
      const next: Snapshot = { tp: tp ?? this.latest.tp, md: md ?? this.latest.md };
      if (this.stopped) return;
      for (const c of changes(this.latest, next)) milestone(c.text, c.timeline);
      this.latest = next;
      if (next.md?.status?.stableVersion) this.served.add(next.md.status.stableVersion);
      const state = statusState(next);
      if (next.tp && state !== this.lastState && Date.now() - this.lastStatusAt >= statusEveryMs) {
        const c = this.counts();
        say(`· ${state}${c ? ` | ${c.requests} requests, ${c.failed} failed` : ''}`);
        this.lastState = state;
        this.lastStatusAt = Date.now();
      }
      await sleep(1000);
    }
  }
}

// ---- reading what the trainer wrote, and where the logs are

async function readObject(stack: LoopStack, key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await stack.minio.getObject(loopBucket, key)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function evaluationOf(stack: LoopStack, version: string): Promise<EvaluationReport> {
  return parseEvaluationReport(await readObject(stack, artifactKey({ namespace, name }, version, 'metrics')));
}

interface Lineage {
  readonly feedback?: { readonly joined?: number };
  readonly sources?: readonly { readonly key: string }[];
}

async function lineageOf(stack: LoopStack, version: string): Promise<Lineage> {
  return JSON.parse(await readObject(stack, artifactKey({ namespace, name }, version, 'lineage'))) as Lineage;
}

/** Says where a run's Job is training (its pod, node and GPU) and where to follow its log. Never fails the demo. */
async function describeTraining(stack: LoopStack, run: TrainingRun): Promise<void> {
  try {
    const pod = await until(`the trainer pod of Job ${run.name}`, async () => (await stack.core.listNamespacedPod({ namespace, labelSelector: `job-name=${run.name}` }))
      .items.find((p) => p.status?.phase === 'Running' || p.status?.phase === 'Succeeded'), 60_000);
    const podName = pod.metadata?.name ?? '?';
    const gpus = pod.spec?.containers[0]?.resources?.limits?.['nvidia.com/gpu'];
    aside(`Job ${run.name} trains in pod ${podName} on node ${pod.spec?.nodeName ?? '?'}${gpus ? ` (nvidia.com/gpu: ${String(gpus)})` : ''}`);
    aside(`follow the trainer: kubectl -n ${namespace} logs -f ${podName}`);
  } catch (e: unknown) {
    if (e instanceof Interrupted) throw e;
  }
}

// ---- the scenario

interface Outcome {
  /** Checks that did not hold (the steps themselves throw StepFailed). */
  readonly problems: string[];
}

async function play(): Promise<Outcome> {
  const problems: string[] = [];
  say('building the kubectl-plugin bundle...');
  buildBundles(['kubectl-perennial']);
  say('building the images (cached after the first time) and starting the local cluster: etcd, kube-apiserver, kube-controller-manager, MinIO and a node (kubelet, containerd, kube-proxy, CoreDNS)...');
  // The operator's web dashboard on (the chart's default is off), for the person to look at the loop in a browser.
  const stack = await LoopStack.start({
    name: 'demo', namespace, operator: 'helm', data: { dataset: weather, periods: weatherPeriods('Seattle') }, log: (line) => say(line),
    chartValues: { dashboard: { enabled: true } },
  });
  up.stack = stack;
  const { info } = stack.cluster;
  const logDir = stack.cluster.logDir;
  milestone(`cluster up; node ${info.node?.name ?? '?'} runs pods in containers (pod network ${info.node?.podCIDR ?? '?'}); Seattle 2012–2015 in s3://${loopBucket}/${weatherDataPrefix(stack.namespace)}`);

  const leader = await until('the operator to lead', async () => (await stack.operatorLeader()) ?? false, 60_000);
  milestone(`operator installed by helm in ${operatorRelease.namespace}: 2 replicas, ${leader} leading`);
  const dashboardPod = await stack.core.readNamespacedPod({ namespace: operatorRelease.namespace, name: leader }).catch(() => undefined);

  // kubectl and the kubectl perennial plugin on one PATH entry, in the run's log folder (it stays with the logs).
  const binDir = join(logDir, 'bin');
  mkdirSync(binDir, { recursive: true });
  symlinkSync(join(info.binDir, 'kubectl'), join(binDir, 'kubectl'));
  writeFileSync(join(binDir, 'kubectl-perennial'), `#!/bin/sh\nexec "${process.execPath}" "${join(repoRoot, 'dist/kubectl-perennial/main.js')}" "$@"\n`, { mode: 0o755 });
  console.log(`
Look around in another terminal while it runs (kubectl v1.34 from ${info.binDir}, plus the kubectl perennial plugin):
  export KUBECONFIG=${info.kubeconfigPath} PATH=${binDir}:$PATH
  kubectl perennial status -n ${namespace}                     # the pipeline and the deployment, one line each
  kubectl perennial runs ${name} -n ${namespace}                   # every run: trigger, reason, outcome, holdout accuracy
  kubectl perennial get md/${name} -n ${namespace} -w              # the rollout live: revisions, weights, every analysis
  kubectl -n ${namespace} get perennial,jobs,deployments,pods -o wide
  kubectl -n ${namespace} describe tp ${name}                      # triggers, runs, conditions, events
  kubectl -n ${namespace} describe md ${name}                      # the rollout: weights, every analysis verdict, live metrics
  kubectl -n ${namespace} get events --sort-by=.lastTimestamp
  kubectl -n ${operatorRelease.namespace} logs -l app.kubernetes.io/component=operator -f --prefix   # the operator
Logs: pods with kubectl logs (the operator's are also saved to ${join(logDir, 'operator.log')} at the end); the cluster's servers ${logDir}/
The web dashboard (read-only; runs, versions against the champion, canary progress, live accuracy and drift plots):
  http://${dashboardPod?.status?.podIP ?? '<operator pod IP>'}:8090 from this machine (the leading operator pod); log in with the kubeconfig's token:
  kubectl config view --raw -o jsonpath='{.users[0].user.token}'
The store: MinIO at ${info.s3?.url ?? '?'}, bucket ${loopBucket} (credentials in Secret ${namespace}/perennial-s3)
Ctrl-C stops everything (processes, pod network, data); the logs stay.`);

  const watcher = new Watcher(stack, () => up.traffic?.counts);
  up.watcher = watcher;
  const latest = (): Snapshot => watcher.latest;
  const runOf = (version: string): TrainingRun | undefined => latest().tp?.status?.runs?.find((r) => r.version === version);
  const describeNow = (): string => `now: ${statusState(latest())}`;
  const finished = async (version: string, timeoutMs: number): Promise<TrainingRun> => {
    const r = await until(`run of ${version} to finish`, () => { const x = runOf(version); return x && x.outcome !== 'Running' ? x : undefined; }, timeoutMs, describeNow);
    if (r.outcome !== 'Blessed') throw new StepFailed(`${version} blessed`, `run ${r.name} ended ${r.outcome}: ${r.message ?? ''}`);
    return r;
  };

  const pipelinePath = `/apis/perennial.dev/v1alpha1/namespaces/${namespace}/trainingpipelines/${name}`;

  // ---- Act 1
  act('Act 1: v1 learns Seattle', [
    `kubectl -n ${namespace} get jobs,pods -o wide      # the training Job's pod on the node, with its GPU`,
    `kubectl perennial runs ${name} -n ${namespace}`,
  ]);
  await stack.create('trainingpipelines', weatherPipeline(name, loopTriggers(name), stack.namespace));
  await stack.create('modeldeployments', loopDeployment(name));
  milestone(`applied TrainingPipeline ${name} (retrains on drift or falling live accuracy) and ModelDeployment ${name} (2 pods; canary at 50%, 15 s of analysis, then promote)`);
  watcher.start();
  const v1Run = await until('the first run to start', () => runOf('v1'), 60_000, describeNow);
  await describeTraining(stack, v1Run);
  await finished('v1', 240_000);
  const v1Report = await evaluationOf(stack, 'v1').catch(() => undefined);
  if (v1Report) {
    const t = v1Report.training;
    aside(`v1 on its holdout of ${v1Report.holdout.rows} days: accuracy ${fix(v1Report.candidate.metrics.accuracy)} vs ${fix(v1Report.baseline.metrics.accuracy)} for the ${v1Report.baseline.kind} baseline; ` +
      `${typeof t['epochsDone'] === 'number' ? `${t['epochsDone']} epochs ` : ''}on the ${typeof t['backend'] === 'string' ? t['backend'] : '?'} backend`);
  }
  await until('v1 serving on 2 ready pods', () => {
    const s = latest().md?.status;
    return s?.stableVersion === 'v1' && s.phase === 'Healthy' && s.stableReadyReplicas === 2;
  }, 180_000, describeNow);

  // Requests and labels go to the Services' ClusterIPs (kube-proxy on the node balances them), as a client in the
  // cluster sends them.
  const services = await stack.viaServices(name);
  const traffic = new Traffic({ endpoints: services.endpoints, feedback: services.feedback, model: name, source: days('Seattle') });
  up.traffic = traffic;
  traffic.start();
  const live = new LiveMetricsLog(stack, name);
  up.live = live;
  live.start();
  const seattleFrom = Date.now();
  milestone(`Seattle traffic: days sent to Service ${name} (its ClusterIP), each answer's true label to Service ${name}-feedback with the Secret's token`);
  await pause(seattleMs);
  const v1Seattle = live.accuracy('v1', seattleFrom + 3000);
  milestone(`v1 live on Seattle: accuracy ${fix(v1Seattle.accuracy)} over ${v1Seattle.windows} analysis windows (${v1Seattle.samples} labels), max PSI ${fix(latest().md?.status?.liveMetrics?.maxDriftPsi)}`);

  // ---- Act 2
  act('Act 2: New York arrives', [
    `kubectl -n ${namespace} get tp ${name} -o jsonpath='{.status.driftSince} {.status.performanceSince}'   # when the triggers started counting`,
    `kubectl -n ${namespace} describe md ${name}      # the canary's weight and each analysis verdict`,
    `kubectl -n ${namespace} get pods -L perennial.dev/version`,
  ]);
  traffic.source = days('New York');
  await stack.upload(weather, weatherPeriods('New York'));
  const nySwitch = Date.now();
  milestone(`New York arrives: the traffic switches to New York days, and New York 2012–2015 CSVs land in s3://${loopBucket}/${weatherDataPrefix(stack.namespace)}`);
  const v2Run = await until('a retrain fired by drift or by live accuracy', () =>
    latest().tp?.status?.runs?.find((r) => r.trigger === 'Drift' || r.trigger === 'Performance'), 240_000, describeNow);
  const v1NewYork = live.accuracy('v1', nySwitch + 4000, Date.now());
  const v2 = v2Run.version ?? '';
  await describeTraining(stack, v2Run);
  await finished(v2, 240_000);
  const lineage = await lineageOf(stack, v2).catch(() => undefined);
  const v2Report = await evaluationOf(stack, v2).catch(() => undefined);
  if (lineage) {
    const ny = (lineage.sources ?? []).filter((s) => s.key.startsWith(`${weatherDataPrefix(stack.namespace)}new-york-`)).length;
    const rows = v2Report?.training['rows'];
    aside(`${v2} trained${typeof rows === 'number' ? ` on ${rows} rows` : ''}: ${ny} New York objects and ${lineage.feedback?.joined ?? 0} fed-back predictions joined with their labels`);
  }
  const stableRevision = await until(`${v2} promoted after its canary`, () => {
    const s = latest().md?.status;
    return s?.stableVersion === v2 && s.canaryVersion === undefined && s.phase === 'Healthy' ? s.stableRevision ?? '' : undefined;
  }, 240_000, describeNow);
  const promoted = Date.now();
  const v2NewYork = await until(`5 live analysis windows of ${v2}`, () => { const m = live.accuracy(v2, promoted + 3000); return m.windows >= 5 ? m : undefined; }, 90_000);
  milestone(`live accuracy on New York: v1 ${fix(v1NewYork.accuracy)} (${v1NewYork.windows} windows before the retrain) → ${v2} ${fix(v2NewYork.accuracy)} (${v2NewYork.windows} windows after the promotion)`);
  if (!(v2NewYork.accuracy > v1NewYork.accuracy)) problems.push(`live accuracy on New York did not recover: v1 ${fix(v1NewYork.accuracy)}, ${v2} ${fix(v2NewYork.accuracy)}`);
  // The loop settles: v2's drift reference is its run's most recent data (the fed-back New York requests), so New
  // York traffic no longer drifts against it and the trigger stays quiet.
  const v1Drift = live.drift('v1', nySwitch + 4000, promoted);
  const v2Drift = live.drift(v2, promoted + 3000);
  milestone(`drift on New York: max PSI v1 ${fix(v1Drift.mean)} → ${v2} ${fix(v2Drift.mean)} (mean over the same windows): under the trigger's 0.25, so no further retrain`);
  if (!(v2Drift.mean < 0.25)) problems.push(`New York traffic still drifts against ${v2}: mean max PSI ${fix(v2Drift.mean)}`);

  // ---- Act 3
  act('Act 3: a deliberately bad candidate', [
    `kubectl -n ${namespace} describe md ${name}      # the failed analysis and the Degraded condition`,
    `kubectl perennial status -n ${namespace}`,
  ]);
  await stack.http.request('PATCH', pipelinePath, {
    contentType: PatchType.merge, body: badCandidatePatch(`demo-bad-${Date.now()}`),
  });
  milestone('bad candidate requested: one epoch from scratch at a tiny learning rate, the training gates relaxed so it is blessed (manual trigger)');
  const { minInterval } = latest().tp?.spec.triggers ?? {};
  const lastStart = Date.parse(latest().tp?.status?.lastTriggerTime ?? '');
  const waitMs = minInterval === undefined || Number.isNaN(lastStart) ? 0 : lastStart + parseDuration(minInterval) - Date.now();
  if (waitMs > 1000) aside(`the run starts in about ${Math.round(waitMs / 1000)} s, once the pipeline's minInterval (${minInterval ?? ''}) since the last run has passed`);
  const badRun = await until('the manual run to start', () => latest().tp?.status?.runs?.find((r) => r.trigger === 'Manual'), 90_000, describeNow);
  const v3 = badRun.version ?? '';
  await describeTraining(stack, badRun);
  await finished(v3, 240_000);
  await until(`${v3} rolled back by a live gate`, () => latest().md?.status?.abortedVersion === v3, 240_000, describeNow);
  const after = latest().md?.status;
  if (after?.stableVersion !== v2 || after.stableRevision !== stableRevision) problems.push(`stable changed by the rollback: ${after?.stableVersion ?? '-'} ${after?.stableRevision ?? '-'}`);
  await until(`only ${v2} pods serving again`, async () => {
    const pods = await stack.serverPods(name);
    return pods.length === 2 && pods.every((p) => p.version === v2) && (await stack.endpoints(name)).length === 2;
  }, 120_000);
  milestone(`back to ${v2} on 2 pods; stable Deployment ${stableRevision} untouched`);
  // The pipeline's champion follows what production accepted: the rolled-back version is demoted.
  await until(`the pipeline's champion back to ${v2}`, () => latest().tp?.status?.championVersion === v2, 120_000, describeNow);
  const demotion = latest().tp?.status?.demotions?.find((d) => d.version === v3);
  milestone(`champion back to ${v2}: ${v3} demoted${demotion?.deployment ? ` (rolled back by ModelDeployment ${demotion.deployment})` : ''}; the next run warm-starts from ${v2} and is judged against it`);

  // ---- Summary
  const counts = traffic.counts;
  if (counts.failed > 0 || counts.feedbackFailed > 0) problems.push(`failed requests: ${counts.errors.slice(0, 3).join('; ')}`);
  milestone('scenario complete');
  console.log(`\n── Summary ${'─'.repeat(92)}\nTimeline (seconds since the start):`);
  for (const t of timeline) console.log(`  ${t.seconds.toFixed(0).padStart(4)} s  ${t.what}`);
  console.log(`Requests: ${requestSummary(counts)}`);
  console.log('Versions:');
  const md = latest().md?.status;
  for (const r of [...(latest().tp?.status?.runs ?? [])].reverse()) {
    const fate = r.version === md?.stableVersion ? 'serving (stable)'
      : r.version === md?.abortedVersion ? 'canaried, rolled back'
        : watcher.served.has(r.version ?? '') ? 'served, then replaced' : 'not served';
    console.log(`  ${(r.version ?? '?').padEnd(4)} ${r.trigger.padEnd(12)} ${r.outcome.padEnd(9)} holdout accuracy ${fix(r.metrics?.['accuracy'])}   ${fate}`);
  }
  for (const p of problems) console.log(`PROBLEM: ${p}`);
  return { problems };
}

function whereToLook(): void {
  const stack = up.stack;
  if (!stack) return;
  aside(`operator: kubectl -n ${operatorRelease.namespace} logs -l app.kubernetes.io/component=operator --prefix   (saved to ${join(stack.cluster.logDir, 'operator.log')} on exit)`);
  aside(`pods: kubectl -n ${namespace} logs <pod>   cluster servers: ${stack.cluster.logDir}/`);
}

try {
  const { problems } = await play();
  if (exitAfterScenario) {
    await shutdown(problems.length === 0 ? 0 : 1, 'scenario done');
  } else {
    console.log('');
    say('the scenario is over; the New York traffic and the status lines go on. Look around with the commands above; Ctrl-C stops everything.');
  }
} catch (e: unknown) {
  if (!(e instanceof Interrupted)) {
    say(`step failed: ${e instanceof Error ? e.message : String(e)}`);
    whereToLook();
    if (exitAfterScenario || !up.stack) {
      await shutdown(1, 'the scenario failed');
    } else {
      say('the cluster stays up for inspection (commands above); Ctrl-C stops everything.');
      // Whatever failed may have stopped the loops that keep the process alive (the operator, the watcher).
      setInterval(() => undefined, 60_000);
    }
  }
}

/** Keeps the operator pods' logs with the cluster's (the pods go with the cluster). Never fails the shutdown. */
async function saveOperatorLog(stack: LoopStack): Promise<void> {
  const logs = await operatorLogs(stack.cluster).catch((e: unknown) => `could not read the operator's logs: ${String(e)}\n`);
  writeFileSync(join(stack.cluster.logDir, 'operator.log'), logs);
}
