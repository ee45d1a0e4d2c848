import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TrainingPipeline } from '../../../api/training-pipeline.js';
import { job, liveMetrics, manifest, observed, pipeline, report, running, succeeded, t0 } from './fixtures.js';
import type { PodObject } from '../pod-faults.js';
import type { Observed } from './observed.js';
import { needsFreshListing, planTrainingPipeline, type TrainingPipelinePlan } from './plan.js';

const badCron = (tp: TrainingPipeline): void => { tp.spec.triggers.schedule = { cron: '0 0 30 2 *', startingDeadline: '1h' }; };
const cond = (plan: TrainingPipelinePlan, type: string) => plan.status.conditions?.find((c) => c.type === type);
/** A pipeline that has had its first run and has a champion, idle. */
const idle = (edit: (tp: TrainingPipeline) => void = () => undefined): TrainingPipeline => pipeline((tp) => {
  tp.status = { observedGeneration: 3, runCount: 1, championVersion: 'v1', lastTriggerTime: '2026-11-21T08:00:00Z' };
  edit(tp);
});
const plan = (tp: TrainingPipeline, edit: Partial<Observed> = {}): TrainingPipelinePlan => planTrainingPipeline(observed(tp, edit));

describe('planTrainingPipeline: acceptance', () => {
  it('rejects an invalid spec: Failed, Accepted=False/InvalidSpec naming the field, one Warning event, no run, no requeue', () => {
    const p = plan(pipeline(badCron));
    assert.equal(p.status.phase, 'Failed');
    assert.equal(cond(p, 'Accepted')?.reason, 'InvalidSpec');
    assert.match(cond(p, 'Accepted')?.message ?? '', /spec\.triggers\.schedule\.cron/);
    assert.deepEqual(p.events.map((e) => [e.type, e.reason]), [['Warning', 'InvalidSpec']]);
    assert.equal(p.createJob, undefined);
    assert.equal(p.requeueAfterMs, undefined);
  });

  it('is a fixed point: planning on its own output changes nothing and emits no event again', () => {
    for (const tp of [pipeline(badCron), idle(), pipeline((t) => { t.spec.suspend = true; })]) {
      const first = plan(tp);
      const second = plan({ ...tp, status: first.status }, { nowMs: t0 + 60_000 });
      assert.deepEqual(second.status, first.status, 'the second reconcile would write nothing');
      assert.deepEqual(second.events, []);
    }
  });

  it('keeps lastTransitionTime while the status holds and moves it when it flips', () => {
    const first = plan(idle());
    const fixed = plan({ ...idle((tp) => { badCron(tp); tp.metadata.generation = 4; }), status: first.status }, { nowMs: t0 + 60_000 });
    assert.notEqual(cond(fixed, 'Accepted')?.lastTransitionTime, cond(first, 'Accepted')?.lastTransitionTime);
    assert.equal(cond(fixed, 'Accepted')?.observedGeneration, 4);
  });

  it('a name too long for the run number in a Job name is an invalid spec', () => {
    const p = plan(pipeline((tp) => { tp.metadata.name = 'x'.repeat(53); }));
    assert.match(cond(p, 'Accepted')?.message ?? '', /metadata\.name/);
  });

  it('without an object store no run starts, and the condition says why', () => {
    const p = plan(pipeline(), { store: undefined });
    assert.equal(p.createJob, undefined);
    assert.equal(p.status.phase, 'Idle');
    assert.equal(cond(p, 'Accepted')?.status, 'True');
    assert.equal(cond(p, 'Progressing')?.reason, 'StoreNotConfigured');
    assert.equal(p.status.runCount, undefined);
  });
});

