// The settings the servers read live (src/shared/server-settings.ts), as the ConfigMap `<md>-server` every server
// pod mounts: logPredictions from the spec, and the track of the candidate's revision (shadow during a shadow step,
// canary otherwise, blue-green preview included); every other revision is stable. They are not in any pod template,
// so flipping logPredictions or promoting a canary (its track becoming stable) restarts no pod and makes no new
// revision. Written when its hash differs from status.settingsHash. Pure, table-tested (children.test.ts).
import { createHash } from 'node:crypto';
import type { OwnerReference } from '../../runtime/resource.js';
import { renderServerSettings, serverSettingsKey, type ServerSettingsDocument } from '../../../shared/server-settings.js';
import { ownedLabels, settingsConfigMapName } from './names.js';
import type { PlanContext } from './plan-context.js';
import type { Draft } from './rollout-state.js';

export interface ConfigMapObject {
  readonly apiVersion: 'v1';
  readonly kind: 'ConfigMap';
  readonly metadata: { readonly name: string; readonly namespace: string; readonly labels: Readonly<Record<string, string>>; readonly ownerReferences: readonly OwnerReference[] };
  readonly data: Readonly<Record<string, string>>;
}

export function serverSettingsOf(ctx: PlanContext, d: Draft): ServerSettingsDocument {
  const step = ctx.steps[d.status.currentStep ?? 0];
  const tracks = d.canary ? { [d.canary.hash]: step?.kind === 'shadow' ? 'shadow' as const : 'canary' as const } : {};
  return { logPredictions: ctx.spec.server.logPredictions, tracks };
}

export function settingsConfigMap(ctx: PlanContext, d: Draft): { readonly configMap: ConfigMapObject; readonly hash: string } {
  const text = renderServerSettings(serverSettingsOf(ctx, d));
  return {
    configMap: {
      apiVersion: 'v1', kind: 'ConfigMap',
      metadata: { name: settingsConfigMapName(ctx.name), namespace: ctx.namespace, labels: ownedLabels(ctx.name), ownerReferences: [ctx.owner] },
      data: { [serverSettingsKey]: text },
    },
    hash: createHash('sha256').update(text).digest('hex').slice(0, 16),
  };
}
