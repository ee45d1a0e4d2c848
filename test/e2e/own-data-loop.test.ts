// The loop on a second real, public, time-ordered dataset that is not weather, as a user brings their own
// (docs/own-data.md): the FAA wildlife strikes 1990–2002 (vega-datasets birdstrikes.csv, test/support/birdstrikes.ts),
// a regression of the aircraft's speed from categorical columns whose names have spaces, with event time
// (`Flight Date`) and a row id (`Record ID`). Real processes and HTTP only: the local cluster, a real node running
// the trainer and server images as pods, the operator installed by helm.
//   1. Period 1 (1990–1992) is uploaded as one CSV; a TrainingPipeline (newData trigger polling every 10 s, rows
//      matched by row id, fed-back copies dropped, refit) trains v1; a ModelDeployment serves it.
//   2. For each following period (1993–1995, 1996–1998), as a batch: every strike of the period is sent for a
//      prediction through the Service, then the known speeds (72% of them) go back through the feedback Service;
//      live RMSE is reported for the batch. Then the period's labelled rows are uploaded as a CSV: the same rows
//      arrive as feedback and as data. The newData trigger retrains.
//   3. From the store: the holdout of each run is the newest uploaded rows by event time (its range in metrics.json),
//      every fed-back copy of an uploaded row was dropped and counted (lineage.json), so the rows trained and held
//      out are exactly the uploaded ones (no double counting).
//   4. The loop settles: after the last upload and its retrain, no run starts over several poll intervals.
// The server pods run two workers each (spec.server.workers: 2): every step above goes through a pod's primary and its
// two serving processes.
// Steps 1 and 2 are driven by test/support/period-loop.ts (shared with bench/prequential.ts --loop); the checks of the
// store (3) and of settling (4) are this file's.
// The milestones print as `# <seconds since start> <what>` lines.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { artifactKey } from '../../src/shared/artifact-layout.js';
import { birdstrikes } from '../support/birdstrikes.js';
import { dataPrefix } from '../support/dataset.js';
import { LoopStack } from '../support/loop-stack.js';
import { operatorLogs } from '../support/operator-chart.js';
import { PeriodLoop } from '../support/period-loop.js';

const namespace = 'own';
const name = 'birdstrikes';
const first = '1990-1992';
const following = ['1993-1995', '1996-1998'];
const pollInterval = '10s';
const pollMs = 10_000;
const started = Date.now();
const milestone = (what: string): void => console.log(`# ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s  ${what}`);

/** What lineage.json says about the rows of a run (the fields this test reads; see src/trainer/run.ts). */
interface Lineage {
  readonly sources: readonly { readonly key: string }[];
  readonly feedback?: { readonly joined?: number };
  readonly rows: { readonly loaded: number; readonly train: number; readonly validation: number; readonly holdout: number };
  readonly duplicates?: {
    readonly policy: string;
    readonly matchedBy: string;
    readonly fedBackMatchingHoldout: number;
    readonly fedBackMatchingUploaded: number;
    readonly fedBackRepeated: number;
    readonly fedBackKept: number;
  };
  readonly refit?: unknown;
}

interface Metrics {
  readonly holdout: { readonly kind: string; readonly rows: number; readonly from?: string; readonly to?: string };
  readonly candidate: { readonly metrics: Record<string, number> };
  readonly baseline: { readonly kind: string; readonly metrics: Record<string, number> };
}

