import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TrainingPipelineSpec, TrainingPipelineStatus } from '../../../api/training-pipeline.js';
import { liveMetrics, pipeline } from './fixtures.js';
import { computeScheduleTimes, dataPollIntervalMs, decideTriggers, performanceReading, scheduleTimes, sequentialReading, type TriggerDecision, type TriggerInput } from './triggers.js';

const at = (iso: string): number => Date.parse(iso);
/** An established pipeline (one run so far, a champion), its last run long ago. */
const baseStatus: TrainingPipelineStatus = { runCount: 1, championVersion: 'v1', lastTriggerTime: '2026-11-01T00:00:00Z' };

function decide(edit: { spec?: (s: TrainingPipelineSpec) => void; status?: TrainingPipelineStatus; now?: string } & Partial<Omit<TriggerInput, 'spec' | 'status'>> = {}): TriggerDecision {
  const tp = pipeline();
  edit.spec?.(tp.spec);
  const { spec: _s, status, now, ...rest } = edit;
  return decideTriggers({
    spec: tp.spec, status: status ?? baseStatus, annotations: {}, createdMs: at('2026-11-01T00:00:00Z'),
    nowMs: at(now ?? '2026-11-21T10:00:00Z'), runActive: false, deployments: {}, data: undefined, dataPollMs: 60_000, ...rest,
  });
}

const kinds = (d: TriggerDecision): string[] => d.start.map((f) => f.kind);
const daily = (s: TrainingPipelineSpec): void => { s.triggers.schedule = { cron: '0 3 * * *', timeZone: 'Europe/Berlin', startingDeadline: '1h' }; };