describe('planTrainingPipeline: starting runs', () => {
  it('the first run of a new pipeline is Initial: run number claimed in status, Job named after it, one event', () => {
    const p = plan(pipeline());
    assert.equal(p.status.runCount, 1);
    assert.equal(p.status.currentRun, 'weather-1');
    assert.equal(p.status.phase, 'Running');
    assert.deepEqual(p.status.runs?.map((r) => [r.name, r.version, r.trigger, r.outcome]), [['weather-1', 'v1', 'Initial', 'Running']]);
    assert.equal(p.createJob?.metadata.name, 'weather-1');
    assert.equal(cond(p, 'Progressing')?.reason, 'RunRunning');
    assert.deepEqual(p.events.map((e) => e.reason), ['RunStarted']);
  });

  it('a run claimed in status whose Job is missing gets its Job (again) and no new run number', () => {
    const tp = running(4, 'v3');
    const p = plan(tp);
    assert.equal(p.createJob?.metadata.name, 'weather-4');
    assert.equal(p.status.runCount, 4);
    assert.deepEqual(p.status.runs, tp.status?.runs);
    assert.deepEqual(p.events, []);
  });

  it('a run whose Job is active is left alone; a manual trigger waits (Forbid)', () => {
    const tp = running(4, 'v3', (t) => { t.metadata.annotations = { 'perennial.dev/trigger': 'now' }; t.status!.lastTriggerTime = '2026-11-21T08:00:00Z'; });
    const p = plan(tp, { jobs: [job('weather-4', { phase: 'Active' })] });
    assert.equal(p.createJob, undefined);
    assert.equal(p.status.currentRun, 'weather-4');
    assert.match(cond(p, 'Progressing')?.message ?? '', /weather-4/);
    assert.equal(p.status.lastManualTrigger, undefined, 'the annotation stays pending');
  });

  it('Replace stops the running Job, records it as replaced and starts the next run', () => {
    const tp = running(4, 'v3', (t) => {
      t.spec.triggers.concurrencyPolicy = 'Replace';
      t.metadata.annotations = { 'perennial.dev/trigger': 'now' };
      t.status!.lastTriggerTime = '2026-11-21T08:00:00Z';
    });
    const p = plan(tp, { jobs: [job('weather-4', { phase: 'Active' })] });
    assert.deepEqual(p.deleteJob, { name: 'weather-4', uid: 'uid-weather-4' });
    assert.equal(p.createJob?.metadata.name, 'weather-5');
    assert.deepEqual(p.status.runs?.map((r) => [r.name, r.outcome]), [['weather-5', 'Running'], ['weather-4', 'Failed']]);
    assert.deepEqual(p.finishedRuns.map((r) => r.outcome), ['Failed']);
    assert.equal(p.status.lastManualTrigger, 'now');
  });

  it('history keeps historyLimit runs, newest first', () => {
    const tp = idle((t) => {
      t.metadata.annotations = { 'perennial.dev/trigger': 'again' };
      t.status!.runs = [1, 2, 3, 4, 5].map((n) => ({ name: `weather-${6 - n}`, trigger: 'Manual' as const, startTime: '2026-11-20T00:00:00Z', outcome: 'Blessed' as const }));
      t.status!.runCount = 5;
    });
    const p = plan(tp);
    assert.deepEqual(p.status.runs?.map((r) => r.name), ['weather-6', 'weather-5', 'weather-4', 'weather-3', 'weather-2']);
  });

  it('a suspended pipeline starts nothing and says Suspended', () => {
    const p = plan(pipeline((tp) => { tp.spec.suspend = true; }));
    assert.equal(p.status.phase, 'Suspended');
    assert.equal(p.createJob, undefined);
    assert.equal(cond(p, 'Progressing')?.reason, 'Suspended');
  });
});

describe('planTrainingPipeline: the versions that exist', () => {
  it('status.storedVersions is what the store holds after retention, without the running version', () => {
    const tp = running(5, 'v3', (t) => { t.spec.retention.keepVersions = 2; });
    const p = plan(tp, { versions: ['v1', 'v2', 'v3', 'v4', 'v5'], jobs: [job('weather-5', { phase: 'Active' })] });
    assert.deepEqual(p.deleteVersions, ['v1', 'v2']);
    assert.deepEqual(p.status.storedVersions, ['v3', 'v4']);
  });

  it('not listed (no store, or nothing published yet): the last list stays', () => {
    const p = plan(idle((t) => { t.status!.storedVersions = ['v1']; }), { versions: undefined });
    assert.deepEqual(p.status.storedVersions, ['v1']);
  });
});

