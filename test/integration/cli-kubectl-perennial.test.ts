// kubectl-perennial, the bundled program, against the real API server: status, runs and versions read what the
// controllers write; trigger, promote, abort and retry set the annotations the controllers act on; the wrong
// kind, a missing object and a user without RBAC get a clear error and exit code 1; bad usage exit code 2.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { load } from 'js-yaml';
import { kubeconfigYaml, repoRoot, type ClusterInfo } from '../../localcluster/cluster.js';
import { kubeConfigFor, sharedCluster, uniqueName } from '../../localcluster/test-cluster.js';
import { installCrds, writeTemp } from './chart-tools.js';

const run = promisify(execFile);
const outDir = join('.cache', 'bundles-cli-test');
const group = 'perennial.dev';
const version = 'v1alpha1';
const t = '2026-11-01T10:00:00Z';

interface Result { code: number; stdout: string; stderr: string }

describe('kubectl-perennial against the API server', () => {
  let info: ClusterInfo;
  let custom: CustomObjectsApi;
  let namespace: string;
  let kubeconfig: string;

  const cli = (args: readonly string[], config = kubeconfig): Promise<Result> => new Promise((resolve) => {
    execFile(process.execPath, [join(repoRoot, outDir, 'kubectl-perennial', 'main.js'), '--kubeconfig', config, ...args], (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });

  const annotations = async (plural: string, name: string): Promise<Record<string, string>> => {
    const obj = (await custom.getNamespacedCustomObject({ group, version, namespace, plural, name })) as { metadata: { annotations?: Record<string, string> } };
    return obj.metadata.annotations ?? {};
  };

  before(async () => {
    await run(process.execPath, [join(repoRoot, 'scripts', 'bundle.mjs'), 'kubectl-perennial'], { cwd: repoRoot, env: { ...process.env, BUNDLE_OUT_DIR: outDir } });
    info = await sharedCluster();
    await installCrds(join(info.binDir, 'kubectl'), info.kubeconfigPath, join(repoRoot, 'crds'));
    const kc = kubeConfigFor(info);
    custom = kc.makeApiClient(CustomObjectsApi);
    namespace = uniqueName('cli');
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
    // A kubeconfig whose context names the namespace, as `kubectl config set-context --current --namespace` leaves it.
    kubeconfig = writeTemp('kubeconfig', kubeconfigYaml(info.server, info.caData, info.adminToken, 'admin').replace('namespace: default', `namespace: ${namespace}`));

    for (const [file, plural] of [['training-pipeline.yaml', 'trainingpipelines'], ['model-deployment.yaml', 'modeldeployments']] as const) {
      const body = load(readFileSync(join(repoRoot, 'examples', file), 'utf8')) as object;
      await custom.createNamespacedCustomObject({ group, version, namespace, plural, body });
    }
    // The status a controller would have written (no operator runs in this test).
    const patchStatus = (plural: string, status: object) => custom.patchNamespacedCustomObjectStatus(
      { group, version, namespace, plural, name: 'weather', body: { status } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await patchStatus('trainingpipelines', {
      observedGeneration: 1, phase: 'Running', championVersion: 'v2', currentRun: 'weather-3', modelPrefix: 's3://perennial/models/ml/weather',
      conditions: [{ type: 'Ready', status: 'True', reason: 'ChampionServing', message: 'v2 serves', lastTransitionTime: t }],
      runs: [
        { name: 'weather-3', version: 'v3', trigger: 'Drift', startTime: t, outcome: 'Running' },
        { name: 'weather-2', version: 'v2', trigger: 'Schedule', startTime: t, completionTime: t, outcome: 'Blessed', metrics: { accuracy: 0.84 },
          gates: [{ name: 'champion', passed: true }] },
        { name: 'weather-1', version: 'v1', trigger: 'Initial', startTime: t, completionTime: t, outcome: 'Blessed', metrics: { accuracy: 0.8 } },
      ],
    });
    await patchStatus('modeldeployments', {
      observedGeneration: 1, phase: 'Progressing', stableVersion: 'v1', canaryVersion: 'v2', canaryWeight: 30, currentStep: 2,
      conditions: [{ type: 'Available', status: 'True', reason: 'ReplicasReady', message: '', lastTransitionTime: t }],
    });
  });

  it('status lists both resources of the context namespace', async () => {
    const r = await cli(['status']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^KIND +NAME +PHASE +MODEL +IN PROGRESS +READY$/m);
    assert.match(r.stdout, /^ModelDeployment +weather +Progressing +v1 +canary v2 at 30% \(step 2\) +True \(ReplicasReady\)$/m);
    assert.match(r.stdout, /^TrainingPipeline +weather +Running +v2 +run weather-3 +True \(ChampionServing\)$/m);
  });

  it('status -A shows the namespace column', async () => {
    const r = await cli(['status', '-A']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${namespace} +TrainingPipeline +weather `, 'm'));
  });

  it('runs and versions of a pipeline', async () => {
    const runs = await cli(['runs', 'weather']);
    assert.equal(runs.code, 0, runs.stderr);
    assert.match(runs.stdout, /^weather-3 +v3 +Drift +Running/m);
    assert.match(runs.stdout, /^weather-2 +v2 +Schedule +Blessed .* all passed +accuracy=0\.84$/m);
    const versions = await cli(['versions', 'weather', '-n', namespace]);
    assert.equal(versions.code, 0, versions.stderr);
    assert.match(versions.stdout, /^v2 +yes +Blessed +weather-2/m);
    assert.match(versions.stdout, /^v1 + Blessed +weather-1/m);
    assert.doesNotMatch(versions.stdout, /^v3/m);
  });

  it('trigger, promote --full, abort and retry set the annotations the controllers act on', async () => {
    const trigger = await cli(['trigger', 'weather']);
    assert.equal(trigger.code, 0, trigger.stderr);
    const value = (await annotations('trainingpipelines', 'weather'))['perennial.dev/trigger'];
    assert.ok(value && !Number.isNaN(Date.parse(value)), `a timestamp: ${String(value)}`);
    assert.match(trigger.stdout, /TrainingPipeline .*\/weather: set perennial\.dev\/trigger=/);

    for (const [args, key, pattern] of [
      [['promote', 'weather', '--full'], 'perennial.dev/promote', /^full-/],
      [['abort', 'weather'], 'perennial.dev/abort', /^\d{4}-/],
      [['retry', 'weather'], 'perennial.dev/retry', /^\d{4}-/],
    ] as const) {
      const r = await cli(args);
      assert.equal(r.code, 0, r.stderr);
      assert.match((await annotations('modeldeployments', 'weather'))[key] ?? '', pattern, key);
    }
    // Other annotations survive (a merge patch of one key).
    assert.ok((await annotations('modeldeployments', 'weather'))['perennial.dev/promote']);
  });

  it('champion pins a version with perennial.dev/champion and --unpin removes it, other annotations untouched', async () => {
    const pin = await cli(['champion', 'weather', 'v1']);
    assert.equal(pin.code, 0, pin.stderr);
    assert.match(pin.stdout, /TrainingPipeline .*\/weather: set perennial\.dev\/champion=v1/);
    assert.equal((await annotations('trainingpipelines', 'weather'))['perennial.dev/champion'], 'v1');
    const unpin = await cli(['champion', 'weather', '--unpin']);
    assert.equal(unpin.code, 0, unpin.stderr);
    const after = await annotations('trainingpipelines', 'weather');
    assert.equal(after['perennial.dev/champion'], undefined);
    assert.ok(after['perennial.dev/trigger'], 'the trigger annotation stays');
    assert.equal((await cli(['champion', 'weather'])).code, 2, 'a version or --unpin');
  });

  it('versions lists what the operator found in the store (status.storedVersions), not what runs once published', async () => {
    await custom.patchNamespacedCustomObjectStatus({ group, version, namespace, plural: 'trainingpipelines', name: 'weather', body: { status: { storedVersions: ['v2'] } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    const versions = await cli(['versions', 'weather']);
    assert.equal(versions.code, 0, versions.stderr);
    assert.match(versions.stdout, /^v2 +yes +Blessed +weather-2/m);
    assert.doesNotMatch(versions.stdout, /^v1/m, 'deleted by retention');
  });

  it('a second trigger writes a new value, so the operator acts again', async () => {
    const first = (await annotations('trainingpipelines', 'weather'))['perennial.dev/trigger'];
    await new Promise((r) => setTimeout(r, 5));
    assert.equal((await cli(['trigger', 'weather'])).code, 0);
    assert.notEqual((await annotations('trainingpipelines', 'weather'))['perennial.dev/trigger'], first);
  });

  it('errors: the wrong kind or a missing object (exit 1), bad usage (exit 2), no RBAC (exit 1, the server\'s reason)', async () => {
    const wrongKind = await cli(['promote', 'nope']);
    assert.equal(wrongKind.code, 1);
    assert.match(wrongKind.stderr, new RegExp(`ModelDeployment ${namespace}/nope not found`));
    const usage = await cli(['promote']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /promote needs the name of a ModelDeployment/);
    const alice = writeTemp('alice', kubeconfigYaml(info.server, info.caData, info.unprivilegedToken, 'alice'));
    const denied = await cli(['status', '-n', namespace], alice);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /forbidden: User "alice" cannot list resource "(trainingpipelines|modeldeployments)"/);
  });
});