describe('decideTriggers', () => {
  const table: Array<[string, Parameters<typeof decide>[0], string[]]> = [
    ['nothing configured, champion exists: nothing fires', {}, []],
    ['a new pipeline without a champion gets an Initial run', { status: {} }, ['Initial']],
    ['but only once: a failed first run is not retried by Initial', { status: { runCount: 1 } }, []],
    ['a new annotation value fires Manual', { annotations: { 'perennial.dev/trigger': 'a' } }, ['Manual']],
    ['the value already acted on does not', { annotations: { 'perennial.dev/trigger': 'a' }, status: { ...baseStatus, lastManualTrigger: 'a' } }, []],
    ['a schedule due within startingDeadline fires (03:00 Berlin is 02:00 UTC)', { spec: daily, now: '2026-11-21T02:30:00Z', status: { ...baseStatus, lastScheduleTime: '2026-11-20T02:00:00Z' } }, ['Schedule']],
    ['a schedule missed by more than startingDeadline is skipped', { spec: daily, now: '2026-11-21T03:30:00Z', status: { ...baseStatus, lastScheduleTime: '2026-11-20T02:00:00Z' } }, []],
    ['a schedule already run does not fire again', { spec: daily, now: '2026-11-21T02:30:00Z', status: { ...baseStatus, lastScheduleTime: '2026-11-21T02:00:00Z' } }, []],
    ['several triggers at once: one run, Manual first, every reason kept', { spec: daily, now: '2026-11-21T02:30:00Z', annotations: { 'perennial.dev/trigger': 'x' }, status: { ...baseStatus, lastScheduleTime: '2026-11-20T02:00:00Z' } }, ['Manual', 'Schedule']],
    ['suspend stops every trigger', { spec: (s) => { s.suspend = true; }, annotations: { 'perennial.dev/trigger': 'a' } }, []],
    ['minInterval holds a trigger back', { annotations: { 'perennial.dev/trigger': 'a' }, status: { ...baseStatus, lastTriggerTime: '2026-11-21T09:55:00Z' } }, []],
    ['Forbid holds a trigger back while a run is active', { annotations: { 'perennial.dev/trigger': 'a' }, runActive: true }, []],
    ['Replace starts anew while a run is active', { spec: (s) => { s.triggers.concurrencyPolicy = 'Replace'; }, annotations: { 'perennial.dev/trigger': 'a' }, runActive: true }, ['Manual']],
    ['performance below the threshold for long enough fires', {
      spec: (s) => { s.triggers.performance = { deployment: 'md', metric: 'accuracy', threshold: 0.7, minSamples: 100, for: '10m' }; },
      deployments: { md: liveMetrics({ accuracy: 0.6, labelledSamples: 500 }) }, status: { ...baseStatus, performanceSince: '2026-11-21T09:00:00Z' },
    }, ['Performance']],
    ['performance with too few labelled samples is not trusted', {
      spec: (s) => { s.triggers.performance = { deployment: 'md', metric: 'accuracy', threshold: 0.7, minSamples: 100, for: '10m' }; },
      deployments: { md: liveMetrics({ accuracy: 0.1, labelledSamples: 10 }) }, status: { ...baseStatus, performanceSince: '2026-11-21T09:00:00Z' },
    }, []],
    ['rmse above the threshold is bad performance', {
      spec: (s) => { s.triggers.performance = { deployment: 'md', metric: 'rmse', threshold: 2, minSamples: 1, for: '1m' }; },
      deployments: { md: liveMetrics({ rmse: 3, labelledSamples: 5 }) }, status: { ...baseStatus, performanceSince: '2026-11-21T09:00:00Z' },
    }, ['Performance']],
    ['log loss above the threshold is bad performance', {
      spec: (s) => { s.triggers.performance = { deployment: 'md', metric: 'logLoss', threshold: 0.6, minSamples: 1, for: '1m' }; },
      deployments: { md: liveMetrics({ logLoss: 0.9, labelledSamples: 5 }) }, status: { ...baseStatus, performanceSince: '2026-11-21T09:00:00Z' },
    }, ['Performance']],
    ['log loss below the threshold is fine', {
      spec: (s) => { s.triggers.performance = { deployment: 'md', metric: 'logLoss', threshold: 0.6, minSamples: 1, for: '1m' }; },
      deployments: { md: liveMetrics({ logLoss: 0.4, labelledSamples: 5 }) }, status: { ...baseStatus, performanceSince: '2026-11-21T09:00:00Z' },
    }, []],
    ['estimated accuracy below the threshold fires with no label at all', {
      spec: (s) => { s.triggers.performance = { deployment: 'md', metric: 'estimatedAccuracy', threshold: 0.7, minSamples: 100, for: '10m' }; },
      deployments: { md: liveMetrics({ estimatedAccuracy: 0.55, estimatedSamples: 400 }) }, status: { ...baseStatus, performanceSince: '2026-11-21T09:00:00Z' },
    }, ['Performance']],
    ['estimated accuracy above the threshold is fine, whatever the labels say (they are another metric)', {
      spec: (s) => { s.triggers.performance = { deployment: 'md', metric: 'estimatedAccuracy', threshold: 0.7, minSamples: 100, for: '10m' }; },
      deployments: { md: liveMetrics({ estimatedAccuracy: 0.8, estimatedSamples: 400, accuracy: 0.3, labelledSamples: 500 }) }, status: { ...baseStatus, performanceSince: '2026-11-21T09:00:00Z' },
    }, []],
    ['estimated accuracy on fewer predictions than minSamples is not trusted (labels do not count for it)', {
      spec: (s) => { s.triggers.performance = { deployment: 'md', metric: 'estimatedAccuracy', threshold: 0.7, minSamples: 100, for: '10m' }; },
      deployments: { md: liveMetrics({ estimatedAccuracy: 0.2, estimatedSamples: 20, labelledSamples: 500 }) }, status: { ...baseStatus, performanceSince: '2026-11-21T09:00:00Z' },
    }, []],
    ['drift from the per-feature map when maxDriftPsi is absent', {
      spec: (s) => { s.triggers.drift = { deployment: 'md', psiThreshold: 0.25, for: '10m' }; },
      deployments: { md: liveMetrics({ drift: { a: 0.1, b: 0.3 } }) }, status: { ...baseStatus, driftSince: '2026-11-21T09:00:00Z' },
    }, ['Drift']],
    ['drift measured on the version the champion is canarying to replace is old news', {
      spec: (s) => { s.triggers.drift = { deployment: 'md', psiThreshold: 0.25, for: '10m' }; },
      deployments: { md: { ...liveMetrics({ version: 'v1', maxDriftPsi: 0.9 }), canaryVersion: 'v2' } }, status: { ...baseStatus, championVersion: 'v2', driftSince: '2026-11-21T09:00:00Z' },
    }, []],
    ['so is poor accuracy measured on it', {
      spec: (s) => { s.triggers.performance = { deployment: 'md', metric: 'accuracy', threshold: 0.7, minSamples: 100, for: '10m' }; },
      deployments: { md: { ...liveMetrics({ version: 'v1', accuracy: 0.5, labelledSamples: 500 }), canaryVersion: 'v2' } }, status: { ...baseStatus, championVersion: 'v2', performanceSince: '2026-11-21T09:00:00Z' },
    }, []],
    ['nor does the last measurement of the version just promoted away', {
      spec: (s) => { s.triggers.drift = { deployment: 'md', psiThreshold: 0.25, for: '10m' }; },
      deployments: { md: { ...liveMetrics({ version: 'v1', maxDriftPsi: 0.9 }), stableVersion: 'v2' } }, status: { ...baseStatus, championVersion: 'v2', driftSince: '2026-11-21T09:00:00Z' },
    }, []],
    ['the first measurement of the promoted champion counts', {
      spec: (s) => { s.triggers.drift = { deployment: 'md', psiThreshold: 0.25, for: '10m' }; },
      deployments: { md: { ...liveMetrics({ version: 'v2', maxDriftPsi: 0.9 }), stableVersion: 'v2' } }, status: { ...baseStatus, championVersion: 'v2', driftSince: '2026-11-21T09:00:00Z' },
    }, ['Drift']],
    ['a deployment following this pipeline, measured on the version before the champion (about to roll it out): stale', {
      spec: (s) => { s.triggers.performance = { deployment: 'md', metric: 'accuracy', threshold: 0.7, minSamples: 100, for: '10m' }; },
      deployments: { md: { ...liveMetrics({ version: 'v1', accuracy: 0.5, labelledSamples: 500 }), stableVersion: 'v1' } }, following: ['md'],
      status: { ...baseStatus, championVersion: 'v2', performanceSince: '2026-11-21T09:00:00Z' },
    }, []],
    ['the same measurement of a deployment serving a fixed version counts', {
      spec: (s) => { s.triggers.performance = { deployment: 'md', metric: 'accuracy', threshold: 0.7, minSamples: 100, for: '10m' }; },
      deployments: { md: { ...liveMetrics({ version: 'v1', accuracy: 0.5, labelledSamples: 500 }), stableVersion: 'v1' } }, following: [],
      status: { ...baseStatus, championVersion: 'v2', performanceSince: '2026-11-21T09:00:00Z' },
    }, ['Performance']],
    ['a following deployment that aborted the champion: its measurements count', {
      spec: (s) => { s.triggers.performance = { deployment: 'md', metric: 'accuracy', threshold: 0.7, minSamples: 100, for: '10m' }; },
      deployments: { md: { ...liveMetrics({ version: 'v1', accuracy: 0.5, labelledSamples: 500 }), stableVersion: 'v1', abortedVersion: 'v2' } }, following: ['md'],
      status: { ...baseStatus, championVersion: 'v2', performanceSince: '2026-11-21T09:00:00Z' },
    }, ['Performance']],
    ['drift counts again once the champion\'s canary was aborted', {
      spec: (s) => { s.triggers.drift = { deployment: 'md', psiThreshold: 0.25, for: '10m' }; },
      deployments: { md: { ...liveMetrics({ version: 'v1', maxDriftPsi: 0.9 }), abortedVersion: 'v2' } }, status: { ...baseStatus, championVersion: 'v2', driftSince: '2026-11-21T09:00:00Z' },
    }, ['Drift']],
    ['a canary of some other version (not this champion) does not hide drift', {
      spec: (s) => { s.triggers.drift = { deployment: 'md', psiThreshold: 0.25, for: '10m' }; },
      deployments: { md: { ...liveMetrics({ version: 'v1', maxDriftPsi: 0.9 }), canaryVersion: 'other-v7' } }, status: { ...baseStatus, championVersion: 'v2', driftSince: '2026-11-21T09:00:00Z' },
    }, ['Drift']],
    ['a missing deployment fires nothing', { spec: (s) => { s.triggers.drift = { deployment: 'md', psiThreshold: 0.25, for: '10m' }; } }, []],
    ['enough new objects fire NewData', {
      spec: (s) => { s.triggers.newData = { minObjects: 2 }; }, status: { ...baseStatus, dataWatermark: { objects: 3, digest: 'a', newestObjectTime: '2026-11-20T00:00:00Z' } },
      data: { objects: 5, digest: 'b', newestMs: at('2026-11-21T09:00:00Z'), newObjects: 2, newRows: 10 },
    }, ['NewData']],
    ['too few new rows do not', {
      spec: (s) => { s.triggers.newData = { minRows: 100 }; }, status: { ...baseStatus, dataWatermark: { objects: 3, digest: 'a' } },
      data: { objects: 5, digest: 'b', newestMs: undefined, newObjects: 2, newRows: 10 },
    }, []],
    ['the first listing is a baseline, not new data', {
      spec: (s) => { s.triggers.newData = { minObjects: 1 }; }, data: { objects: 5, digest: 'b', newestMs: undefined, newObjects: 0, newRows: 0 },
    }, []],
  ];
  for (const [name, input, want] of table) it(name, () => assert.deepEqual(kinds(decide(input)), want));

  it('after downtime, many missed schedules give one catch-up run for the latest, then wait for the next', () => {
    const status = { ...baseStatus, lastScheduleTime: '2026-11-10T02:00:00Z' }; // down for 11 days
    const d = decide({ spec: daily, now: '2026-11-21T02:20:00Z', status });
    assert.deepEqual(kinds(d), ['Schedule']);
    assert.equal(d.lastScheduleTime, '2026-11-21T02:00:00Z');
    const after = decide({ spec: daily, now: '2026-11-21T02:21:00Z', status: { ...status, lastScheduleTime: d.lastScheduleTime, lastTriggerTime: '2026-11-21T02:20:00Z' } });
    assert.deepEqual(kinds(after), []);
    assert.equal(after.nextScheduleTime, '2026-11-22T02:00:00Z');
    assert.equal(after.wakeAtMs, at('2026-11-22T02:00:00Z'));
  });

  it('a trigger held back by minInterval wakes at its end', () => {
    const d = decide({ annotations: { 'perennial.dev/trigger': 'a' }, status: { ...baseStatus, lastTriggerTime: '2026-11-21T09:55:00Z' } });
    assert.equal(d.wakeAtMs, at('2026-11-21T10:05:00Z'));
    assert.match(d.waiting ?? '', /minInterval/);
  });

  it('a starting run absorbs the annotation, the schedule, the data and the timers', () => {
    const d = decide({
      spec: (s) => { daily(s); s.triggers.newData = { minObjects: 1 }; s.triggers.drift = { deployment: 'md', psiThreshold: 0.2, for: '1m' }; },
      now: '2026-11-21T02:30:00Z', annotations: { 'perennial.dev/trigger': 'go' },
      status: { ...baseStatus, lastScheduleTime: '2026-11-20T02:00:00Z', dataWatermark: { objects: 1, digest: 'a' }, driftSince: '2026-11-21T02:00:00Z' },
      deployments: { md: liveMetrics({ maxDriftPsi: 0.5 }) },
      data: { objects: 2, digest: 'b', newestMs: at('2026-11-21T01:00:00Z'), newObjects: 1, newRows: 3 },
    });
    assert.deepEqual(kinds(d), ['Manual', 'Schedule', 'Drift', 'NewData']);
    assert.equal(d.lastManualTrigger, 'go');
    assert.equal(d.lastScheduleTime, '2026-11-21T02:00:00Z');
    assert.deepEqual(d.dataWatermark, { objects: 2, digest: 'b', newestObjectTime: '2026-11-21T01:00:00.000Z' });
    assert.equal(d.driftSince, undefined);
  });

  it('drift first seen starts the `for` timer and wakes at its end; drift gone clears it', () => {
    const spec = (s: TrainingPipelineSpec): void => { s.triggers.drift = { deployment: 'md', psiThreshold: 0.25, for: '15m' }; };
    const seen = decide({ spec, deployments: { md: liveMetrics({ maxDriftPsi: 0.3 }) } });
    assert.equal(seen.driftSince, '2026-11-21T10:00:00Z');
    assert.equal(seen.wakeAtMs, at('2026-11-21T10:15:00Z'));
    const gone = decide({ spec, deployments: { md: liveMetrics({ maxDriftPsi: 0.1 }) }, status: { ...baseStatus, driftSince: '2026-11-21T09:59:00Z' } });
    assert.equal(gone.driftSince, undefined);
  });
});

