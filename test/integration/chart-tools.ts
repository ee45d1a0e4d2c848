// What the chart tests share: the pinned helm, kubeconform and kube-score (built by localcluster/build-servers.sh
// from their wrapper modules), rendering charts/perennial, and JSON schemas for kubeconform made locally (it
// cannot download its schemas here): one per kind from the API server's OpenAPI v2 document, one per CRD version
// from our CRDs. Schemas are strict (additionalProperties: false wherever the API lists the properties), so a
// misspelt field fails as it would with `kubectl apply --validate=strict`.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadAll } from 'js-yaml';
import { repoRoot } from '../../localcluster/cluster.js';

export const chartDir = join(repoRoot, 'charts', 'perennial');

/** A Grafana dashboard of the chart (charts/perennial/dashboards/*.json), as far as the tests read it. */
export interface Dashboard {
  readonly panels: { readonly title: string; readonly type: string; readonly targets?: { readonly expr: string }[] }[];
}

export function dashboards(): { file: string; json: Dashboard }[] {
  const dir = join(chartDir, 'dashboards');
  return readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => ({ file: f, json: JSON.parse(readFileSync(join(dir, f), 'utf8')) as Dashboard }));
}

/** Every dashboard query with its variables as Grafana fills them with "All". */
export function dashboardQueries(): { panel: string; expr: string }[] {
  const fill = (e: string): string => e.replace(/\$(namespace|pipeline|deployment)\b/g, '.*').replace(/\$__rate_interval/g, '1m');
  return dashboards().flatMap(({ json }) => json.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: fill(t.expr) }))));
}
/** The Kubernetes version the chart is rendered and validated for (the local API server's). */
export const kubeVersion = '1.34.0';

export interface ToolResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let binDir: Promise<string> | undefined;

/** The folder with helm, kubeconform and kube-score (built once per set of pins, then cached). */
export function toolsBin(): Promise<string> {
  binDir ??= promisify(execFile)(join(repoRoot, 'localcluster', 'build-servers.sh'), ['helm', 'kubeconform', 'kube-score'], {
    maxBuffer: 16 * 1024 * 1024, timeout: 80 * 60 * 1000,
  }).then(({ stdout }) => {
    const bin = stdout.trim().split('\n').pop();
    if (!bin) throw new Error('build-servers.sh printed no folder');
    return bin;
  });
  return binDir;
}

const helmHome = mkdtempSync(join(tmpdir(), 'perennial-helm-'));

