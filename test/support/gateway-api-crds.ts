// Installs the Gateway API standard-channel CRDs into a test cluster, taken at test time from the
// sigs.k8s.io/gateway-api Go module pinned in localcluster/servers/gateway-api (go.mod + go.sum): `go mod download
// -json` fetches and verifies it into Go's module cache and names the folder; nothing is copied into this repository.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import yaml from 'js-yaml';
import { repoRoot } from '../../localcluster/cluster.js';
import { AlreadyExistsError } from '../../src/operator/runtime/errors.js';
import { KubeHttpClient } from '../../src/operator/runtime/kube-http.js';

const path = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

/** The module folder of the pinned Gateway API release (downloaded and checked against go.sum when missing). */
export function gatewayApiModuleDir(): string {
  const out = execFileSync('go', ['mod', 'download', '-json', 'sigs.k8s.io/gateway-api'], {
    cwd: join(repoRoot, 'localcluster/servers/gateway-api'),
    env: { ...process.env, GOWORK: 'off', GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' },
    encoding: 'utf8',
  });
  const info = JSON.parse(out) as { Dir?: string; Error?: string };
  if (!info.Dir) throw new Error(`go mod download sigs.k8s.io/gateway-api: ${info.Error ?? out}`);
  return info.Dir;
}

interface Crd {
  metadata: { name: string };
  status?: { conditions?: Array<{ type: string; status: string }> };
}

export async function installGatewayApiCrds(kc: KubeConfig): Promise<string[]> {
  const dir = join(gatewayApiModuleDir(), 'config/crd/standard');
  const http = new KubeHttpClient(kc);
  const names: string[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
    for (const doc of yaml.loadAll(readFileSync(join(dir, file), 'utf8'))) {
      const crd = doc as Crd | null;
      if (!crd?.metadata?.name) continue;
      try {
        await http.request('POST', path, { body: crd });
      } catch (e: unknown) {
        if (!(e instanceof AlreadyExistsError)) throw e;
      }
      names.push(crd.metadata.name);
    }
  }
  for (const name of names) {
    for (let i = 0; ; i++) {
      const got = await http.request<Crd>('GET', `${path}/${name}`);
      if (got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (i > 100) throw new Error(`CRD ${name} not established`);
      await sleep(100);
    }
  }
  return names;
}
