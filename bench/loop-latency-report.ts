// What the loop-latency benchmark makes of its timeline: the loop's points in order (which Job, pod and
// Deployment are the retrain's, which liveMetrics window and trigger timer started it), their split, and the
// printed timeline, segments and table. No I/O but console output.
import type { ModelDeployment } from '../src/api/model-deployment.js';
import type { TrainingPipeline, TrainingRun } from '../src/api/training-pipeline.js';
import { parseDuration } from '../src/api/duration.js';
import { jobNameLabel, versionLabel, type Fact, type LoopTimeline } from './loop-latency-timeline.js';
import { categories, categoryNames, splitLoop, type Category, type Point, type Split } from './loop-latency-split.js';
import { defaultFalseAlarmRate, detectionThreshold } from '../src/shared/drift-sequential.js';

/** What the timeline notes of each liveMetrics (loop-latency-timeline.ts). */
interface LiveNote {
  readonly psi?: number;
  readonly accuracy?: number;
  readonly labelled?: number;
  readonly evidence?: number;
  readonly features?: number;
  readonly detected?: string;
}

export class LoopIncompleteError extends Error {
  override readonly name = 'LoopIncompleteError';
}

export const sec = (ms: number): string => (ms / 1000).toFixed(2);

export interface BaselineRun {
  readonly wallMs: number;
  readonly inProcessMs: number | undefined;
  readonly accuracy: number | undefined;
  readonly objects: number;
  /** The 1-minute load average when it started (the machine is shared). */
  readonly load: number;
}

function need(f: Fact | undefined, what: string): number {
  if (!f) throw new LoopIncompleteError(`never observed: ${what}`);
  return f.atMs;
}

export interface Measured {
  readonly split: Split;
  /** Nominal user-configured waits from the specs, for the record. */
  readonly nominal: string;
  readonly trainerPod: string;
  readonly canaryDeployment: string;
}