describe('the data poll interval', () => {
  const newData = (pollInterval?: string) => (s: TrainingPipelineSpec): void => { s.triggers.newData = { minObjects: 1, ...(pollInterval ? { pollInterval } : {}) }; };
  const listing = { objects: 1, digest: 'a', newestMs: undefined, newObjects: 0, newRows: 0 };
  const watermark = { objects: 1, digest: 'a' };
  const table: Array<[string, string | undefined, number, number]> = [
    ['no pollInterval: the operator\'s setting', undefined, 60_000, 60_000],
    ['no pollInterval, another operator setting', undefined, 5_000, 5_000],
    ['the pipeline\'s own, shorter than the operator\'s', '10s', 60_000, 10_000],
    ['the pipeline\'s own, longer', '15m', 60_000, 900_000],
    ['compound durations', '1h30m', 60_000, 5_400_000],
    ['below the 10s minimum (stored before the rule): the operator\'s', '1s', 60_000, 60_000],
  ];
  for (const [name, poll, operatorMs, want] of table) {
    it(name, () => {
      const tp = pipeline();
      newData(poll)(tp.spec);
      assert.equal(dataPollIntervalMs(tp.spec, operatorMs), want);
      // Idle, waiting for data: the next look is one interval on.
      const idle = decide({ spec: newData(poll), dataPollMs: operatorMs, data: listing, status: { ...baseStatus, dataWatermark: watermark } });
      assert.equal(idle.wakeAtMs, at('2026-11-21T10:00:00Z') + want);
    });
  }
  it('a run that starts sets no poll wake-up: its status write brings the next reconcile, which lists and says when to poll', () => {
    const started = decide({ spec: newData(undefined), dataPollMs: 60_000, data: { ...listing, newObjects: 1, nextPollAtMs: at('2026-11-21T10:01:00Z') }, status: { ...baseStatus, dataWatermark: watermark } });
    assert.deepEqual(kinds(started), ['NewData']);
    assert.equal(started.wakeAtMs, undefined);
  });
  it('without a newData trigger nothing is polled', () => assert.equal(decide({ dataPollMs: 10_000 }).wakeAtMs, undefined));
});

