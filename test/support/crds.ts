// Installs Perennial's CRDs (from crds/, as a user would apply them) into a test cluster and waits until the API
// server serves them. Idempotent, so every test file may call it on the shared cluster.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiextensionsV1Api, ApiException, type KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import yaml from 'js-yaml';
import { repoRoot } from '../../localcluster/cluster.js';

export function loadCrds(): V1CustomResourceDefinition[] {
  return ['trainingpipelines.yaml', 'modeldeployments.yaml'].map(
    (f) => yaml.load(readFileSync(join(repoRoot, 'crds', f), 'utf8')) as V1CustomResourceDefinition,
  );
}

export async function installCrds(kc: KubeConfig): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  for (const crd of loadCrds()) {
    const name = crd.metadata?.name ?? '';
    try {
      await api.createCustomResourceDefinition({ body: crd });
    } catch (e: unknown) {
      if (!(e instanceof ApiException && e.code === 409)) throw e;
      const current = await api.readCustomResourceDefinition({ name });
      await api.replaceCustomResourceDefinition({
        name,
        body: { ...crd, metadata: { ...crd.metadata, resourceVersion: current.metadata?.resourceVersion ?? '' } },
      });
    }
    for (let i = 0; ; i++) {
      const got = await api.readCustomResourceDefinition({ name });
      if (got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (i > 200) throw new Error(`CRD ${name} not established`);
      await sleep(50);
    }
  }
}
