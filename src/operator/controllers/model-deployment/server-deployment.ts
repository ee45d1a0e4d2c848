// The server Deployment of one revision and the Services in front of the revisions. Pure and deterministic: the
// same revision gives the same pod template byte for byte (nothing time-based in it), so re-applying it never
// restarts pods; only `replicas` changes as traffic moves.
//
// The pods: the pod contract environment (src/shared/pod-contract.ts), store credentials only as secretKeyRefs,
// the listen address from the downward API (status.podIP), the server settings ConfigMap mounted as a folder (the
// track and logPredictions, which change without a restart: server-settings.ts), readiness and liveness probes on the server's health
// endpoints, the restricted Pod Security profile with emptyDirs for /tmp and the inference-log spill folder (with a
// size limit, and the server's own spill limit below it), and
// no service account token (the server needs no cluster credentials).
import type { ModelDeploymentSpec } from '../../../api/model-deployment.js';
import { podEnv } from '../../../shared/pod-contract.js';
import { serverSettingsDir, serverSettingsKey } from '../../../shared/server-settings.js';
import { parseDuration } from '../../../api/duration.js';
import type { OwnerReference } from '../../runtime/resource.js';
import type { StoreSettings } from '../../store-settings.js';
import { storeEnv, type EnvVar } from '../pod-env.js';
import { feedbackSecretKeys, feedbackSecretName, connectionAgesMs, isSingleWorker, ownedLabels, revisionLabels, revisionName, revisionSelector, selectorLabels, settingsConfigMapName } from './names.js';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../pod-security.js';

export const serverContainerName = 'server';
export const spillDir = '/var/lib/perennial/spill';
/** The spill emptyDir's size limit: the kubelet evicts a pod whose emptyDir outgrows it. */
export const spillSizeLimit = '320Mi';
/**
 * What the server may keep in the spill folder (PERENNIAL_SERVER_LOG_MAX_SPILL_BYTES), below the size limit with room
 * for a batch being written (its .tmp) and the filesystem's own use: past it log batches are dropped and counted,
 * never the pod evicted.
 */
export const spillMaxBytes = 256 * 1024 * 1024;

export type { EnvVar };

/** Where a version's artifacts are: `<namespace>/<pipeline>@<version>` in a bucket. */
export interface ModelRef {
  readonly namespace: string;
  readonly pipeline: string;
  readonly version: string;
  /** Set when the artifacts are in another bucket than the one the servers use as their store. */
  readonly bucket: string | undefined;
  /**
   * The followed pipeline's own store (its spec.storage), when it names a bucket or a Secret: the servers use that
   * bucket for their logs (and as the model's) and that Secret for their credentials, instead of the operator's.
   */
  readonly storage?: { readonly bucket: string | undefined; readonly credentialsSecret: string | undefined } | undefined;
}

export function modelRefText(m: ModelRef): string {
  return `${m.namespace}/${m.pipeline}@${m.version}`;
}

/** Where a revision's pods read and write, for its hash: '' with the operator's store (so such hashes never change). */
export function storeText(m: ModelRef): string {
  return `${m.bucket ?? ''}${m.storage ? `|${m.storage.bucket ?? ''}|${m.storage.credentialsSecret ?? ''}` : ''}`;
}

export interface RevisionInput {
  readonly namespace: string;
  readonly md: string;
  readonly owner: OwnerReference;
  readonly hash: string;
  readonly model: ModelRef;
  readonly server: ModelDeploymentSpec['server'];
  readonly store: StoreSettings;
  readonly replicas: number;
  /** How long the Deployment waits for its pods to become ready before it says ProgressDeadlineExceeded. */
  readonly progressDeadlineSeconds: number;
}

export interface ServerDeployment {
  readonly apiVersion: 'apps/v1';
  readonly kind: 'Deployment';
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly ownerReferences: readonly OwnerReference[];
  };
  readonly spec: {
    readonly replicas: number;
    readonly progressDeadlineSeconds: number;
    readonly selector: { readonly matchLabels: Readonly<Record<string, string>> };
    readonly template: { readonly metadata: { readonly labels: Readonly<Record<string, string>> }; readonly spec: Readonly<Record<string, unknown>> };
  } & Readonly<Record<string, unknown>>;
}

/** spec.server.driftWindowRows: the server's drift window holds at most the newest N rows within driftWindow. */
export const serverDriftWindowRowsEnv = podEnv.serverDriftWindowRows;

