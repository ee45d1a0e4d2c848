// `make dev`: the local cluster with everything a person needs to bring their own data, and nothing else: the real
// control plane (etcd, kube-apiserver, kube-controller-manager, MinIO), a real node (kubelet, containerd, kube-proxy,
// CoreDNS) running the images built from the Dockerfiles, the CRDs and the operator installed with
// `helm install charts/perennial` (as users run it), the bucket, and a namespace `dev` with the store credentials
// Secret the pods use. No pipeline, no data, no traffic: it prints how to upload a CSV, apply a TrainingPipeline and
// a ModelDeployment (a dataset-neutral pair is written next to the kubeconfig), send predictions and labels, and
// watch; then stays up until Ctrl-C, which stops everything (processes, pod network, data) and keeps the logs.
// docs/own-data.md walks a dataset through it.
//
// The store has no `mc` here; these subcommands talk to the running cluster's MinIO (they read .cache/dev/store.json,
// written while `make dev` runs):
//   npx tsx scripts/dev.ts upload <file> [<prefix>]   put a file under data/dev/ (or the prefix given) in the bucket
//   npx tsx scripts/dev.ts ls [<prefix>]              list keys (default: the whole bucket)
//   npx tsx scripts/dev.ts cat <key>                  print an object (metrics.json, lineage.json, a report)
// and one that sends a CSV as a batch of traffic, as a scoring job would (test/support/traffic.ts, sendBatch):
//   npx tsx scripts/dev.ts batch <deployment> <file.csv> [<label column>]
//     every row to the deployment's Service for a prediction (the row's columns as the instance: the model takes its
//     features and logs the event time and row id), then each row's label, where it has one, to its feedback Service.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { Client as MinioClient } from 'minio';
import { repoRoot } from '../localcluster/cluster.js';
import { imageTags } from '../localcluster/node/images.js';
import { buildBundles } from '../test/support/bundles.js';
import { LoopStack, credentialsSecret, loopBucket } from '../test/support/loop-stack.js';
import { operatorLogs, operatorRelease } from '../test/support/operator-chart.js';
import { readCsvFile, type Sample, type Value } from '../test/support/dataset.js';
import { sendBatch } from '../test/support/traffic.js';

const namespace = 'dev';
const devDir = join(repoRoot, '.cache', 'dev');
const storeFile = join(devDir, 'store.json');

interface StoreInfo {
  readonly endPoint: string;
  readonly port: number;
  readonly region: string;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly bucket: string;
  readonly namespace: string;
}

// ---- the subcommands that use a running `make dev`

function storeInfo(): StoreInfo {
  if (!existsSync(storeFile)) {
    console.error(`no running \`make dev\` found (${storeFile} is written while it runs): start it in another terminal first`);
    process.exit(1);
  }
  return JSON.parse(readFileSync(storeFile, 'utf8')) as StoreInfo;
}

function minioOf(s: StoreInfo): MinioClient {
  return new MinioClient({ endPoint: s.endPoint, port: s.port, useSSL: false, accessKey: s.accessKey, secretKey: s.secretKey, region: s.region });
}

async function upload(file: string | undefined, prefix: string | undefined): Promise<void> {
  if (file === undefined) usage('upload needs a file');
  const s = storeInfo();
  const dir = prefix ?? `data/${s.namespace}/`;
  const key = `${dir}${dir.endsWith('/') ? '' : '/'}${basename(file)}`;
  const body = readFileSync(file);
  await minioOf(s).putObject(s.bucket, key, body);
  console.log(`uploaded ${file} (${body.length} bytes) to s3://${s.bucket}/${key}`);
}

async function list(prefix: string | undefined): Promise<void> {
  const s = storeInfo();
  const stream = minioOf(s).listObjectsV2(s.bucket, prefix ?? '', true);
  for await (const o of stream as AsyncIterable<{ name?: string; size?: number; lastModified?: Date }>) {
    if (o.name !== undefined) console.log(`${o.lastModified?.toISOString() ?? ''}  ${String(o.size ?? 0).padStart(10)}  ${o.name}`);
  }
}

async function cat(key: string | undefined): Promise<void> {
  if (key === undefined) usage('cat needs a key');
  const s = storeInfo();
  for await (const chunk of await minioOf(s).getObject(s.bucket, key)) process.stdout.write(chunk as Buffer);
}

/**
 * A CSV as a batch through the deployment's Services (their ClusterIPs, which this machine reaches): predictions for
 * every row, then the labels it has. Numeric features are sent as numbers (the model's metadata says which).
 */
