// Installs Perennial's CRDs (from crds/, as a user would apply them) into a test cluster and waits until the API
// server serves them. Idempotent, so every test file may call it on the shared cluster.
// The CRDs go up as plain JSON: client-node's typed models would drop `x-kubernetes-validations` and `default`,
// whose JSON names differ from the model's property names.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import yaml from 'js-yaml';
import { repoRoot } from '../../localcluster/cluster.js';
import { AlreadyExistsError } from '../../src/operator/runtime/errors.js';
import { KubeHttpClient } from '../../src/operator/runtime/kube-http.js';

interface Crd {
  metadata: { name: string; resourceVersion?: string };
  status?: { conditions?: Array<{ type: string; status: string }> };
}

const path = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

export function loadCrds(): Crd[] {
  return ['trainingpipelines.yaml', 'modeldeployments.yaml'].map(
    (f) => yaml.load(readFileSync(join(repoRoot, 'crds', f), 'utf8')) as Crd,
  );
}

export async function installCrds(kc: KubeConfig): Promise<void> {
  const http = new KubeHttpClient(kc);
  for (const crd of loadCrds()) {
    const name = crd.metadata.name;
    try {
      await http.request('POST', path, { body: crd });
    } catch (e: unknown) {
      if (!(e instanceof AlreadyExistsError)) throw e;
      const current = await http.request<Crd>('GET', `${path}/${name}`);
      await http.request('PUT', `${path}/${name}`, {
        body: { ...crd, metadata: { ...crd.metadata, resourceVersion: current.metadata.resourceVersion } },
      });
    }
    for (let i = 0; ; i++) {
      const got = await http.request<Crd>('GET', `${path}/${name}`);
      if (got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (i > 200) throw new Error(`CRD ${name} not established`);
      await sleep(50);
    }
  }
}