describe('the performance trigger on the estimated accuracy (no labels)', () => {
  it('a first reading below the threshold starts the `for` timer; held for `for`, it fires and says why', () => {
    const spec = (s: TrainingPipelineSpec): void => { s.triggers.performance = { deployment: 'md', metric: 'estimatedAccuracy', threshold: 0.7, minSamples: 100, for: '10m' }; };
    const deployments = { md: liveMetrics({ estimatedAccuracy: 0.6123, estimatedSamples: 300 }) };
    const first = decide({ spec, deployments });
    assert.deepEqual([kinds(first), first.performanceSince, first.wakeAtMs], [[], '2026-11-21T10:00:00Z', at('2026-11-21T10:10:00Z')]);
    const later = decide({ spec, deployments, status: { ...baseStatus, performanceSince: first.performanceSince ?? '' }, now: '2026-11-21T10:10:00Z' });
    assert.deepEqual(kinds(later), ['Performance']);
    assert.match(later.start[0]?.reason ?? '', /^live estimatedAccuracy 0\.6123 < 0\.7 on ModelDeployment md since 2026-11-21T10:00:00Z/);
  });
});

describe('the performance trigger across batches', () => {
  const perf = (s: TrainingPipelineSpec): void => { s.triggers.performance = { deployment: 'md', metric: 'accuracy', threshold: 0.7, minSamples: 100, for: '2h' }; };
  const since = '2026-11-21T07:00:00Z'; // three hours before now: longer than `for`
  const table: Array<[string, TriggerInput['deployments'], string | undefined, string, string | undefined, string[]]> = [
    ['enough labels on the wrong side, held for `for`: fires', { md: liveMetrics({ accuracy: 0.5, labelledSamples: 100 }) }, since, 'wrong', undefined, ['Performance']],
    ['exactly minSamples labels count', { md: liveMetrics({ accuracy: 0.5, labelledSamples: 100 }) }, undefined, 'wrong', '2026-11-21T10:00:00Z', []],
    ['between batches, too few labels: the timer stays, nothing fires', { md: liveMetrics({ accuracy: 0.5, labelledSamples: 99 }) }, since, 'unknown', since, []],
    ['between batches, no quality figure at all: the timer stays', { md: liveMetrics({ requestRate: 0 }) }, since, 'unknown', since, []],
    ['too few labels do not start a timer either', { md: liveMetrics({ accuracy: 0.1, labelledSamples: 3 }) }, undefined, 'unknown', undefined, []],
    ['a batch on the right side with enough labels stops it', { md: liveMetrics({ accuracy: 0.9, labelledSamples: 150 }) }, since, 'right', undefined, []],
    ['no live metrics (a new stable version, figures dropped) stop it', { md: {} }, since, 'right', undefined, []],
    ['a deployment that is gone stops it', {}, since, 'right', undefined, []],
  ];
  for (const [name, deployments, performanceSince, reading, wantSince, want] of table) {
    it(name, () => {
      const input = { spec: perf, deployments, status: { ...baseStatus, ...(performanceSince ? { performanceSince } : {}) } };
      const tp = pipeline();
      perf(tp.spec);
      assert.equal(performanceReading({ spec: tp.spec, status: input.status, annotations: {}, createdMs: 0, nowMs: at('2026-11-21T10:00:00Z'), runActive: false, deployments, data: undefined, dataPollMs: 60_000 }).reading, reading);
      const d = decide(input);
      assert.deepEqual(kinds(d), want);
      if (want.length === 0) assert.equal(d.performanceSince, wantSince);
    });
  }
});

