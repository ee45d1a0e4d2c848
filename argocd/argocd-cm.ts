// The argocd-cm entries that install Perennial's health scripts and resource actions (per-key form,
// resource.customizations.health.<group>_<kind> and resource.customizations.actions.<group>_<kind>), generated from
// the .lua files so the two never differ.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';

export const kinds = ['TrainingPipeline', 'ModelDeployment'] as const;
export const group = 'perennial.dev';

export function scriptPath(root: string, kind: string): string {
  return join(root, 'argocd', 'resource_customizations', group, kind, 'health.lua');
}

export function actionsDir(root: string, kind: string): string {
  return join(root, 'argocd', 'resource_customizations', group, kind, 'actions');
}

/** The action names of a kind: the folders under actions/ holding an action.lua, sorted. */
export function actionNames(root: string, kind: string): string[] {
  const dir = actionsDir(root, kind);
  return readdirSync(dir).filter((n) => statSync(join(dir, n)).isDirectory() && n !== 'testdata').sort();
}

/** The value of resource.customizations.actions.<group>_<kind>: discovery.lua and one definition per action. */
function actionsValue(root: string, kind: string): string {
  const dir = actionsDir(root, kind);
  const definitions = actionNames(root, kind).map((name) => ({ name, 'action.lua': readFileSync(join(dir, name, 'action.lua'), 'utf8') }));
  return yaml.dump({ 'discovery.lua': readFileSync(join(dir, 'discovery.lua'), 'utf8'), definitions }, { lineWidth: -1 });
}

export function renderArgocdCm(root: string): string {
  const data: Record<string, string> = {};
  for (const kind of kinds) data[`resource.customizations.health.${group}_${kind}`] = readFileSync(scriptPath(root, kind), 'utf8');
  for (const kind of kinds) data[`resource.customizations.actions.${group}_${kind}`] = actionsValue(root, kind);
  const cm = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'argocd-cm', namespace: 'argocd', labels: { 'app.kubernetes.io/part-of': 'argocd' } },
    data,
  };
  return '# Generated from argocd/resource_customizations by `npm run gen:argocd`; merge these keys into your argocd-cm.\n'
    + yaml.dump(cm, { lineWidth: -1 });
}
