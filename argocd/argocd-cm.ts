// The argocd-cm entries that install Perennial's health scripts (per-key form,
// resource.customizations.health.<group>_<kind>), generated from the .lua files so the two never differ.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';

export const kinds = ['TrainingPipeline', 'ModelDeployment'] as const;
export const group = 'perennial.dev';

export function scriptPath(root: string, kind: string): string {
  return join(root, 'argocd', 'resource_customizations', group, kind, 'health.lua');
}

export function renderArgocdCm(root: string): string {
  const data: Record<string, string> = {};
  for (const kind of kinds) data[`resource.customizations.health.${group}_${kind}`] = readFileSync(scriptPath(root, kind), 'utf8');
  const cm = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'argocd-cm', namespace: 'argocd', labels: { 'app.kubernetes.io/part-of': 'argocd' } },
    data,
  };
  return '# Generated from argocd/resource_customizations by `npm run gen:argocd`; merge these keys into your argocd-cm.\n'
    + yaml.dump(cm, { lineWidth: -1 });
}