describe('scheduleTimes', () => {
  it('answers what a fresh evaluation answers, at every time, across scheduled times and for two schedules in turn', () => {
    const monday = { cron: '0 3 * * 1', timeZone: 'America/Los_Angeles', startingDeadline: '1h' } as const;
    const hourly = { cron: '15 * * * *', startingDeadline: '1h' } as const;
    const start = Date.UTC(2026, 10, 22, 10, 0, 0); // a Sunday
    // Every 37 minutes for ten days: many times inside one interval (the kept answer), and each boundary crossed.
    for (let t = start; t < start + 10 * 86_400_000; t += 37 * 60_000) {
      for (const spec of [monday, hourly]) {
        assert.deepEqual(scheduleTimes(spec, t), computeScheduleTimes(spec, t), `${spec.cron} at ${new Date(t).toISOString()}`);
      }
    }
    // Exactly at a scheduled time it is the latest, and the next one is a week on.
    const at = computeScheduleTimes(monday, start).next ?? 0;
    assert.deepEqual(scheduleTimes(monday, at), { latest: at, next: at + 7 * 86_400_000 });
    // Time going backwards (another pipeline's clock, a test) still gets the right answer.
    assert.deepEqual(scheduleTimes(monday, start), computeScheduleTimes(monday, start));
  });
});

