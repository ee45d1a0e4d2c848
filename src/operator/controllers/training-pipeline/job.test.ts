import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TrainingPipeline } from '../../../api/training-pipeline.js';
import { pipeline, store } from './fixtures.js';
import { buildTrainingJob, type TrainingJob } from './job.js';
import { buildTrainerConfig } from './trainer-config.js';

const owner = { apiVersion: 'perennial.dev/v1alpha1', kind: 'TrainingPipeline', name: 'weather', uid: 'uid-tp', controller: true, blockOwnerDeletion: true };

function build(edit: (tp: TrainingPipeline) => void = () => undefined): TrainingJob {
  const tp = pipeline(edit);
  const config = buildTrainerConfig(tp.spec, { namespace: 'ml', pipeline: 'weather', runId: 'weather-7', version: 'v7', championVersion: 'v6' });
  return buildTrainingJob({
    namespace: 'ml', pipeline: 'weather', owner, runName: 'weather-7', version: 'v7', trainer: tp.spec.trainer, config,
    store, credentialsSecret: tp.spec.storage?.credentialsSecret ?? 'perennial-s3', ttlSecondsAfterFinished: 86_400,
  });
}

type Json = Record<string, unknown>;
const podSpec = (j: TrainingJob): Json => j.spec.template.spec;
const container = (j: TrainingJob): Json => (podSpec(j)['containers'] as Json[])[0] ?? {};
const env = (j: TrainingJob): Array<{ name: string; value?: string; valueFrom?: unknown }> => container(j)['env'] as Array<{ name: string; value?: string; valueFrom?: unknown }>;

describe('buildTrainingJob', () => {
  const table: Array<[string, (tp: TrainingPipeline) => void, (j: TrainingJob) => void]> = [
    ['is named after the run, labelled to be found, and owned by the pipeline', () => undefined, (j) => {
      assert.equal(j.metadata.name, 'weather-7');
      assert.equal(j.metadata.namespace, 'ml');
      assert.equal(j.metadata.labels['perennial.dev/pipeline'], 'weather');
      assert.equal(j.metadata.labels['perennial.dev/run'], 'weather-7');
      assert.equal(j.spec.template.metadata.labels['perennial.dev/version'], 'v7');
      assert.deepEqual(j.metadata.ownerReferences, [owner]);
    }],
    ['runs the trainer image with the pod contract env; credentials only by secretKeyRef', () => undefined, (j) => {
      assert.equal(container(j)['image'], 'trainer:dev');
      const byName = Object.fromEntries(env(j).map((e) => [e.name, e]));
      assert.equal(byName['PERENNIAL_S3_ENDPOINT']?.value, 'minio.perennial-system.svc');
      assert.equal(byName['PERENNIAL_S3_PORT']?.value, '9000');
      assert.equal(byName['PERENNIAL_S3_TLS']?.value, 'false');
      assert.equal(byName['PERENNIAL_S3_BUCKET']?.value, 'models');
      assert.deepEqual(byName['AWS_ACCESS_KEY_ID'], { name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: 'perennial-s3', key: 'AWS_ACCESS_KEY_ID' } } });
      assert.deepEqual(byName['AWS_SECRET_ACCESS_KEY']?.valueFrom, { secretKeyRef: { name: 'perennial-s3', key: 'AWS_SECRET_ACCESS_KEY' } });
      const config = JSON.parse(byName['PERENNIAL_TRAINER_CONFIG']?.value ?? '{}') as Json;
      assert.equal(config['runId'], 'weather-7');
      assert.equal(config['championVersion'], 'v6');
    }],
    ['takes the credentials from the pipeline\'s own Secret when it names one', (tp) => { tp.spec.storage = { credentialsSecret: 'team-s3' }; }, (j) => {
      assert.ok(env(j).filter((e) => e.valueFrom !== undefined).every((e) => JSON.stringify(e.valueFrom).includes('team-s3')));
    }],
    ['asks for GPUs as an extended-resource limit beside the user\'s resources', (tp) => {
      tp.spec.trainer.gpu = { count: 2, resourceName: 'nvidia.com/gpu' };
      tp.spec.trainer.resources = { requests: { cpu: '1' }, limits: { memory: '4Gi' } };
    }, (j) => {
      assert.deepEqual(container(j)['resources'], { requests: { cpu: '1' }, limits: { memory: '4Gi', 'nvidia.com/gpu': 2 } });
    }],
    ['without a GPU asks for none', () => undefined, (j) => assert.deepEqual(container(j)['resources'], {})],
    ['places the pod: nodeSelector, tolerations, priorityClassName', (tp) => {
      tp.spec.trainer.nodeSelector = { pool: 'gpu' };
      tp.spec.trainer.tolerations = [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }];
      tp.spec.trainer.priorityClassName = 'training';
    }, (j) => {
      assert.deepEqual(podSpec(j)['nodeSelector'], { pool: 'gpu' });
      assert.deepEqual(podSpec(j)['tolerations'], [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
      assert.equal(podSpec(j)['priorityClassName'], 'training');
    }],
    ['with a Kueue queue: the queue label and created suspended', (tp) => { tp.spec.trainer.queueName = 'gpu-queue'; }, (j) => {
      assert.equal(j.metadata.labels['kueue.x-k8s.io/queue-name'], 'gpu-queue');
      assert.equal(j.spec['suspend'], true);
    }],
    ['without a queue: not suspended, no queue label', () => undefined, (j) => {
      assert.equal(j.spec['suspend'], undefined);
      assert.equal(j.metadata.labels['kueue.x-k8s.io/queue-name'], undefined);
    }],
    ['never retries invalid data or config, ignores disruptions', () => undefined, (j) => {
      assert.deepEqual(j.spec['podFailurePolicy'], { rules: [
        { action: 'FailJob', onExitCodes: { containerName: 'trainer', operator: 'In', values: [65, 78] } },
        { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
      ] });
      assert.equal(podSpec(j)['restartPolicy'], 'Never');
      assert.equal(j.spec['podReplacementPolicy'], 'Failed');
    }],
    ['bounds the run: activeDeadlineSeconds, backoffLimit, ttlSecondsAfterFinished', () => undefined, (j) => {
      assert.equal(j.spec['activeDeadlineSeconds'], 600);
      assert.equal(j.spec['backoffLimit'], 1);
      assert.equal(j.spec['ttlSecondsAfterFinished'], 86_400);
    }],
    ['meets the restricted pod security profile with a writable /tmp and no token', () => undefined, (j) => {
      assert.equal(podSpec(j)['automountServiceAccountToken'], false);
      // The images' uid and gid on the pod too: no runtime falls back to gid 0, and volumes belong to that group.
      assert.deepEqual(podSpec(j)['securityContext'], { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } });
      const sc = container(j)['securityContext'] as Json;
      assert.equal(sc['allowPrivilegeEscalation'], false);
      assert.equal(sc['readOnlyRootFilesystem'], true);
      assert.deepEqual(sc['capabilities'], { drop: ['ALL'] });
      assert.deepEqual(container(j)['volumeMounts'], [{ name: 'tmp', mountPath: '/tmp' }]);
      assert.deepEqual(podSpec(j)['volumes'], [{ name: 'tmp', emptyDir: {} }]);
    }],
  ];
  for (const [name, edit, check] of table) it(name, () => check(build(edit)));

  it('is deterministic: the same run gives the same Job (nothing time-based)', () => {
    assert.deepEqual(build(), build());
    assert.equal(JSON.stringify(build()), JSON.stringify(build()));
  });
});
