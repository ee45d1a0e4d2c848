// Least privilege, checked against the code: the chart's RBAC must grant exactly the resources and verbs the
// operator's code calls, no more and no less. The calls are read from src/operator (not a list kept by hand):
//   - ResourceRef constants name the resources (`const x: ResourceRef = { group, ..., plural }`);
//   - informers (manager.informer, a controller's primary/owns/watches) need list and watch;
//   - kube.create/patch/delete need create/patch/delete;
//   - a controller's primary gets its status written (patch on <plural>/status);
//   - an owned child carries a blockOwnerDeletion ownerReference (update on <primary plural>/finalizers);
//   - direct API calls need the verbs of their HTTP methods (GET list on a collection, get on an object; POST
//     create, PUT update, PATCH patch, DELETE delete), for resourcePath(ref, ...) or, in a module that declares one
//     ResourceRef and builds its own paths (leader election), for that ref.
// When a controller starts using a new resource, this test fails until the chart grants it.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { before, describe, it } from 'node:test';
import { group as apiGroup } from '../../src/api/common.js';
import { repoRoot } from '../../localcluster/cluster.js';
import { type KubeDoc, renderChart } from './chart-tools.js';

interface Ref { readonly group: string; readonly plural: string }
type Grants = Map<string, Set<string>>; // "group/resource" → verbs

function sources(dir: string): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== 'testing') out.push(...sources(path));
    } else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) {
      out.push({ file: relative(repoRoot, path), text: readFileSync(path, 'utf8') });
    }
  }
  return out;
}

function grant(g: Grants, ref: Ref, resourceSuffix: string, ...verbs: string[]): void {
  const key = `${ref.group}/${ref.plural}${resourceSuffix}`;
  const set = g.get(key) ?? new Set<string>();
  for (const v of verbs) set.add(v);
  g.set(key, set);
}