describe('drift trigger with the sequential detector', () => {
  const now = '2026-11-21T10:00:00Z';
  const held = { ...baseStatus, driftSince: '2026-11-21T09:00:00Z' };
  const drift = (extra: Partial<NonNullable<TrainingPipelineSpec['triggers']['drift']>> = {}) => (s: TrainingPipelineSpec): void => {
    s.triggers.drift = { deployment: 'md', psiThreshold: 0.25, for: '10m', ...extra };
  };
  // Two features: the threshold is ln(2 / 1e-8) ≈ 19.1 nats at the default rate, ln(2 / 1e-4) ≈ 9.9 at 1e-4.
  const evidence = (a: number, psi = 0.05): ReturnType<typeof liveMetrics> => liveMetrics({ version: 'v1', driftEvidence: { a, b: 1 }, maxDriftEvidence: a, maxDriftPsi: psi });
  const table: Array<[string, Parameters<typeof decide>[0], string[], string | undefined]> = [
    ['a detection (evidence over ln(F/α)) starts the for timer, though PSI is low (Sequential is the default)', { spec: drift(), deployments: { md: evidence(25) } }, [], now],
    ['a detection held for `for` fires', { spec: drift(), deployments: { md: evidence(25) }, status: held }, ['Drift'], undefined],
    ['evidence below the threshold, PSI low: nothing, and the timer stops', { spec: drift(), deployments: { md: evidence(15) }, status: held }, [], undefined],
    ['a laxer false-alarm rate detects on less evidence', { spec: drift({ falseAlarmRate: 1e-4 }), deployments: { md: evidence(15) }, status: held }, ['Drift'], undefined],
    ['detector Window ignores the evidence: PSI and for only', { spec: drift({ detector: 'Window' }), deployments: { md: evidence(25) }, status: held }, [], undefined],
    ['detector Window still fires on PSI held for `for`', { spec: drift({ detector: 'Window' }), deployments: { md: evidence(0, 0.4) }, status: held }, ['Drift'], undefined],
    ['Sequential honours the PSI threshold too, as before', { spec: drift(), deployments: { md: evidence(0, 0.4) }, status: held }, ['Drift'], undefined],
    ['evidence measured on a version promoted away is old news', {
      spec: drift(), deployments: { md: { ...evidence(25), stableVersion: 'v2' } }, status: { ...held, championVersion: 'v2' },
    }, [], undefined],
    ['a server without the detector (no evidence in liveMetrics): PSI only', { spec: drift(), deployments: { md: liveMetrics({ version: 'v1', maxDriftPsi: 0.05 }) }, status: held }, [], undefined],
  ];
  for (const [name, edit, want, wantSince] of table) {
    it(name, () => {
      const d = decide({ now, ...edit });
      assert.deepEqual(kinds(d), want);
      if (want.length === 0) assert.equal(d.driftSince, wantSince);
    });
  }

  it('says which feature, how much evidence against what threshold, and the PSI', () => {
    const d = decide({ now, spec: drift(), deployments: { md: evidence(25, 0.12) }, status: held });
    assert.match(d.start[0]?.reason ?? '', /^drift detected on a \(evidence 25\.0 ≥ 19\.1 nats, false-alarm rate 1e-8\/row; drift PSI 0\.120\) on ModelDeployment md since 2026-11-21T09:00:00Z \(for 10m\)$/);
  });

  it('a due detection held back by minInterval keeps driftSince and waits', () => {
    const d = decide({ now, spec: drift(), deployments: { md: evidence(25) }, status: { ...held, lastTriggerTime: '2026-11-21T09:59:30Z' } });
    assert.deepEqual(kinds(d), []);
    assert.equal(d.driftSince, '2026-11-21T09:00:00Z');
    assert.match(d.waiting ?? '', /^Drift waiting for minInterval/);
  });
});