export function serverEnv(input: RevisionInput): EnvVar[] {
  const { store, server, model } = input;
  return [
    { name: podEnv.serverModel, value: modelRefText(model) },
    ...(model.bucket === undefined ? [] : [{ name: podEnv.serverModelBucket, value: model.bucket }]),
    { name: podEnv.serverDeployment, value: `${input.namespace}/${input.md}` },
    // The track and logPredictions are not here: they change while the pod runs (settings file, server-settings.ts).
    { name: podEnv.serverRevision, value: input.hash },
    { name: podEnv.serverSettingsFile, value: `${serverSettingsDir}/${serverSettingsKey}` },
    { name: podEnv.serverPodName, valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: podEnv.serverHost, valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
    { name: podEnv.serverPort, value: String(server.port) },
    { name: podEnv.serverFeedbackPort, value: String(server.feedback.port) },
    ...(server.grpcPort === 0 ? [] : [{ name: podEnv.serverGrpcPort, value: String(server.grpcPort) }]),
    ...feedbackEnv(input.md, server),
    ...kafkaEnv(server.kafka),
    ...workersEnv(server.workers),
    ...connectionAgeEnv(server),
    { name: podEnv.serverBatchMaxSize, value: String(server.maxBatchSize) },
    { name: podEnv.serverBatchMaxWaitMs, value: String(server.maxBatchDelayMs) },
    { name: podEnv.serverDriftWindowSeconds, value: String(Math.round(parseDuration(server.driftWindow) / 1000)) },
    ...(server.driftWindowRows === undefined ? [] : [{ name: serverDriftWindowRowsEnv, value: String(server.driftWindowRows) }]),
    { name: podEnv.serverLogSpillDir, value: spillDir },
    { name: podEnv.serverLogMaxSpillBytes, value: String(spillMaxBytes) },
    ...storeEnv({ ...store, bucket: model.storage?.bucket ?? store.bucket }, model.storage?.credentialsSecret ?? store.credentialsSecret),
    { name: podEnv.codeVersion, value: server.image },
    { name: 'TMPDIR', value: '/tmp' },
  ];
}

/** spec.server.maxConnectionAge and grpcMaxConnectionAge: only when not the server's defaults (as workers). */
function connectionAgeEnv(server: ModelDeploymentSpec['server']): EnvVar[] {
  const ages = connectionAgesMs(server);
  return [
    ...(ages.http === undefined ? [] : [{ name: podEnv.serverMaxConnectionAgeMs, value: String(ages.http) }]),
    ...(ages.grpc === undefined ? [] : [{ name: podEnv.serverGrpcMaxConnectionAgeMs, value: String(ages.grpc) }]),
  ];
}

/**
 * spec.server.workers: serving processes in the pod. Only when not 1, so the default leaves the pod template (and the
 * revision hash, names.ts serverTemplate) of deployments made before the field as it was: an upgrade rolls no pod.
 */
export function workersEnv(workers: number | undefined): EnvVar[] {
  return isSingleWorker(workers) ? [] : [{ name: podEnv.serverWorkers, value: String(workers) }];
}

/** The feedback token and the id signing key, as references to the feedback Secret (never values). */
function feedbackEnv(md: string, server: ModelDeploymentSpec['server']): EnvVar[] {
  const secret = feedbackSecretName(md, server);
  return [
    { name: podEnv.serverFeedbackToken, valueFrom: { secretKeyRef: { name: secret, key: feedbackSecretKeys.token } } },
    { name: podEnv.serverSigningKey, valueFrom: { secretKeyRef: { name: secret, key: feedbackSecretKeys.signingKey } } },
  ];
}

/** The Kafka sink (spec.server.kafka): where to publish, and the SASL credentials as references to its Secret. */
export function kafkaEnv(kafka: ModelDeploymentSpec['server']['kafka']): EnvVar[] {
  if (kafka === undefined) return [];
  return [
    { name: podEnv.serverKafkaBrokers, value: kafka.bootstrapServers.join(',') },
    { name: podEnv.serverKafkaPredictionsTopic, value: kafka.predictionsTopic },
    { name: podEnv.serverKafkaFeedbackTopic, value: kafka.feedbackTopic },
    { name: podEnv.serverKafkaTls, value: String(kafka.tls) },
    { name: podEnv.serverKafkaMaxBufferedEvents, value: String(kafka.maxBufferedEvents) },
    ...(kafka.secretName === undefined ? [] : [
      { name: podEnv.serverKafkaSaslMechanism, value: kafka.saslMechanism },
      { name: podEnv.serverKafkaUsername, valueFrom: { secretKeyRef: { name: kafka.secretName, key: 'username' } } },
      { name: podEnv.serverKafkaPassword, valueFrom: { secretKeyRef: { name: kafka.secretName, key: 'password' } } },
    ]),
  ];
}

export function buildServerDeployment(input: RevisionInput): ServerDeployment {
  const { server } = input;
  const labels = revisionLabels(input.md, input.hash, input.model.version);
  const probe = (path: string, periodSeconds: number, failureThreshold: number): Record<string, unknown> => ({
    httpGet: { path, port: server.port }, periodSeconds, failureThreshold, timeoutSeconds: 2,
  });
  const resources: Record<string, unknown> = {};
  if (server.resources?.requests) resources['requests'] = { ...server.resources.requests };
  if (server.resources?.limits) resources['limits'] = { ...server.resources.limits };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: revisionName(input.md, input.hash), namespace: input.namespace, labels, ownerReferences: [input.owner] },
    spec: {
      replicas: input.replicas,
      // The Deployment's own Progressing condition is the deadline: past it a candidate is aborted and a stable
      // version is Degraded (progress-deadline.ts). Not part of the pod template: changing it restarts nothing.
      progressDeadlineSeconds: input.progressDeadlineSeconds,
      selector: { matchLabels: revisionSelector(input.md, input.hash) },
      // A revision's pods never change; a new template is a new revision. Surge so capacity never dips.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
      template: {
        metadata: { labels },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: 30,
          securityContext: restrictedPodSecurityContext(),
          ...(server.nodeSelector && Object.keys(server.nodeSelector).length > 0 ? { nodeSelector: { ...server.nodeSelector } } : {}),
          ...(server.tolerations && server.tolerations.length > 0 ? { tolerations: server.tolerations.map((t) => ({ ...t })) } : {}),
          containers: [{
            name: serverContainerName,
            image: server.image,
            ports: [
              { name: 'http', containerPort: server.port, protocol: 'TCP' },
              { name: 'feedback', containerPort: server.feedback.port, protocol: 'TCP' },
              ...(server.grpcPort === 0 ? [] : [{ name: 'grpc', containerPort: server.grpcPort, protocol: 'TCP' }]),
            ],
            env: serverEnv(input),
            resources,
            readinessProbe: probe('/v2/health/ready', 2, 3),
            livenessProbe: { ...probe('/v2/health/live', 10, 3), initialDelaySeconds: 10 },
            securityContext: restrictedContainerSecurityContext(),
            volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }, { name: 'spill', mountPath: spillDir }, { name: 'settings', mountPath: serverSettingsDir, readOnly: true }],
          }],
          // The settings ConfigMap as a whole folder (a subPath mount would never see an update); optional, so a pod
          // whose ConfigMap is not there yet starts with the environment's values.
          volumes: [
            { name: 'tmp', emptyDir: {} }, { name: 'spill', emptyDir: { sizeLimit: spillSizeLimit } },
            { name: 'settings', configMap: { name: settingsConfigMapName(input.md), optional: true } },
          ],
        },
      },
    },
  };
}

