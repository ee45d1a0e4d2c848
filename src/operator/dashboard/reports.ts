// Each stored version's evaluation report (metrics.json), read from the store the way the TrainingPipeline
// controller reads it: only for a pipeline whose spec the operator accepted (so its bucket is one the namespace may
// use), with the pipeline's own credentials when it names a Secret (never the operator's keys for another
// tenant's bucket), else the operator's. A published version never changes, so a report read once is kept (the
// newest 2,000). Errors become a line on the page, never a failed request.
import type { TrainingPipeline } from '../../api/training-pipeline.js';
import { artifactFiles, versionPrefix } from '../../shared/artifact-layout.js';
import { type EvaluationReport, parseEvaluationReport } from '../../shared/evaluation-report.js';
import type { ObjectStore } from '../../storage/object-store.js';

export type VersionReport = { readonly version: string; readonly report: EvaluationReport } | { readonly version: string; readonly error: string };

export interface ReportSources {
  /** Whether the controller accepts the pipeline's spec (tenancy included). */
  readonly accepted: (tp: TrainingPipeline) => boolean;
  /** The operator's own store client, undefined without a store. */
  readonly store: ObjectStore | undefined;
  readonly defaultBucket: string;
  /** A client with the keys of a Secret in the namespace. */
  readonly storeForSecret: (namespace: string, secret: string) => Promise<ObjectStore>;
}

/** Most versions a page reads: the newest ones the store holds. */
export const reportsPerPage = 20;

export class VersionReports {
  private readonly kept = new Map<string, EvaluationReport>();

  constructor(private readonly src: ReportSources, private readonly limit = 2000) {}

  /** The reports of the newest stored versions (status.storedVersions), newest first. */
  async of(tp: TrainingPipeline): Promise<VersionReport[]> {
    const namespace = tp.metadata.namespace ?? '';
    const name = tp.metadata.name ?? '';
    const versions = [...(tp.status?.storedVersions ?? [])].reverse().slice(0, reportsPerPage);
    if (versions.length === 0 || !this.src.store || !this.src.accepted(tp)) return [];
    const secret = tp.spec.storage?.credentialsSecret;
    let store: ObjectStore;
    try {
      store = secret === undefined ? this.src.store : await this.src.storeForSecret(namespace, secret);
    } catch (e: unknown) {
      return versions.map((version) => ({ version, error: `no store client: ${e instanceof Error ? e.message : String(e)}` }));
    }
    const bucket = tp.spec.storage?.bucket ?? this.src.defaultBucket;
    return Promise.all(versions.map(async (version): Promise<VersionReport> => {
      const key = `${bucket}/${versionPrefix({ namespace, name }, version)}${artifactFiles.metrics}`;
      const hit = this.kept.get(key);
      if (hit) return { version, report: hit };
      try {
        const report = parseEvaluationReport((await store.getBuffer(bucket, key.slice(bucket.length + 1))).toString('utf8'));
        this.kept.set(key, report);
        if (this.kept.size > this.limit) {
          const oldest = this.kept.keys().next().value;
          if (oldest !== undefined) this.kept.delete(oldest);
        }
        return { version, report };
      } catch (e: unknown) {
        return { version, error: e instanceof Error ? e.message : String(e) };
      }
    }));
  }
}