describe('sequentialReading', () => {
  const table: Array<[string, Record<string, number> | undefined, number, { feature: string; detected: boolean; threshold: number } | undefined]> = [
    ['no evidence: nothing to say', undefined, 1e-8, undefined],
    ['one feature: ln(1/α)', { a: 18.5 }, 1e-8, { feature: 'a', detected: true, threshold: Math.log(1e8) }],
    ['four features: ln(4/α), the largest judged', { a: 2, b: 19, c: 0, d: 5 }, 1e-8, { feature: 'b', detected: false, threshold: Math.log(4e8) }],
    ['non-finite values are no evidence', { a: Number.NaN, b: 3 }, 1e-8, { feature: 'b', detected: false, threshold: Math.log(1e8) }],
  ];
  for (const [name, driftEvidence, rate, want] of table) {
    it(name, () => {
      const r = sequentialReading(driftEvidence === undefined ? undefined : { time: '2026-11-21T10:00:00Z', version: 'v1', windowSeconds: 3, requestRate: 1, driftEvidence }, rate);
      if (want === undefined) return assert.equal(r, undefined);
      assert.equal(r?.feature, want.feature);
      assert.equal(r?.detected, want.detected);
      assert.ok(Math.abs((r?.threshold ?? 0) - want.threshold) < 1e-9);
    });
  }
});
