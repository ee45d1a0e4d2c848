// The bad-input table: each broken data set ends the real trainer process with the invalid-data exit code,
// a validation report that names the objects, rows and columns and says why, a termination message pointing
// at it, and no manifest (nothing published).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedCluster, uniqueName } from '../../localcluster/test-cluster.js';
import type { ClusterInfo } from '../../localcluster/cluster.js';
import { pipelinePrefix, runValidationReportKey } from '../../src/shared/artifact-layout.js';
import { exitCodes, podEnv, type TerminationMessage } from '../../src/shared/pod-contract.js';
import type { MinioStore } from '../../src/storage/minio-store.js';
import type { ValidationReport } from '../../src/trainer/validate.js';
import { putText, readJsonObject, runTrainer, storeFor, trainerEnv, weatherLines } from './trainer-harness.js';

describe('trainer on bad inputs', () => {
  let info: ClusterInfo;
  let store: MinioStore;
  const bucket = uniqueName('trainer-bad');
  const dir = mkdtempSync(join(tmpdir(), 'trainer-bad-'));
  const { header, rows } = weatherLines();
  const seattle = rows.filter((r) => r.startsWith('Seattle,2012') || r.startsWith('Seattle,2013'));
  const csv = (lines: readonly string[], head = header): string => [head, ...lines].join('\n') + '\n';
  // Replaces one field (by header name) in one line.
  const withField = (line: string, column: string, value: string): string => {
    const cols = header.split(',');
    const fields = line.split(',');
    fields[cols.indexOf(column)] = value;
    return fields.join(',');
  };

  const config = (name: string): Record<string, unknown> => ({
    apiVersion: 'perennial.dev/trainer-config/v1',
    pipeline: { namespace: 'ml', name },
    runId: 'run-1',
    version: 'v1',
    data: { sources: [{ prefix: `${name}/`, format: 'csv' }] },
    schema: {
      features: [
        { name: 'precipitation', type: 'numeric' }, { name: 'temp_max', type: 'numeric' }, { name: 'temp_min', type: 'numeric' },
        { name: 'wind', type: 'numeric' }, { name: 'location', type: 'categorical' },
      ],
      label: 'weather', task: 'classification', timestamp: 'date',
    },
    validation: { minRows: 100, allowedCategories: { location: ['Seattle'] } },
    hyperparameters: { epochs: 2 },
    evaluation: { holdout: { from: '2013-07-01' } },
  });

  const good = seattle.slice(0, 400);
  const cases: { name: string; objects: Record<string, string>; check: string; column?: string; object?: string; line?: number; reason?: RegExp }[] = [
    {
      name: 'missing-column',
      objects: { 'a.csv': csv(good), 'b.csv': csv(seattle.slice(400).map((l) => l.split(',').filter((_, i) => i !== 5).join(',')), 'location,date,precipitation,temp_max,temp_min,weather') },
      check: 'missing-column', column: 'wind', object: 'b.csv',
    },
    {
      name: 'wrong-type',
      objects: { 'a.csv': csv([...good.slice(0, 10), withField(good[10] ?? '', 'temp_max', 'warm'), ...good.slice(11)]) },
      check: 'wrong-type', column: 'temp_max', object: 'a.csv', line: 12, reason: /not a number/,
    },
    {
      name: 'empty-object',
      objects: { 'a.csv': csv(good), 'b.csv': '' },
      check: 'empty-object', object: 'b.csv',
    },
    {
      name: 'nan-label',
      objects: { 'a.csv': csv([...good.slice(0, 5), withField(good[5] ?? '', 'weather', 'NaN'), ...good.slice(6)]) },
      check: 'missing-label', column: 'weather', object: 'a.csv', line: 7, reason: /NaN/,
    },
    {
      name: 'long-line',
      objects: { 'a.csv': csv([...good.slice(0, 20), `Seattle,2012-01-21,${'9'.repeat(5 * 1024 * 1024)},1,1,1,rain`, ...good.slice(20)]) },
      check: 'malformed-line', object: 'a.csv', line: 22, reason: /longer than the limit/,
    },
    {
      name: 'unknown-category',
      objects: { 'a.csv': csv([...good.slice(0, 30), withField(good[30] ?? '', 'location', 'Atlantis'), ...good.slice(31)]) },
      check: 'unseen-category', column: 'location', object: 'a.csv', line: 32, reason: /not an allowed category/,
    },
  ];

  before(async () => {
    info = await sharedCluster();
    store = storeFor(info);
    await store.ensureBucket(bucket);
  });

  after(async () => {
    for (const o of await store.list(bucket, '')) await store.delete(bucket, o.key);
    rmSync(dir, { recursive: true, force: true });
  });

  for (const c of cases) {
    it(`${c.name}: exits invalid-data with a report naming ${c.column ?? c.object}, publishes nothing`, async () => {
      for (const [key, text] of Object.entries(c.objects)) await putText(store, bucket, `${c.name}/${key}`, text);
      const termination = join(dir, `${c.name}.termination`);
      const r = await runTrainer({ ...trainerEnv(info, bucket, config(c.name)), [podEnv.terminationMessagePath]: termination });
      assert.equal(r.code, exitCodes.invalidData, r.stdout + r.stderr);
      const pipeline = { namespace: 'ml', name: c.name };
      const reportKey = runValidationReportKey(pipeline, 'run-1');
      const report = await readJsonObject<ValidationReport>(store, bucket, reportKey);
      assert.equal(report.ok, false);
      const issue = report.issues.find((i) => i.check === c.check && (c.column === undefined || i.column === c.column));
      assert.ok(issue, `no ${c.check} issue: ${JSON.stringify(report.issues, null, 1)}`);
      assert.equal(issue.severity, 'error');
      if (c.object !== undefined) {
        const named = [...(issue.objects ?? []), ...(issue.rows ?? []).map((x) => x.object)];
        assert.ok(named.includes(`${c.name}/${c.object}`), `issue names ${named.join(', ')}`);
      }
      if (c.line !== undefined) {
        const row = issue.rows?.find((x) => x.line === c.line);
        assert.ok(row, `issue lists rows ${JSON.stringify(issue.rows)}`);
        if (c.reason) assert.match(row.reason ?? '', c.reason);
      }
      const published = (await store.list(bucket, pipelinePrefix(pipeline))).map((o) => o.key);
      assert.deepEqual(published.filter((k) => k.includes('/versions/')), [], 'nothing under versions/');
      assert.ok(!published.some((k) => k.endsWith('manifest.json')));
      const msg = JSON.parse(readFileSync(termination, 'utf8')) as TerminationMessage;
      assert.equal(msg.outcome, 'invalidData');
      assert.equal(msg.key, reportKey);
    });
  }

  it('an invalid config exits invalid-config before touching the store', async () => {
    const r = await runTrainer(trainerEnv(info, bucket, { ...config('bad-config'), hyperparameters: { epochs: 0 } }));
    assert.equal(r.code, exitCodes.invalidConfig, r.stdout + r.stderr);
    assert.match(r.stdout, /epochs: must be ≥ 1/);
    assert.deepEqual(await store.list(bucket, 'pipelines/ml/bad-config/'), []);
  });

  it('an unreachable store exits store-unavailable (retryable)', async () => {
    const env = { ...trainerEnv(info, bucket, config('unreachable')), [podEnv.storePort]: '1' };
    const r = await runTrainer(env);
    assert.equal(r.code, exitCodes.storeUnavailable, r.stdout + r.stderr);
  });
});