/** The loop's points, in order, from the timeline and the retrain's identity. */
export function measure(tl: LoopTimeline, onsetMs: number, tp: TrainingPipeline, md: ModelDeployment, run: TrainingRun): Measured {
  const version = run.version ?? '';
  const kind = run.trigger === 'Performance' ? 'Performance' : 'Drift';
  const drift = tp.spec.triggers.drift;
  const perf = tp.spec.triggers.performance;
  const forMs = parseDuration((kind === 'Drift' ? drift?.for : perf?.for) ?? '0s');
  const intervalMs = parseDuration(md.spec.rollout.analysis.interval);
  const steps = md.spec.rollout.canary.steps;
  const analysisIndex = steps.findIndex((s) => s.analysis !== undefined);
  const analysisMs = analysisIndex < 0 ? 0 : parseDuration(steps[analysisIndex]?.analysis?.duration ?? md.spec.rollout.analysis.interval);

  // A Sequential detection (the run's reason says so) is judged on the evidence in liveMetrics, the PSI path on the
  // PSI, the performance trigger on live accuracy; each fires once its timer (driftSince, performanceSince) has run
  // for `for`.
  const sequential = kind === 'Drift' && (run.reason ?? '').startsWith('drift detected on');
  // The timer that fired: the last ${kind}Since recorded before the run was claimed; and the first liveMetrics
  // window of the unbroken run of windows over the threshold that led to it (a window back under the threshold
  // resets the timer, so an earlier crossing is part of the detection, not of the trigger's reaction).
  const claimedAt = tl.get(`tp:run:${run.name}:Running`)?.atMs ?? Infinity;
  const since = tl.matching(`tp:since:${kind}:`).filter(([, f]) => f.atMs > onsetMs && f.atMs <= claimedAt).pop()?.[1];
  const rate = drift?.falseAlarmRate ?? defaultFalseAlarmRate;
  const holds = (f: Fact): boolean => {
    const m = JSON.parse(f.note ?? '{}') as LiveNote;
    if (sequential) return (m.features ?? 0) > 0 && (m.evidence ?? 0) >= detectionThreshold(m.features ?? 1, rate);
    return kind === 'Drift'
      ? (m.psi ?? 0) > (drift?.psiThreshold ?? Infinity)
      : (m.labelled ?? 0) >= (perf?.minSamples ?? 0) && (m.accuracy ?? 1) < (perf?.threshold ?? 0);
  };
  let visible: Fact | undefined;
  for (const [, f] of tl.matching('md:live:')) {
    if (f.atMs <= onsetMs) continue;
    if (f.atMs > (since?.atMs ?? claimedAt) + 500) break; // the watches deliver independently: allow a little skew
    visible = holds(f) ? visible ?? f : undefined;
  }
  const sinceMs = Date.parse(since?.objectTime ?? '');
  const trainerPod = [...tl.podLabels].find(([, l]) => l[jobNameLabel] === run.name)?.[0] ?? '';
  const canaryDeployment = [...tl.deploymentLabels].find(([, l]) => l[versionLabel] === version)?.[0] ?? '';
  const analysisSteps = tl.matching(`md:step:${version}:${analysisIndex}:`);
  const lastWindowStart = Date.parse(analysisSteps[analysisSteps.length - 1]?.[1].objectTime ?? '');
  const passed = tl.matching(`md:analysis:${version}:`).find(([k]) => k.endsWith(':Passed'))?.[1];
  const scaledUp = tl.get(`deploy:${canaryDeployment}:replicas:${md.spec.server.replicas}`);
  const promotionStarted = Math.min(need(passed, `a Passed analysis of ${version}`), scaledUp?.atMs ?? Infinity);
  const canaryReady = tl.matching(`deploy:${canaryDeployment}:ready:`).find(([k]) => !k.endsWith(':ready:0'))?.[1];

  const p = (label: string, atMs: number, category: Category, segment: string): Point => ({ label, atMs, category, segment });
  // Whole seconds (the status's time format), floored: never later than the window that showed it.
  const detectedMs = Date.parse((JSON.parse(visible?.note ?? '{}') as LiveNote).detected ?? '');
  const seen: Point[] = sequential
    ? [
      p('detected by a server', Number.isFinite(detectedMs) ? detectedMs : need(visible, 'a liveMetrics window with the detection'), 'detection', 'onset → a server\'s sequential detector crosses ln(features/falseAlarmRate) (its driftDetectedTime, whole seconds)'),
      p('drift visible in liveMetrics', need(visible, 'a liveMetrics window with the detection'), 'detection', `the operator reads the pods (every ${intervalMs / 1000}s) and writes liveMetrics`),
    ]
    : [
      p(`${kind.toLowerCase()} visible in liveMetrics`, need(visible, `a liveMetrics window over the ${kind} threshold`), 'detection',
        kind === 'Drift'
          ? `onset → the servers' sliding PSI window (1 h by default) holds enough New York rows for PSI > ${drift?.psiThreshold ?? '?'}, read every ${intervalMs / 1000}s`
          : `onset → live accuracy < ${perf?.threshold ?? '?'} in a liveMetrics window (one every ${intervalMs / 1000}s)`),
    ];
  const reaction: Point[] = [
    ...seen,
    p(`${kind.toLowerCase()}Since recorded`, need(since, `${kind}Since in the pipeline's status`), 'operator', 'liveMetrics written → TrainingPipeline starts the trigger\'s timer'),
    p('trigger due', sinceMs + forMs, 'waits', `the trigger's for: ${forMs / 1000}s (from the whole-second ${kind.toLowerCase()}Since)`),
    p('run claimed in status', need(tl.get(`tp:run:${run.name}:Running`), `run ${run.name}`), 'operator', 'trigger due → run claimed in status'),
  ];
  const points: Point[] = [
    ...reaction,
    p('Job created', need(tl.get(`job:${run.name}:created`), `Job ${run.name}`), 'operator', 'run claimed → Job created'),
    p('trainer pod created', need(tl.get(`pod:${trainerPod}:created`), 'the trainer pod'), 'runtime', 'Job controller creates the pod'),
    p('trainer running', need(tl.get(`pod:${trainerPod}:running`), 'the trainer container running'), 'runtime', 'pod scheduled, the kubelet starts the trainer container'),
    p('trainer exited', need(tl.get(`pod:${trainerPod}:terminated`), 'the trainer container finished'), 'training', 'the trainer container runs'),
    p('Job complete', need(tl.get(`job:${run.name}:Complete`), `Job ${run.name} Complete`), 'runtime', 'exit reported by the kubelet, Job controller marks Complete'),
    p(`run ${run.outcome}`, need(tl.get(`tp:run:${run.name}:Blessed`), `run ${run.name} Blessed`), 'operator', 'Job Complete → result read from the store, gates judged, Blessed in status'),
    p('canary Deployment created', need(tl.get(`deploy:${canaryDeployment}:created`), `the ${version} Deployment`), 'operator', 'champion moved → canary Deployment created'),
    p('canary pod ready', need(canaryReady, `a ready ${version} pod`), 'runtime', 'ReplicaSet creates the pod, server starts, loads the model, readiness probe passes'),
    p('analysis step started', need(analysisSteps[0]?.[1], `step ${analysisIndex + 1} of ${version}`), 'operator', 'canary pod ready → setWeight reached, analysis step starts'),
    p('analysis window over', lastWindowStart + analysisMs, 'waits', `analysis window ${analysisMs / 1000}s (${analysisSteps.length} window${analysisSteps.length === 1 ? '' : 's'}, from the whole-second stepStartTime)`),
    p('verdict; promotion scale-up', promotionStarted, 'operator', 'window over → measured, verdict Passed, canary scaled to every replica'),
    p('canary fully ready', need(tl.get(`deploy:${canaryDeployment}:ready:${md.spec.server.replicas}`), `all ${version} pods ready`), 'runtime', 'the other canary pods start and get ready'),
    p('promoted', need(tl.get(`md:stable:${version}`), `${version} stable`), 'operator', 'canary fully ready → promoted in status'),
    p(`${version} at 100%`, need(tl.get(`md:done:${version}`), `${version} stable with every replica ready`), 'operator', 'promoted → stable replicas ready reported'),
  ];
  const trigger = `${kind.toLowerCase()} trigger${sequential ? ` Sequential (false-alarm rate ${rate}/row)` : ''} for ${forMs / 1000}s`;
  const nominal = `${trigger}, analysis ${analysisMs / 1000}s, analysis.interval ${intervalMs / 1000}s, minInterval ${tp.spec.triggers.minInterval} (passed before onset)`;
  return { split: splitLoop('drift onset', onsetMs, points), nominal, trainerPod, canaryDeployment };
}

