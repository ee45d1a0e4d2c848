// The memory floor of the operator-scale benchmark: a bare @kubernetes/client-node process that caches the same
// five collections the operator watches (TrainingPipelines, ModelDeployments, Jobs, Deployments, Services, in all
// namespaces) with client-node's own informers, and does nothing else. The benchmark bundles and runs it like the
// operator (node, KUBECONFIG), waits for the line "synced", and reads its RSS.
import {
  AppsV1Api, BatchV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, makeInformer,
  type KubernetesListObject, type KubernetesObject,
} from '@kubernetes/client-node';

const kc = new KubeConfig();
kc.loadFromDefault();
const custom = kc.makeApiClient(CustomObjectsApi);
const batch = kc.makeApiClient(BatchV1Api);
const apps = kc.makeApiClient(AppsV1Api);
const core = kc.makeApiClient(CoreV1Api);

type ListFn = () => Promise<KubernetesListObject<KubernetesObject>>;
const customList = (plural: string): ListFn => async () =>
  await custom.listClusterCustomObject({ group: 'perennial.dev', version: 'v1alpha1', plural }) as KubernetesListObject<KubernetesObject>;

const collections: ReadonlyArray<readonly [string, ListFn]> = [
  ['/apis/perennial.dev/v1alpha1/trainingpipelines', customList('trainingpipelines')],
  ['/apis/perennial.dev/v1alpha1/modeldeployments', customList('modeldeployments')],
  ['/apis/batch/v1/jobs', async () => await batch.listJobForAllNamespaces()],
  ['/apis/apps/v1/deployments', async () => await apps.listDeploymentForAllNamespaces()],
  ['/api/v1/services', async () => await core.listServiceForAllNamespaces()],
];

const informers = collections.map(([path, list]) => makeInformer(kc, path, list));
await Promise.all(informers.map(async (inf) => {
  inf.on('error', (err: unknown) => console.error(JSON.stringify({ message: 'informer error', error: String(err) })));
  await inf.start();
}));
const objects = informers.reduce((n, inf) => n + inf.list().length, 0);
console.log(`synced ${objects}`);
process.on('SIGTERM', () => process.exit(0));
