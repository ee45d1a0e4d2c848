// kubectl-perennial, the bundled program, against the real API server: status, runs and versions read what the
// controllers write; trigger, promote, abort and retry set the annotations the controllers act on; the wrong
// kind, a missing object and a user without RBAC get a clear error and exit code 1; bad usage exit code 2. get
// prints the tree (and -w prints it again when the status changes), status --for waits with exit codes 0/1/2,
// pause/resume/undo edit the spec; the npm-packed plugin installs with npm install -g and runs from PATH.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
    execFile(process.execPath, [join(repoRoot, outDir, 'kubectl-perennial', 'main.js'), '--kubeconfig', config, ...args],
      { env: { ...process.env, KUBECTL_PERENNIAL_POLL_MS: '200' } }, (error, stdout, stderr) => {
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
  const patchStatusOf = (plural: string, status: object): Promise<unknown> => custom.patchNamespacedCustomObjectStatus(
    { group, version, namespace, plural, name: 'weather', body: { status } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  const specOf = async (plural: string): Promise<Record<string, unknown>> =>
    ((await custom.getNamespacedCustomObject({ group, version, namespace, plural, name: 'weather' })) as { spec: Record<string, unknown> }).spec;

  it('get prints a deployment\'s tree and a pipeline\'s; -o json and -o yaml the objects', async () => {
    await patchStatusOf('modeldeployments', {
      stableRevision: 'weather-aaa', canaryRevision: 'weather-bbb', stableWeight: 70, stableReadyReplicas: 3, canaryReadyReplicas: 1,
      analysis: [{ time: t, version: 'v2', step: 2, verdict: 'Passed', measurements: { accuracy: 0.84, samples: 150 }, message: 'accuracy 0.84 >= 0.80 on 150 labels' }],
    });
    const md = await cli(['get', 'md/weather']);
    assert.equal(md.code, 0, md.stderr);
    assert.match(md.stdout, new RegExp(`^ModelDeployment ${namespace}/weather {3}Progressing {3}Available=True \\(ReplicasReady\\)$`, 'm'));
    assert.match(md.stdout, /├─ stable v1 {3}weather-aaa {3}70% {3}3 ready/);
    assert.match(md.stdout, /└─ canary v2 {3}weather-bbb {3}30% {3}1 ready {3}step 2/);
    assert.match(md.stdout, /2026-11-01T10:00:00Z {3}v2 {3}step 2 {3}Passed {3}accuracy=0\.84 samples=150\n.*accuracy 0\.84 >= 0\.80 on 150 labels/);
    const tp = await cli(['get', 'trainingpipeline', 'weather']);
    assert.equal(tp.code, 0, tp.stderr);
    assert.match(tp.stdout, /├─ weather-3 {3}v3 {3}Drift {3}Running/);
    assert.match(tp.stdout, /versions\n {3}└─ v2 {3}champion {3}Blessed/, 'only what the store holds (storedVersions)');
    const json = await cli(['get', 'tp/weather', '-o', 'json']);
    assert.equal((JSON.parse(json.stdout) as { status: { championVersion: string } }).status.championVersion, 'v2');
    const yaml = await cli(['get', 'md/weather', '-o', 'yaml']);
    assert.equal((load(yaml.stdout) as { status: { canaryWeight: number } }).status.canaryWeight, 30);
    const list = await cli(['status', '-o', 'json']);
    assert.deepEqual((JSON.parse(list.stdout) as { items: { kind: string }[] }).items.map((i) => i.kind), ['TrainingPipeline', 'ModelDeployment']);
  });

  it('get -w prints the tree again when the status changes', async () => {
    const child = spawn(process.execPath, [join(repoRoot, outDir, 'kubectl-perennial', 'main.js'), '--kubeconfig', kubeconfig, 'get', 'md/weather', '-w'],
      { env: { ...process.env, KUBECTL_PERENNIAL_POLL_MS: '200' } });
    let stdout = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    const until = async (pattern: RegExp): Promise<void> => {
      for (let i = 0; i < 100 && !pattern.test(stdout); i++) await new Promise((r) => setTimeout(r, 100));
      assert.match(stdout, pattern);
    };
    try {
      await until(/canary v2 {3}weather-bbb {3}30%/);
      await patchStatusOf('modeldeployments', { canaryWeight: 60, stableWeight: 40, currentStep: 4 });
      await until(/\[\d{4}-[^\]]+\]\nModelDeployment [^\n]+\n(.*\n)*.*canary v2 {3}weather-bbb {3}60% {3}1 ready {3}step 4/);
      assert.equal(child.exitCode, null, 'still watching');
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('status --for: 0 when the condition holds, 1 when the object failed, 2 on timeout', async () => {
    const met = await cli(['status', 'md/weather', '--for', 'condition=Available', '--timeout', '20s']);
    assert.equal(met.code, 0, met.stderr);
    assert.match(met.stdout, /condition met: Available=True \(ReplicasReady\)/);
    const timeout = await cli(['status', 'md/weather', '--for', 'condition=Paused', '--timeout', '1s']);
    assert.equal(timeout.code, 2, timeout.stderr);
    assert.match(timeout.stderr, /timed out after 1s: no Paused condition yet/);
    // A later reading ends the wait: the test writes the condition while the CLI waits.
    const waiting = cli(['status', 'tp/weather', '--for', 'condition=Degraded', '--timeout', '30s']);
    await new Promise((r) => setTimeout(r, 600));
    await patchStatusOf('trainingpipelines', { conditions: [
      { type: 'Ready', status: 'False', reason: 'RunFailed', message: 'weather-3 failed', lastTransitionTime: t },
      { type: 'Degraded', status: 'True', reason: 'RunFailed', message: 'weather-3 failed: OOMKilled', lastTransitionTime: t },
      { type: 'Progressing', status: 'False', reason: 'Idle', message: '', lastTransitionTime: t },
    ] });
    assert.equal((await waiting).code, 0);
    const failed = await cli(['status', 'tp/weather', '--for', 'condition=Ready', '--timeout', '20s']);
    assert.equal(failed.code, 1, failed.stderr);
    assert.match(failed.stderr, /failed: Degraded=True \(RunFailed\): weather-3 failed: OOMKilled/);
    const conditions = await cli(['status', 'tp/weather']);
    assert.match(conditions.stdout, /^Degraded +True +RunFailed +2026-11-01T10:00:00Z +weather-3 failed: OOMKilled$/m);
  });

  it('pause and resume set spec.rollout.paused of a deployment and spec.suspend of a pipeline', async () => {
    assert.equal((await cli(['pause', 'weather'])).code, 0);
    assert.equal(((await specOf('modeldeployments'))['rollout'] as { paused: boolean }).paused, true);
    assert.match((await cli(['get', 'md/weather'])).stdout, /paused by spec\.rollout\.paused/);
    assert.equal((await cli(['resume', 'md/weather'])).code, 0);
    assert.equal(((await specOf('modeldeployments'))['rollout'] as { paused: boolean }).paused, false);
    assert.equal((await cli(['pause', 'tp/weather'])).code, 0);
    assert.equal((await specOf('trainingpipelines'))['suspend'], true);
    assert.equal((await cli(['resume', 'tp/weather'])).code, 0);
    assert.equal((await specOf('trainingpipelines'))['suspend'], false);
  });

  it('undo pins spec.model.version to the previous version within the rollback window, and refuses without one', async () => {
    const refused = await cli(['undo', 'weather']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /keeps no previous version/);
    assert.equal(((await specOf('modeldeployments'))['model'] as { version?: string }).version, undefined, 'nothing written');
    await patchStatusOf('modeldeployments', { canaryVersion: null, stableVersion: 'v2', previousVersion: 'v1', previousRevision: 'weather-aaa', promotedTime: new Date().toISOString() });
    const undo = await cli(['undo', 'weather']);
    assert.equal(undo.code, 0, undo.stderr);
    assert.match(undo.stdout, /set spec\.model\.version=v1; the operator switches back from v2/);
    assert.deepEqual((await specOf('modeldeployments'))['model'], { fromPipeline: 'weather', version: 'v1' });
  });

  it('npm pack of the plugin installs with npm install -g and runs as kubectl-perennial from PATH', async () => {
    const packDir = join(repoRoot, '.cache', 'pack-cli-test');
    const { stdout } = await run(process.execPath, [join(repoRoot, 'scripts', 'pack-kubectl-perennial.mjs'), packDir], { cwd: repoRoot });
    const tarball = stdout.trim().split('\n').at(-1) ?? '';
    const prefix = mkdtempSync(join(tmpdir(), 'perennial-npm-g-'));
    await run('npm', ['install', '-g', '--no-audit', '--no-fund', '--offline', '--prefix', prefix, tarball]);
    const r = await run(join(prefix, 'bin', 'kubectl-perennial'), ['--kubeconfig', kubeconfig, 'status'], { env: { ...process.env, PATH: `${join(prefix, 'bin')}:${process.env['PATH'] ?? ''}` } });
    assert.match(r.stdout, /^TrainingPipeline +weather +/m);
  });
});
