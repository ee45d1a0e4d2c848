// The objects of the operator-scale benchmark: the shipped examples (examples/*.yaml), renamed and spread over a
// few namespaces, so the operator carries what users would apply, not a minimal spec that skips most of its work.
//   TrainingPipeline tp-<i>: the example unchanged but for its name, the ModelDeployment its drift, performance and
//     feedback name (md-<i>) and its data source (its namespace's own data/<namespace>/weather/). Its Initial run
//     claims run 1 and creates the Job.
//   ModelDeployment md-<i>: the example unchanged but for its name and model. Even i follow tp-<i> (no champion
//     yet: Pending, "waiting for a model"); odd i serve a fixed model.uri, so the operator creates its server
//     Deployment, its stable and canary Services and its HTTPRoute.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { repoRoot } from '../localcluster/cluster.js';

export interface ScaleObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace: string };
  readonly spec: Record<string, unknown>;
}

export interface ScaleSet {
  readonly namespaces: readonly string[];
  readonly pipelines: readonly ScaleObject[];
  readonly deployments: readonly ScaleObject[];
  /** What the operator should have created once it reconciled them all. */
  readonly expected: { readonly jobs: number; readonly serverDeployments: number; readonly services: number; readonly routes: number };
}

function example(file: string): ScaleObject {
  return yaml.load(readFileSync(join(repoRoot, 'examples', file), 'utf8')) as ScaleObject;
}

/** A fixed version URI in the operator's bucket (only server pods would read it; without pods nothing does). */
export function fixedModelUri(bucket: string, namespace: string): string {
  return `s3://${bucket}/pipelines/${namespace}/weather/versions/v1`;
}

export function scaleObjects(count: number, namespaceCount: number, bucket: string): ScaleSet {
  const tpExample = example('training-pipeline.yaml');
  const mdExample = example('model-deployment.yaml');
  const namespaces = Array.from({ length: namespaceCount }, (_, n) => `scale-${n}`);
  const pipelines: ScaleObject[] = [];
  const deployments: ScaleObject[] = [];
  let fixed = 0;
  for (let i = 0; i < count; i++) {
    const namespace = namespaces[i % namespaceCount] ?? 'scale-0';
    const md = `md-${i}`;
    const tpSpec = structuredClone(tpExample.spec) as {
      data: Record<string, unknown>;
      triggers: { drift: Record<string, unknown>; performance: Record<string, unknown> };
    };
    tpSpec.data['feedbackFrom'] = md;
    tpSpec.data['sources'] = [{ prefix: `data/${namespace}/weather/`, format: 'csv' }];
    tpSpec.triggers.drift['deployment'] = md;
    tpSpec.triggers.performance['deployment'] = md;
    pipelines.push({ apiVersion: tpExample.apiVersion, kind: tpExample.kind, metadata: { name: `tp-${i}`, namespace }, spec: tpSpec });
    const mdSpec = structuredClone(mdExample.spec);
    if (i % 2 === 0) {
      mdSpec['model'] = { fromPipeline: `tp-${i}` };
    } else {
      mdSpec['model'] = { uri: fixedModelUri(bucket, namespace) };
      fixed++;
    }
    deployments.push({ apiVersion: mdExample.apiVersion, kind: mdExample.kind, metadata: { name: md, namespace }, spec: mdSpec });
  }
  return {
    namespaces, pipelines, deployments,
    expected: { jobs: count, serverDeployments: fixed, services: 2 * fixed, routes: fixed },
  };
}