describe('the loop on the FAA bird strikes (regression, event time, row ids, batches through the Services)', () => {
  let stack: LoopStack;

  before(async () => {
    stack = await LoopStack.start({ name: 'e2e-own-data', namespace, operator: 'helm', data: { dataset: birdstrikes, periods: [first] }, log: (l) => milestone(l) });
    milestone(`cluster, node and the helm-installed operator up; bird strikes ${first} in s3://${stack.bucket}/${dataPrefix(namespace, birdstrikes)}`);
  });

  after(async () => {
    if (stack !== undefined) {
      const logs = await operatorLogs(stack.cluster).catch((e: unknown) => `no operator logs: ${String(e)}`);
      writeFileSync(join(stack.cluster.logDir, 'operator.log'), logs);
      milestone(`operator log: ${join(stack.cluster.logDir, 'operator.log')}`);
    }
    await stack?.stop();
  });

  it('retrains on each uploaded period, evaluates on the newest uploaded rows, counts each row once, and settles', async () => {
    // The pipeline (newData trigger, rows matched by row id, fed-back copies dropped, refit) and the deployment, driven a
    // period at a time (test/support/period-loop.ts); every blessed run's store is checked before its rollout.
    const loop = new PeriodLoop(stack, {
      name, dataset: birdstrikes, initial: [first], pollInterval, log: milestone,
      // Two serving workers in the pod (a primary and two forked processes under the real kubelet, read-only root,
      // non-root): the labels through the feedback Service reach the primary, the live RMSE is read from the pod's
      // summed /metrics, and every label joins its prediction in whichever worker's log it was written.
      workers: 2,
      onBlessed: (version, l) => checkRun(version, l.uploaded, l.labelsSent),
    });
    await loop.apply();
    milestone('TrainingPipeline and ModelDeployment applied');

    const v1 = await loop.finished('v1');
    assert.equal(v1.trigger, 'Initial');
    milestone(`v1 blessed: holdout rmse ${v1.metrics?.['rmse']?.toFixed(2) ?? '?'} on ${loop.uploaded.length} uploaded rows`);
    await checkRun('v1', loop.uploaded, 0);
    await loop.served('v1');
    milestone('v1 serving');

    // Each period: its batch predicted and labelled (live RMSE), then uploaded: a NewData run, blessed, served.
    for (const period of following) await loop.runPeriod(period);

    // 4. The loop settles: no new data, no run (the feedback log is not data; the served model changes nothing).
    const settled = (await loop.pipelineStatus()).status?.runCount ?? 0;
    await sleep(4 * pollMs);
    const tp = await loop.pipelineStatus();
    assert.equal(tp.status?.runCount, settled, `no run without new data: ${JSON.stringify(tp.status?.runs?.[0])}`);
    assert.equal(tp.status?.currentRun, undefined);
    milestone(`settled: ${settled} runs, none in ${(4 * pollMs) / 1000} s (${4} poll intervals) without new data`);
  });

  /**
   * What the store says about a run: its holdout is the newest uploaded rows by event time, every fed-back row copies
   * an uploaded one and was dropped and counted, so the rows it trained and held out are the uploaded ones, once each.
   */
  async function checkRun(version: string, uploaded: readonly Record<string, string>[], fedBack: number): Promise<void> {
    const ref = { namespace, name };
    const metrics = await stack.readJson<Metrics>(artifactKey(ref, version, 'metrics'));
    const lineage = await stack.readJson<Lineage>(artifactKey(ref, version, 'lineage'));
    const dates = uploaded.map((r) => r['Flight Date'] ?? '').sort();
    const held = Math.ceil(dates.length * 0.2);
    const h = metrics.holdout;
    milestone(`${version}: holdout ${h.rows} rows ${h.from ?? '?'} … ${h.to ?? '?'}; rmse ${metrics.candidate.metrics['rmse']?.toFixed(2) ?? '?'} vs ${metrics.baseline.kind} ${metrics.baseline.metrics['rmse']?.toFixed(2) ?? '?'}; ` +
      `rows ${JSON.stringify(lineage.rows)}; feedback ${JSON.stringify(lineage.feedback ?? null)}; duplicates ${JSON.stringify(lineage.duplicates ?? null)}`);
    // The holdout: the newest fifth of the uploaded rows by event time, never fed-back rows.
    assert.equal(h.rows, held, `holdout rows of ${version}`);
    assert.equal(h.to?.slice(0, 10), dates.at(-1), `holdout ends at the newest uploaded row (${version})`);
    assert.equal(h.from?.slice(0, 10), dates[dates.length - held], `holdout starts at the ${held}th newest uploaded row (${version})`);
    // Every row once: what was trained on and held out is exactly what was uploaded.
    assert.equal(lineage.rows.train + lineage.rows.validation + lineage.rows.holdout, uploaded.length, `rows of ${version}: ${JSON.stringify(lineage.rows)}`);
    if (fedBack === 0) return;
    assert.ok(lineage.sources.some((s) => s.key.includes('/feedback/')), 'the feedback log is read');
    assert.equal(lineage.feedback?.joined, fedBack, `every label sent joins its prediction (${version})`);
    const d = lineage.duplicates;
    assert.ok(d, `lineage of ${version} reports duplicates`);
    assert.equal(d.matchedBy, 'rowId');
    assert.equal(d.fedBackKept, 0, `no fed-back copy of an uploaded row is trained on (${version})`);
    assert.equal(d.fedBackMatchingHoldout + d.fedBackMatchingUploaded + d.fedBackRepeated, fedBack, `every fed-back copy dropped and counted (${version})`);
  }
});