export async function runTool(tool: 'helm' | 'kubeconform' | 'kube-score', args: readonly string[]): Promise<ToolResult> {
  const bin = join(await toolsBin(), tool);
  // helm keeps config, cache and data under these; a private folder leaves the user's alone.
  const env = { ...process.env, HELM_CONFIG_HOME: helmHome, HELM_CACHE_HOME: helmHome, HELM_DATA_HOME: helmHome, NO_COLOR: '1' };
  return new Promise((resolve) => {
    execFile(bin, args, { env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export interface KubeDoc {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Record<string, string> };
  readonly [field: string]: unknown;
}

/**
 * `helm template` with the given --set/--values arguments; throws with helm's stderr when it fails. The CRDs are
 * templates of the chart (templates/crds.yaml), so they are rendered without --include-crds.
 */
export async function renderChart(args: readonly string[], options: { namespace?: string; release?: string } = {}): Promise<{ yaml: string; docs: KubeDoc[] }> {
  const r = await runTool('helm', ['template', options.release ?? 'perennial', chartDir, '--namespace', options.namespace ?? 'perennial-system',
    '--kube-version', kubeVersion, ...args]);
  if (r.code !== 0) throw new Error(`helm template failed (${r.code}): ${r.stderr}`);
  return { yaml: r.stdout, docs: parseDocs(r.stdout) };
}

export function parseDocs(yaml: string): KubeDoc[] {
  return loadAll(yaml).filter((d): d is KubeDoc => typeof d === 'object' && d !== null);
}

export function writeTemp(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'perennial-chart-'));
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Closes every object schema that lists its properties (and allows nothing else already), as
 * openapi2jsonschema's --strict does. Fields the API keeps open (x-kubernetes-preserve-unknown-fields, maps)
 * stay open.
 */
export function strictSchema(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(strictSchema);
  if (!isObject(schema)) return schema;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(schema)) {
    out[k] = k === 'properties' && isObject(v) ? Object.fromEntries(Object.entries(v).map(([p, s]) => [p, strictSchema(s)])) : strictSchema(v);
  }
  if (isObject(out['properties']) && out['additionalProperties'] === undefined && out['x-kubernetes-preserve-unknown-fields'] !== true) {
    out['additionalProperties'] = false;
  }
  return out;
}

/** Kubernetes' int-or-string and quantity fields accept both forms; OpenAPI v2 says only "string". */
function widenScalars(definitions: JsonObject): void {
  for (const name of Object.keys(definitions)) {
    if (name.endsWith('.util.intstr.IntOrString') || name.endsWith('.api.resource.Quantity')) {
      definitions[name] = { oneOf: [{ type: 'string' }, { type: 'integer' }, ...(name.endsWith('Quantity') ? [{ type: 'number' }] : [])] };
    }
  }
}

/** kubeconform's file name for a kind: {{ .ResourceKind }}{{ .KindSuffix }}.json (pod-v1.json, deployment-apps-v1.json). */
export function schemaFileName(kind: string, group: string, version: string): string {
  return `${kind.toLowerCase()}-${group === '' ? '' : `${group.split('.')[0] ?? ''}-`}${version}.json`.toLowerCase();
}

export const schemaLocation = '{{ .ResourceKind }}{{ .KindSuffix }}.json';

/** Writes one strict standalone schema per group/version/kind of the OpenAPI v2 document into dir. */
export function writeKubeSchemas(openapi: { definitions: JsonObject }, dir: string): number {
  mkdirSync(dir, { recursive: true });
  const definitions = strictSchema(structuredClone(openapi.definitions)) as JsonObject;
  widenScalars(definitions);
  let count = 0;
  for (const [name, def] of Object.entries(definitions)) {
    if (!isObject(def)) continue;
    const gvks = def['x-kubernetes-group-version-kind'];
    if (!Array.isArray(gvks)) continue;
    for (const gvk of gvks) {
      if (!isObject(gvk) || typeof gvk['kind'] !== 'string' || typeof gvk['version'] !== 'string') continue;
      const group = typeof gvk['group'] === 'string' ? gvk['group'] : '';
      // Refs stay local: each file carries every definition it may point at.
      writeFileSync(join(dir, schemaFileName(gvk['kind'], group, gvk['version'])), JSON.stringify({ $ref: `#/definitions/${name}`, definitions }));
      count++;
    }
  }
  return count;
}

interface Crd {
  readonly spec: { readonly group: string; readonly names: { readonly kind: string }; readonly versions: readonly { readonly name: string; readonly schema?: { readonly openAPIV3Schema?: Json } }[] };
}

/** Writes one strict schema per served version of each CRD file in crdDir. */
export function writeCrdSchemas(crdDir: string, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const file of readdirSync(crdDir).filter((f) => f.endsWith('.yaml'))) {
    for (const doc of loadAll(readFileSync(join(crdDir, file), 'utf8')) as Crd[]) {
      for (const v of doc.spec.versions) {
        const schema = v.schema?.openAPIV3Schema;
        if (!isObject(schema ?? null)) continue;
        const name = schemaFileName(doc.spec.names.kind, doc.spec.group, v.name);
        writeFileSync(join(dir, name), JSON.stringify(strictSchema(schema ?? null)));
        written.push(name);
      }
    }
  }
  return written;
}

/**
 * Applies our CRDs with the cluster's kubectl and waits until they are Established. `kubectl wait` fails (instead of
 * waiting) while a just-created CRD has no status.conditions yet, so it is retried.
 */
export async function installCrds(kubectlPath: string, kubeconfigPath: string, crdDir: string): Promise<void> {
  const kubectl = (args: readonly string[]) => promisify(execFile)(kubectlPath, ['--kubeconfig', kubeconfigPath, ...args]);
  await kubectl(['apply', '--server-side', '--force-conflicts', '-f', crdDir]);
  for (let attempt = 1; ; attempt++) {
    try {
      await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/trainingpipelines.perennial.dev', 'crd/modeldeployments.perennial.dev']);
      return;
    } catch (e: unknown) {
      if (attempt >= 20) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