async function batch(deployment: string | undefined, file: string | undefined, labelColumn: string | undefined): Promise<void> {
  if (deployment === undefined || file === undefined) usage('batch needs a deployment and a CSV file');
  const s = storeInfo();
  const kc = new KubeConfig();
  kc.loadFromFile(join(devDir, 'kubeconfig'));
  const core = kc.makeApiClient(CoreV1Api);
  const address = async (service: string): Promise<string> => {
    const svc = await core.readNamespacedService({ name: service, namespace: s.namespace });
    return `${svc.spec?.clusterIP ?? '?'}:${svc.spec?.ports?.[0]?.port ?? '?'}`;
  };
  const serving = await address(deployment);
  const feedback = await address(`${deployment}-feedback`);
  const secret = await core.readNamespacedSecret({ name: `${deployment}-feedback`, namespace: s.namespace });
  const token = Buffer.from(secret.data?.['token'] ?? '', 'base64').toString('utf8');
  const meta = await fetch(`http://${serving}/v2/models/${deployment}`).then(async (r) => (r.ok ? await r.json() as { inputs?: { name: string; datatype: string }[] } : {}));
  const numeric = new Set((meta.inputs ?? []).filter((i) => i.datatype !== 'BYTES').map((i) => i.name));
  const { rows } = readCsvFile(file);
  const samples: Sample[] = rows.map((r) => {
    const instance: Record<string, Value> = {};
    for (const [k, v] of Object.entries(r)) if (k !== labelColumn) instance[k] = numeric.has(k) && v.trim() !== '' ? Number(v) : v;
    const raw = labelColumn === undefined ? '' : (r[labelColumn] ?? '').trim();
    const label: Value | undefined = raw === '' ? undefined : Number.isFinite(Number(raw)) ? Number(raw) : raw;
    return { instance, label };
  });
  const started = Date.now();
  const result = await sendBatch({ model: deployment, endpoints: () => Promise.resolve([serving]), feedback: { endpoints: () => Promise.resolve([feedback]), token: () => Promise.resolve(token) } }, samples);
  const c = result.counts;
  console.log(`${result.predicted} of ${samples.length} rows predicted by ${deployment} (${c.requests} requests, ${c.failed} failed); ${result.labelled} labels sent (${c.feedback} posts, ${c.feedbackFailed} failed) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  for (const e of c.errors.slice(0, 5)) console.log(`  ${e}`);
  if (c.failed > 0 || c.feedbackFailed > 0) process.exit(1);
}

function usage(problem: string): never {
  console.error(`${problem}
usage: npx tsx scripts/dev.ts [up]                     the local cluster for your own data (make dev), until Ctrl-C
       npx tsx scripts/dev.ts upload <file> [<prefix>]  put a file under data/${namespace}/ (or <prefix>) in the bucket
       npx tsx scripts/dev.ts ls [<prefix>]             list the bucket's keys
       npx tsx scripts/dev.ts cat <key>                 print an object
       npx tsx scripts/dev.ts batch <deployment> <file.csv> [<label column>]   predictions for every row, then its labels`);
  process.exit(2);
}

// ---- make dev

/** A TrainingPipeline for data that is not weather: the columns are placeholders to replace with yours. */
function pipelineTemplate(): string {
  return `# A TrainingPipeline for your own data (docs/own-data.md explains every field; kubectl explain
# trainingpipeline.spec documents them all). Replace the names marked <-.
apiVersion: perennial.dev/v1alpha1
kind: TrainingPipeline
metadata:
  name: my-model                                # <- also the ModelDeployment's name below (feedbackFrom, triggers)
  namespace: ${namespace}
spec:
  data:
    sources:
      - prefix: data/${namespace}/my-data/      # <- where you upload: npx tsx scripts/dev.ts upload file.csv data/${namespace}/my-data/
        format: csv
    schema:
      features:                                 # <- your columns (names may have spaces)
        - { name: colour, type: categorical }
        - { name: size, type: numeric, min: 0 }
      label: { name: price, task: regression, min: 0 }   # <- or { name: ..., task: classification }
      timestampColumn: time                     # <- each row's event time (ISO 8601): the holdout is the newest rows
      rowIdColumn: id                           # <- each row's id, in the CSV and in requests (drop it if you have none)
    feedbackFrom: my-model                      # learn from the labels sent for the deployment's predictions
    feedbackDuplicates: DropFeedbackCopy        # a row both fed back and uploaded is trained on once
  validation:
    minRows: 50                                 # a small first upload is enough to start
  triggers:
    newData:
      minObjects: 1                             # every new CSV object under the prefix starts a run
      pollInterval: 15s                         # how often the prefix is listed
    minInterval: 30s
  trainer:
    image: ${imageTags.trainer}
    gpu: { count: 1 }                           # the local node advertises a GPU and trains on its CPU
    hyperparameters: { epochs: 15, batchSize: 64, learningRate: 0.01, earlyStoppingPatience: 3 }
    warmStart: Champion
  evaluation:
    holdout: { fraction: 0.2 }                  # the newest fifth of the uploaded rows by event time
    minImprovementOverBaseline: 0.0             # must at least match the mean (regression) / majority class baseline
    maxRegression: 5                            # rmse may be at most this much worse than the champion's on the same rows
    refit: true                                 # once the gates pass, retrain on every row (the holdout too) to serve
`;
}

function deploymentTemplate(): string {
  return `# A ModelDeployment serving the champion of the pipeline my-model (docs/own-data.md).
apiVersion: perennial.dev/v1alpha1
kind: ModelDeployment
metadata:
  name: my-model                                # <- the pipeline's feedbackFrom
  namespace: ${namespace}
spec:
  model:
    fromPipeline: my-model
  server:
    image: ${imageTags.server}
    replicas: 1
  rollout:
    strategy: Canary
    canary:
      steps: [{ setWeight: 100 }]               # a new champion replaces the old one at once (add analysis steps to judge it live)
    analysis:
      interval: 10s
      minSamples: 20
`;
}

const interrupted = { stopping: false, at: 0 };
let stack: LoopStack | undefined;

async function shutdown(code: number, why: string): Promise<void> {
  console.log(`\n${why}: stopping the operator, the pods and the cluster (Ctrl-C again to stop at once)...`);
  rmSync(storeFile, { force: true });
  if (stack) {
    const logs = await operatorLogs(stack.cluster).catch((e: unknown) => `could not read the operator's logs: ${String(e)}\n`);
    writeFileSync(join(stack.cluster.logDir, 'operator.log'), logs);
    await stack.stop();
    console.log(`stopped: no process, network namespace or cluster data left; the logs stay in ${stack.cluster.logDir}`);
  }
  process.exit(code);
}