/**
 * Whether a Service's ports (as the API server has them, defaults filled in) are the ones wanted: the same names,
 * numbers, target ports and application protocols, in order. The fields the API server adds are not compared.
 */
export function samePorts(existing: ReadonlyArray<Record<string, unknown>>, wanted: ReadonlyArray<Record<string, unknown>>): boolean {
  const key = (p: Record<string, unknown>): string => JSON.stringify([p['name'], p['port'], String(p['targetPort'] ?? p['port']), p['appProtocol'] ?? null]);
  return existing.length === wanted.length && existing.every((p, i) => key(p) === key(wanted[i]!));
}

export interface ServiceObject {
  readonly apiVersion: 'v1';
  readonly kind: 'Service';
  readonly metadata: { readonly name: string; readonly namespace: string; readonly labels: Readonly<Record<string, string>>; readonly ownerReferences: readonly OwnerReference[] };
  readonly spec: { readonly selector: Readonly<Record<string, string>>; readonly ports: ReadonlyArray<Record<string, unknown>>; readonly type: 'ClusterIP' };
}

/**
 * A Service over the md's pods; `revisionHash` narrows it to one revision (canary, preview, or stable with exact
 * routing). `portName` picks the container port: the inference API (http) or the feedback API (feedback). An
 * inference Service with a `grpcPort` also carries the gRPC port, as plaintext HTTP/2 (appProtocol h2c) so that
 * gateways and meshes speak HTTP/2 to it.
 */
export function buildService(input: {
  namespace: string; md: string; name: string; owner: OwnerReference; port: number; revisionHash: string | undefined; portName?: 'http' | 'feedback'; grpcPort?: number;
}): ServiceObject {
  const portName = input.portName ?? 'http';
  const grpc = input.grpcPort === undefined || input.grpcPort === 0 ? [] : [{ name: 'grpc', port: input.grpcPort, targetPort: 'grpc', protocol: 'TCP', appProtocol: 'kubernetes.io/h2c' }];
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: input.name,
      namespace: input.namespace,
      labels: ownedLabels(input.md),
      ownerReferences: [input.owner],
    },
    spec: {
      type: 'ClusterIP',
      selector: input.revisionHash === undefined ? selectorLabels(input.md) : revisionSelector(input.md, input.revisionHash),
      ports: [{ name: portName, port: input.port, targetPort: portName, protocol: 'TCP' }, ...grpc],
    },
  };
}