export function printTimeline(tl: LoopTimeline, onsetMs: number, m: Measured, run: TrainingRun): void {
  const version = run.version ?? '';
  const relevant = (k: string): boolean => k.startsWith('md:') || k.startsWith('tp:') || k.startsWith('eps:') ||
    k.startsWith(`job:${run.name}:`) || k.startsWith(`pod:${m.trainerPod}:`) || k.startsWith(`deploy:${m.canaryDeployment}:`) ||
    [...tl.podLabels].some(([pod, l]) => l[versionLabel] === version && k.startsWith(`pod:${pod}:`));
  console.log('\ntimeline (s after onset: observed by watch | the object\'s own whole-second timestamp)');
  for (const [k, f] of [...tl.facts].filter(([k, f]) => f.atMs >= onsetMs && relevant(k)).sort((a, b) => a[1].atMs - b[1].atMs)) {
    const own = f.objectTime ? Date.parse(f.objectTime) : NaN;
    const ownText = Number.isFinite(own) ? `${sec(own - onsetMs).padStart(7)}` : '       ';
    console.log(`  ${sec(f.atMs - onsetMs).padStart(7)} | ${ownText}  ${k}${f.note ? `  ${f.note.slice(0, 140)}` : ''}`);
  }
}

export function printSplit(tl: LoopTimeline, m: Measured, baselines: readonly BaselineRun[], run: TrainingRun, trainer: { startupMs: number | undefined; inProcessMs: number | undefined }): void {
  const { split } = m;
  const version = run.version ?? '';
  const total = split.totalMs;
  const baseline = [...baselines].sort((a, b) => a.wallMs - b.wallMs)[0];
  if (!baseline) throw new LoopIncompleteError('no baseline run');
  const share = (ms: number): string => `${((ms / total) * 100).toFixed(1).padStart(5)}%`;
  console.log(`\nsegments (drift onset → ${version} at 100%)`);
  for (const s of split.segments) console.log(`  ${sec(s.ms).padStart(7)} s  ${s.category.padEnd(9)}  ${s.to.padEnd(28)} ${s.what}`);
  const ops = split.segments.filter((x) => x.category === 'operator');
  console.log('\noperator transitions (ours)');
  for (const s of ops) console.log(`  ${s.ms.toFixed(0).padStart(6)} ms  ${s.what}`);
  const only = tl.get(`eps:${version}`);
  const done = tl.get(`md:done:${version}`);
  if (only && done) {
    const d = only.atMs - done.atMs;
    console.log(`after the clock: the stable Service's ready endpoints hold only ${version} pods ${sec(Math.abs(d))} s ${d < 0 ? 'before' : 'after'} ${version} reached 100% (the EndpointSlice controller's part); the previous version's pods stay ready for rollbackWindow (an instant rollback), by design`);
  }

  const c = split.byCategory;
  const irreducible = baseline.wallMs + c.waits + c.detection;
  const reaction = total - c.detection;
  const reactionBaseline = baseline.wallMs + c.waits;
  console.log(`\nloop latency: drift onset → ${version} serving 100%        (${m.nominal})`);
  console.log('  ┌──────────────────────────────────────────────────────┬──────────┬────────┐');
  console.log('  │ part                                                 │  seconds │  share │');
  console.log('  ├──────────────────────────────────────────────────────┼──────────┼────────┤');
  for (const k of categories) console.log(`  │ ${categoryNames[k].padEnd(52)} │ ${sec(c[k]).padStart(8)} │ ${share(c[k])} │`);
  console.log('  ├──────────────────────────────────────────────────────┼──────────┼────────┤');
  console.log(`  │ ${'total'.padEnd(52)} │ ${sec(total).padStart(8)} │ 100.0% │`);
  console.log('  └──────────────────────────────────────────────────────┴──────────┴────────┘');
  const inProcess = (ms: number | undefined): string => (ms === undefined ? '?' : sec(ms));
  console.log(`  of (a): ${inProcess(trainer.startupMs)} s from the process start to the trainer's first line of work (node, bundle, TensorFlow.js backend); ${inProcess(trainer.inProcessMs)} s reading, training, evaluating, publishing`);
  console.log(`baseline (same invocation): the retrain run directly, \`node <trainer bundle of this tree>\` on a copy of its ${baseline.objects} input objects, ${baselines.length}×, the fastest counts`);
  for (const b of baselines) {
    console.log(`  direct trainer run ${sec(b.wallMs)} s (in-process ${inProcess(b.inProcessMs)} s; 1-min load ${b.load.toFixed(2)} at its start; holdout accuracy ${b.accuracy?.toFixed(3) ?? '?'}, the loop's ${run.metrics?.['accuracy']?.toFixed(3) ?? '?'})`);
  }
  console.log(`  irreducible loop = direct run + user-configured waits + drift detection = ${sec(baseline.wallMs)} + ${sec(c.waits)} + ${sec(c.detection)} = ${sec(irreducible)} s`);
  console.log(`  total / baseline:            ${(total / irreducible).toFixed(2)}×`);
  console.log(`  reaction (drift visible → 100%) / (direct run + waits): ${sec(reaction)} / ${sec(reactionBaseline)} s = ${(reaction / reactionBaseline).toFixed(2)}×`);
  console.log(`  operator overhead / total:   ${((c.operator / total) * 100).toFixed(1)}%  (${sec(c.operator)} s over ${ops.length} transitions, the longest ${Math.max(...ops.map((x) => x.ms)).toFixed(0)} ms)`);
}