function onSignal(): void {
  // One Ctrl-C can arrive more than once (npx and tsx relay it to their child too): a person's second one comes
  // later than a second (as in scripts/demo.ts).
  if (interrupted.stopping && Date.now() - interrupted.at < 1000) return;
  rmSync(storeFile, { force: true });
  if (interrupted.stopping || !stack) {
    // Still starting, or a second Ctrl-C: the harness' exit hooks (localcluster/cleanup.ts) remove what is left.
    console.log('\nstopping at once');
    process.exit(130);
  }
  interrupted.stopping = true;
  interrupted.at = Date.now();
  void shutdown(0, 'Ctrl-C');
}

async function up(): Promise<void> {
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  const started = Date.now();
  const seconds = (): string => `${Math.round((Date.now() - started) / 1000)} s`;
  console.log('building the kubectl-plugin bundle...');
  buildBundles(['kubectl-perennial']);
  console.log('building the images (cached after the first time) and starting the local cluster: etcd, kube-apiserver, kube-controller-manager, MinIO, a node (kubelet, containerd, kube-proxy, CoreDNS) and the operator (helm)...');
  stack = await LoopStack.start({ name: 'dev', namespace, operator: 'helm', log: (line) => console.log(`[${seconds()}] ${line}`) });
  const { info, logDir } = stack.cluster;
  const s3 = stack.s3;

  mkdirSync(devDir, { recursive: true });
  const binDir = join(devDir, 'bin');
  rmSync(binDir, { recursive: true, force: true });
  mkdirSync(binDir, { recursive: true });
  symlinkSync(join(info.binDir, 'kubectl'), join(binDir, 'kubectl'));
  writeFileSync(join(binDir, 'kubectl-perennial'), `#!/bin/sh\nexec "${process.execPath}" "${join(repoRoot, 'dist/kubectl-perennial/main.js')}" "$@"\n`, { mode: 0o755 });
  const kubeconfig = join(devDir, 'kubeconfig');
  writeFileSync(kubeconfig, readFileSync(info.kubeconfigPath, 'utf8'), { mode: 0o600 });
  const envFile = join(devDir, 'env');
  writeFileSync(envFile, `export KUBECONFIG=${kubeconfig} PATH=${binDir}:$PATH\n`);
  const store: StoreInfo = { endPoint: s3.endPoint, port: s3.port, region: s3.region, accessKey: s3.accessKey, secretKey: s3.secretKey, bucket: stack.bucket, namespace };
  writeFileSync(storeFile, JSON.stringify(store, null, 2), { mode: 0o600 });
  chmodSync(storeFile, 0o600);
  writeFileSync(join(devDir, 'training-pipeline.yaml'), pipelineTemplate());
  writeFileSync(join(devDir, 'model-deployment.yaml'), deploymentTemplate());
  const rel = (p: string): string => p.startsWith(`${repoRoot}/`) ? p.slice(repoRoot.length + 1) : p;
  const leader = (await stack.operatorLeader()) ?? '?';

  console.log(`
Perennial is up in ${seconds()}: node ${info.node?.name ?? '?'} (pod network ${info.node?.podCIDR ?? '?'}), operator installed by helm in ${operatorRelease.namespace} (${leader} leading),
MinIO at ${s3.url} with bucket ${loopBucket}, namespace ${namespace} with the store credentials Secret ${credentialsSecret}.
The step-by-step guide with a worked example: docs/own-data.md. In another terminal, from ${repoRoot}:

1. kubectl (v1.34) and the kubectl perennial plugin:
     source ${rel(envFile)}          # = export KUBECONFIG=${kubeconfig} PATH=${binDir}:$PATH
     kubectl get nodes; kubectl -n ${namespace} get perennial

2. Upload a CSV (header row; one object per batch of rows; each new object is new data for the newData trigger):
     npx tsx scripts/dev.ts upload my-data-part-1.csv data/${namespace}/my-data/
     npx tsx scripts/dev.ts ls data/${namespace}/
   (or any S3 client: endpoint ${s3.url}, region ${s3.region}, access key ${s3.accessKey}, secret key ${s3.secretKey}, bucket ${loopBucket};
    curl: curl --aws-sigv4 aws:amz:${s3.region}:s3 --user ${s3.accessKey}:${s3.secretKey} -T my-data-part-1.csv ${s3.url}/${loopBucket}/data/${namespace}/my-data/)

3. Describe the data and how to serve it (templates written for you; edit the lines marked <- to name your columns):
     ${rel(join(devDir, 'training-pipeline.yaml'))}   ${rel(join(devDir, 'model-deployment.yaml'))}
     kubectl apply -f ${rel(join(devDir, 'training-pipeline.yaml'))} -f ${rel(join(devDir, 'model-deployment.yaml'))}
     kubectl perennial status -n ${namespace}; kubectl perennial runs my-model -n ${namespace}

4. Predictions: the ModelDeployment's Service, reached from this machine at its ClusterIP (the host routes the Service range to the node):
     SVC=$(kubectl -n ${namespace} get svc my-model -o jsonpath='{.spec.clusterIP}')
     curl -s http://$SVC:8080/v1/models/my-model:predict -H 'content-type: application/json' \\
       -d '{"instances": [{"colour": "red", "size": 3, "time": "2024-05-01", "id": "r-1"}]}'
   → {"predictions": [...], "prediction_ids": ["..."]}  (send the event time and row id columns with the features)

5. Labels, for the prediction ids, to the feedback Service with the token of the <name>-feedback Secret:
     TOKEN=$(kubectl -n ${namespace} get secret my-model-feedback -o jsonpath='{.data.token}' | base64 -d)
     FB=$(kubectl -n ${namespace} get svc my-model-feedback -o jsonpath='{.spec.clusterIP}')
     curl -s http://$FB:8081/v1/feedback -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
       -d '{"feedback": [{"id": "<a prediction id>", "label": 12.5}]}'

   A whole CSV as a batch (predictions for every row, then the labels it has), as a scoring job would send it:
     npx tsx scripts/dev.ts batch my-model my-data-part-2.csv price

6. Watch: kubectl perennial status -n ${namespace}; kubectl -n ${namespace} describe tp my-model; kubectl -n ${namespace} describe md my-model
     npx tsx scripts/dev.ts cat pipelines/${namespace}/my-model/versions/v1/metrics.json     # holdout, baseline, gates
     npx tsx scripts/dev.ts cat pipelines/${namespace}/my-model/versions/v1/lineage.json     # rows read, fed back, dropped
     kubectl -n ${operatorRelease.namespace} logs -l app.kubernetes.io/component=operator --prefix   # the operator

Logs: pods with kubectl logs; the cluster's servers in ${logDir}/ (the operator's saved there on exit).
Ctrl-C stops everything (processes, pod network, data); the logs stay.`);
  // The operator runs in the node's pods; this process keeps the cluster's processes and waits for Ctrl-C.
  setInterval(() => undefined, 60_000);
}

const [command = 'up', ...args] = process.argv.slice(2);
switch (command) {
  case 'up':
    try {
      await up();
    } catch (e: unknown) {
      console.error(`make dev failed: ${e instanceof Error ? e.message : String(e)}`);
      if (stack) await shutdown(1, 'the start failed');
      process.exit(1);
    }
    break;
  case 'upload':
    await upload(args[0], args[1]);
    break;
  case 'ls':
    await list(args[0]);
    break;
  case 'cat':
    await cat(args[0]);
    break;
  case 'batch':
    await batch(args[0], args[1], args[2]);
    break;
  default:
    usage(`unknown command "${command}"`);
}