describe('planTrainingPipeline: results', () => {
  const thresholds = (t: TrainingPipeline): void => { t.spec.evaluation.thresholds = [{ metric: 'accuracy', min: 0.7 }]; };

  it('while the champion is pinned by annotation a candidate that passes every gate ends Blessed and the champion stays', () => {
    const tp = running(4, 'v3', (t) => { t.metadata.annotations = { 'perennial.dev/champion': 'v3' }; });
    const p = plan(tp, { versions: ['v3', 'v4'], jobs: [job('weather-4', succeeded)], result: { kind: 'published', manifest: manifest('v4'), report: report({ accuracy: 0.85 }, { version: 'v3', metrics: { accuracy: 0.84 } }) } });
    assert.equal(p.status.championVersion, 'v3');
    assert.equal(p.status.latestVersion, 'v4');
    assert.equal(p.status.runs?.[0]?.outcome, 'Blessed');
    assert.match(p.status.runs?.[0]?.message ?? '', /the champion stays v3, pinned by the perennial\.dev\/champion annotation/);
    assert.match(cond(p, 'Ready')?.message ?? '', /Champion v3, pinned/);
  });

  it('a candidate that passes every gate is blessed: champion moves, run Blessed, Ready, one event, counted', () => {
    const tp = running(4, 'v3', thresholds);
    const p = plan(tp, { jobs: [job('weather-4', succeeded)], result: { kind: 'published', manifest: manifest('v4'), report: report({ accuracy: 0.85 }, { version: 'v3', metrics: { accuracy: 0.84 } }) } });
    assert.equal(p.status.championVersion, 'v4');
    assert.equal(p.status.latestVersion, 'v4');
    assert.deepEqual(p.status.championMetrics, { accuracy: 0.85 });
    assert.equal(p.status.currentRun, undefined);
    assert.equal(p.status.phase, 'Idle');
    const run = p.status.runs?.[0];
    assert.equal(run?.outcome, 'Blessed');
    assert.equal(run?.completionTime, '2026-11-21T09:30:00Z');
    assert.deepEqual(run?.gates?.map((g) => [g.name, g.passed]), [['threshold:accuracy', true], ['champion', true]]);
    assert.equal(cond(p, 'Ready')?.reason, 'ChampionServing');
    assert.deepEqual(p.events.map((e) => [e.type, e.reason]), [['Normal', 'Blessed']]);
    assert.deepEqual(p.finishedRuns.map((r) => r.outcome), ['Blessed']);
  });

  it('a candidate that misses a threshold is rejected, naming the gate; the champion stays', () => {
    const tp = running(4, 'v3', thresholds);
    const p = plan(tp, { jobs: [job('weather-4', succeeded)], result: { kind: 'published', manifest: manifest('v4'), report: report({ accuracy: 0.6 }, { version: 'v3', metrics: { accuracy: 0.8 } }) } });
    assert.equal(p.status.championVersion, 'v3');
    assert.equal(p.status.latestVersion, 'v4');
    assert.equal(p.status.runs?.[0]?.outcome, 'Rejected');
    assert.match(p.status.runs?.[0]?.message ?? '', /rejected by gate threshold:accuracy/);
    assert.deepEqual(p.events.map((e) => [e.type, e.reason]), [['Warning', 'Rejected']]);
    assert.equal(cond(p, 'Degraded')?.status, 'False');
  });

  it('a Job that succeeded without a manifest is a failed run, and Degraded', () => {
    const p = plan(running(4, 'v3'), { jobs: [job('weather-4', succeeded)], result: { kind: 'noManifest', key: 'pipelines/ml/weather/versions/v4/manifest.json' } });
    assert.equal(p.status.runs?.[0]?.outcome, 'Failed');
    assert.match(p.status.runs?.[0]?.message ?? '', /no manifest/);
    assert.equal(p.status.championVersion, 'v3');
    assert.equal(cond(p, 'Degraded')?.status, 'True');
  });

  it('a failed Job with a validation report is InvalidData, naming the issues', () => {
    const p = plan(running(4, 'v3'), {
      jobs: [job('weather-4', { phase: 'Failed', reason: 'PodFailurePolicy', message: 'exit 65', completionTime: undefined })],
      result: { kind: 'invalidData', issues: [{ check: 'missing-rate', message: 'column wind: 12% missing' }] },
    });
    assert.equal(p.status.runs?.[0]?.outcome, 'InvalidData');
    assert.match(p.status.runs?.[0]?.message ?? '', /column wind: 12% missing/);
    assert.equal(cond(p, 'Degraded')?.reason, 'InvalidData');
    assert.deepEqual(p.finishedRuns.map((r) => r.outcome), ['InvalidData']);
  });

  it('a failed Job without a report is Failed with the Job\'s reason', () => {
    const p = plan(running(4, 'v3'), {
      jobs: [job('weather-4', { phase: 'Failed', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline', completionTime: undefined })],
      result: { kind: 'noValidationReport' },
    });
    assert.match(p.status.runs?.[0]?.message ?? '', /DeadlineExceeded/);
  });

  it('retention after a blessing deletes the oldest versions, never the champion or a served one', () => {
    const tp = running(6, 'v1', (t) => { t.spec.retention.keepVersions = 2; });
    const p = plan(tp, {
      jobs: [job('weather-6', succeeded)],
      result: { kind: 'published', manifest: manifest('v6'), report: report({ accuracy: 0.9 }, { version: 'v1', metrics: { accuracy: 0.8 } }) },
      versions: ['v1', 'v2', 'v3', 'v4', 'v5', 'v6'],
      servedVersions: ['v2'],
    });
    assert.equal(p.status.championVersion, 'v6');
    assert.deepEqual(p.deleteVersions, ['v1', 'v3', 'v4']);
  });
});

describe('planTrainingPipeline: deletion and the finalizer', () => {
  it('onDelete Delete adds the finalizer first, and nothing else', () => {
    const p = plan(pipeline((t) => { t.spec.retention.onDelete = 'Delete'; }));
    assert.equal(p.finalizer, 'add');
    assert.equal(p.createJob, undefined);
  });

  it('a deleted pipeline with Delete cleans up the store before its finalizer goes', () => {
    const tp = pipeline((t) => { t.spec.retention.onDelete = 'Delete'; t.metadata.finalizers = ['perennial.dev/cleanup']; t.metadata.deletionTimestamp = '2026-11-21T10:00:00Z'; });
    const p = plan(tp, { cleanupKeys: ['pipelines/ml/weather/versions/v1/manifest.json'] });
    assert.deepEqual(p.cleanup, { keys: ['pipelines/ml/weather/versions/v1/manifest.json'] });
  });

  it('a finalizer left over after switching to Retain is removed', () => {
    const p = plan(idle((t) => { t.metadata.finalizers = ['perennial.dev/cleanup']; }));
    assert.equal(p.finalizer, 'remove');
  });
});

describe('planTrainingPipeline: drift', () => {
  it('drift above the threshold is remembered, fires after `for`, and a run clears it', () => {
    const withDrift = (t: TrainingPipeline): void => { t.spec.triggers.drift = { deployment: 'weather', psiThreshold: 0.25, for: '10m' }; };
    const deployments = { weather: liveMetrics({ maxDriftPsi: 0.4 }) };
    const first = plan(idle(withDrift), { deployments });
    assert.equal(first.status.driftSince, '2026-11-21T10:00:00Z');
    assert.equal(first.createJob, undefined);
    assert.equal(first.requeueAfterMs, 600_000);
    const later = plan({ ...idle(withDrift), status: first.status }, { deployments, nowMs: t0 + 600_000 });
    assert.equal(later.status.runs?.[0]?.trigger, 'Drift');
    assert.equal(later.status.driftSince, undefined);
  });
});

describe('planTrainingPipeline: what the run\'s pods say', () => {
  const unschedulable: PodObject = {
    metadata: { name: 'weather-2-abcde' },
    status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient nvidia.com/gpu.' }] },
  };
  const active = job('weather-2', { phase: 'Active' });

  it('an unschedulable pod: the run and the pipeline say so with the scheduler\'s message, once; looked at again; still Running', () => {
    const first = plan(running(2, 'v1'), { jobs: [active], runPods: [unschedulable] });
    assert.equal(first.status.phase, 'Running');
    assert.equal(cond(first, 'Progressing')?.reason, 'Unschedulable');
    assert.equal(cond(first, 'Progressing')?.status, 'True');
    assert.match(first.status.message ?? '', /^Run weather-2: The training pod weather-2-abcde cannot be scheduled: 0\/1 nodes are available: 1 Insufficient nvidia\.com\/gpu\.$/);
    assert.match(first.status.runs?.[0]?.message ?? '', /Insufficient nvidia\.com\/gpu/);
    assert.deepEqual(first.events.map((e) => [e.type, e.reason]), [['Warning', 'Unschedulable']]);
    assert.equal(first.requeueAfterMs, 10_000);
    const second = plan(running(2, 'v1', (tp) => { tp.status = first.status; }), { jobs: [active], runPods: [unschedulable], nowMs: t0 + 10_000 });
    assert.deepEqual(second.status, first.status, 'a fixed point');
    assert.deepEqual(second.events, [], 'said once');
  });

  it('once the pod runs, the run\'s message and the condition go back to training', () => {
    const reported = plan(running(2, 'v1'), { jobs: [active], runPods: [unschedulable] });
    const runningPod: PodObject = { metadata: { name: 'weather-2-abcde' }, status: { phase: 'Running', containerStatuses: [{ name: 'trainer', state: { running: {} } }] } };
    const p = plan(running(2, 'v1', (tp) => { tp.status = reported.status; }), { jobs: [active], runPods: [runningPod] });
    assert.equal(cond(p, 'Progressing')?.reason, 'RunRunning');
    assert.equal(p.status.message, 'Run weather-2 is training.');
    assert.equal(p.status.runs?.[0]?.message, undefined);
    assert.equal(p.requeueAfterMs, undefined);
  });

  it('a Job still active for a run that has ended is stopped; the current run\'s is not', () => {
    const p = plan(running(2, 'v1'), { jobs: [job('weather-1', { phase: 'Active' }), active, job('weather-0', succeeded)] });
    assert.deepEqual(p.stopJobs, [{ name: 'weather-1', uid: 'uid-weather-1' }]);
  });

  it('a succeeded Job is judged by the store, whatever an earlier pod said', () => {
    const oomEarlier: PodObject = { metadata: { name: 'weather-2-old' }, status: { phase: 'Failed', containerStatuses: [{ name: 'trainer', state: { terminated: { reason: 'OOMKilled', exitCode: 137 } } }] } };
    const p = plan(running(2, 'v1'), { jobs: [job('weather-2', succeeded)], runPods: [oomEarlier], result: { kind: 'published', manifest: manifest('v2'), report: report({ accuracy: 0.85 }, { version: 'v1', metrics: { accuracy: 0.8 } }) } });
    assert.equal(p.status.runs?.[0]?.outcome, 'Blessed');
  });
});

describe('needsFreshListing', () => {
  const data = { objects: 1, digest: 'd', newestMs: t0 - 3_600_000, newObjects: 0, newRows: 0 };
  const manual = (tp: TrainingPipeline): void => { tp.metadata.annotations = { 'perennial.dev/trigger': 'now' }; };
  const table: Array<{ name: string; tp: TrainingPipeline; data: Observed['data']; want: boolean }> = [
    { name: 'a run starts from a kept listing (or the watermark standing in): list first', tp: idle(manual), data: { ...data, kept: true }, want: true },
    { name: 'a run starts from a listing made now: no', tp: idle(manual), data, want: false },
    { name: 'a kept listing, no run starts: no', tp: idle(), data: { ...data, kept: true }, want: false },
    { name: 'a run goes on (Forbid), a kept listing: no', tp: running(2, 'v1', manual), data: { ...data, kept: true }, want: false },
    { name: 'no newData trigger (no listing), a run starts: no', tp: idle(manual), data: undefined, want: false },
  ];
  for (const t of table) {
    it(t.name, () => {
      const o = observed(t.tp, { data: t.data });
      assert.equal(needsFreshListing(o, planTrainingPipeline(o)), t.want);
    });
  }
});