const methodVerb: Record<string, string> = { GET: 'get', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

/** What the operator's code calls, derived from its source. */
export function requiredByCode(files: readonly { file: string; text: string }[]): Grants {
  const refs = new Map<string, Ref>();
  const declared = /const (\w+): ResourceRef = \{ group(?:: '([^']*)')?, [^}]*?plural: '([^']+)'/g;
  const declaredIn = new Map<string, string[]>();
  for (const { file, text } of files) {
    for (const m of text.matchAll(declared)) {
      const [, name = '', group, plural = ''] = m;
      refs.set(name, { group: group ?? apiGroup, plural });
      declaredIn.set(file, [...(declaredIn.get(file) ?? []), name]);
    }
  }
  const refNamed = (name: string): Ref => {
    const r = refs.get(name);
    if (!r) throw new Error(`the code uses ${name} as a ResourceRef, but no declaration was found`);
    return r;
  };
  const need: Grants = new Map();
  for (const { file, text } of files) {
    // Imports may rename a ref (import { deployments as deploymentRef }).
    const alias = new Map<string, string>();
    for (const m of text.matchAll(/\b(\w+) as (\w+)\b/g)) if (refs.has(m[1] ?? '')) alias.set(m[2] ?? '', m[1] ?? '');
    const known = (name: string): string | undefined => (refs.has(name) ? name : alias.get(name));
    const use = (name: string, suffix: string, ...verbs: string[]): void => {
      const real = known(name);
      if (real) grant(need, refNamed(real), suffix, ...verbs);
    };
    for (const m of text.matchAll(/\binformer\((\w+)\)|\bprimary: (\w+)|\bref: (\w+)/g)) use(m[1] ?? m[2] ?? m[3] ?? '', '', 'list', 'watch');
    for (const m of text.matchAll(/\.(create|patch|delete)\((\w+),/g)) use(m[2] ?? '', '', m[1] ?? '');
    // A controller: its primary's status is written; each owned type needs update on the primary's finalizers.
    for (const m of text.matchAll(/\bprimary: (\w+),/g)) {
      const primary = m[1] ?? '';
      use(primary, '/status', 'patch');
      const rest = text.slice((m.index ?? 0) + m[0].length);
      const owns = /^\s*owns: \[([\w, ]*)\]/.exec(rest)?.[1];
      for (const owned of (owns ?? '').split(',').map((x) => x.trim()).filter(Boolean)) {
        use(owned, '', 'list', 'watch');
        use(primary, '/finalizers', 'update');
      }
    }
    // Direct API calls: resourcePath(ref, namespace) is a collection (GET = list), with a name one object.
    for (const m of text.matchAll(/\.request(?:<[^>]*>)?\('(GET|POST|PUT|PATCH|DELETE)', resourcePath\((\w+), [^,()]+(,)?/g)) {
      const method = m[1] ?? '';
      use(m[2] ?? '', '', method === 'GET' && m[3] === undefined ? 'list' : methodVerb[method] ?? '');
    }
    // A module that declares one ref and builds its paths itself (leader election) calls the API for that ref.
    const own = declaredIn.get(file);
    if (own?.length === 1) {
      for (const m of text.matchAll(/\.request(?:<[^>]*>)?\('(GET|POST|PUT|PATCH|DELETE)', (?!resourcePath)/g)) {
        use(own[0] ?? '', '', methodVerb[m[1] ?? ''] ?? '');
      }
    }
  }
  return need;
}

interface Rule { apiGroups: string[]; resources: string[]; verbs: string[] }

function granted(docs: readonly KubeDoc[]): Grants {
  const g: Grants = new Map();
  for (const d of docs.filter((x) => x.kind === 'ClusterRole' || x.kind === 'Role')) {
    for (const rule of (d as unknown as { rules: Rule[] }).rules) {
      for (const group of rule.apiGroups) for (const resource of rule.resources) {
        const key = `${group}/${resource}`;
        const set = g.get(key) ?? new Set<string>();
        for (const v of rule.verbs) set.add(v);
        g.set(key, set);
      }
    }
  }
  return g;
}

const flat = (g: Grants): string[] => [...g].flatMap(([k, verbs]) => [...verbs].map((v) => `${k}:${v}`)).sort();

describe('chart: RBAC is exactly what the operator calls', () => {
  let need: Grants;
  let docs: KubeDoc[];

  before(async () => {
    need = requiredByCode(sources(join(repoRoot, 'src', 'operator')));
    docs = (await renderChart([])).docs;
  });

  it('the derivation sees the operator\'s calls', () => {
    // A guard against a derivation that silently finds nothing: these calls exist today.
    for (const k of ['perennial.dev/trainingpipelines:watch', 'batch/jobs:create', 'coordination.k8s.io/leases:update', 'events.k8s.io/events:create']) {
      assert.ok(flat(need).includes(k), `derived ${k}`);
    }
  });

  it('the chart grants everything the code calls', () => {
    const have = flat(granted(docs));
    const missing = flat(need).filter((k) => !have.includes(k));
    assert.deepEqual(missing, [], 'grant these in charts/perennial/templates/rbac.yaml');
  });

  it('the chart grants nothing the code does not call', () => {
    const used = flat(need);
    const extra = flat(granted(docs)).filter((k) => !used.includes(k));
    assert.deepEqual(extra, [], 'remove these from charts/perennial/templates/rbac.yaml (or the code stopped calling them)');
  });

  it('Secrets never listed or watched, no wildcards, and the Lease only in the release namespace', () => {
    for (const d of docs.filter((x) => x.kind === 'ClusterRole' || x.kind === 'Role')) {
      for (const rule of (d as unknown as { rules: Rule[] }).rules) {
        // A Secret is read only by the name a spec gives (get); listing or watching would read every tenant's.
        if (rule.resources.includes('secrets')) {
          assert.deepEqual(rule.verbs.filter((v) => v === 'list' || v === 'watch'), [], `${d.kind} ${d.metadata.name} lists or watches secrets`);
        }
        assert.ok(![...rule.apiGroups, ...rule.resources, ...rule.verbs].includes('*'), `${d.kind} ${d.metadata.name} uses a wildcard`);
        if (rule.resources.includes('leases')) assert.equal(d.kind, 'Role', 'leases are granted in a Role of the release namespace');
      }
    }
  });
});
