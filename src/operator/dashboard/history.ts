// The history behind the dashboard's plots. status.liveMetrics holds only the latest measurement, so the operator
// keeps, per ModelDeployment, a bounded ring of what it saw: each distinct liveMetrics (accuracy, RMSE, estimated
// accuracy, PSI per feature) and each change of the canary's weight. It is filled from the informer's events, in
// memory, on every replica (each replica has the whole cache), from the replica's start: a restart begins a new
// history. Nothing is read from the servers or written anywhere.
import type { ModelDeployment } from '../../api/model-deployment.js';

export interface LivePoint {
  readonly time: string;
  readonly version: string;
  readonly accuracy?: number | undefined;
  readonly rmse?: number | undefined;
  readonly estimatedAccuracy?: number | undefined;
  readonly maxDriftPsi?: number | undefined;
  readonly drift: Readonly<Record<string, number>>;
}

export interface WeightPoint {
  readonly time: string;
  readonly version: string;
  readonly weight: number;
}

export interface DeploymentHistory {
  readonly live: readonly LivePoint[];
  readonly weights: readonly WeightPoint[];
}

/** Points kept per deployment and series: at the default 30 s analysis interval, three hours. */
export const historyLimit = 360;

export class LiveHistory {
  private readonly byDeployment = new Map<string, { live: LivePoint[]; weights: WeightPoint[] }>();

  constructor(private readonly now: () => number = Date.now, private readonly limit = historyLimit) {}

  /** Records what is new in the deployment's status (called on every informer add and update). */
  observe(md: ModelDeployment): void {
    const key = `${md.metadata.namespace ?? ''}/${md.metadata.name ?? ''}`;
    let h = this.byDeployment.get(key);
    if (!h) {
      h = { live: [], weights: [] };
      this.byDeployment.set(key, h);
    }
    const live = md.status?.liveMetrics;
    if (live?.time !== undefined && h.live.at(-1)?.time !== live.time) {
      push(h.live, {
        time: live.time, version: live.version ?? '', accuracy: live.accuracy, rmse: live.rmse, estimatedAccuracy: live.estimatedAccuracy,
        maxDriftPsi: live.maxDriftPsi, drift: { ...live.drift },
      }, this.limit);
    }
    const s = md.status;
    const weight = s?.canaryVersion ? s.canaryWeight ?? 0 : 0;
    const version = s?.canaryVersion ?? s?.stableVersion ?? '';
    const last = h.weights.at(-1);
    if (s && (last === undefined || last.weight !== weight || last.version !== version)) {
      push(h.weights, { time: new Date(this.now()).toISOString(), version, weight }, this.limit);
    }
  }

  forget(namespace: string, name: string): void {
    this.byDeployment.delete(`${namespace}/${name}`);
  }

  of(namespace: string, name: string): DeploymentHistory {
    const h = this.byDeployment.get(`${namespace}/${name}`);
    return { live: [...(h?.live ?? [])], weights: [...(h?.weights ?? [])] };
  }
}

function push<T>(ring: T[], item: T, limit: number): void {
  ring.push(item);
  if (ring.length > limit) ring.splice(0, ring.length - limit);
}
