// The feedback loop's latency, as the operator measures it at each promotion: from the arrival of the newest
// feedback label the promoted version's training data held to the promotion (the moment that version serves 100%).
// The trainer records the arrival times of the fed-back labels it trained on in the version's lineage.json
// (feedback.fedBackRows.labelTime); a version trained without feedback has none and is not measured. The lineage
// is read with the operator's own store client, after the promotion's status write (never in a reconcile's way);
// a version in a store the operator cannot read (a pipeline with its own credentials) is not measured.
import type { ModelDeployment } from '../../api/model-deployment.js';
import { artifactFiles } from '../../shared/artifact-layout.js';
import { MinioStore } from '../../storage/minio-store.js';
import type { ObjectStore } from '../../storage/object-store.js';
import { parseS3Uri } from '../controllers/model-deployment/spec-checks.js';
import { errorFields, type Logger } from '../runtime/log.js';
import type { KubeObject } from '../runtime/resource.js';
import type { StoreConfig } from '../store-settings.js';
import type { LoopEvent } from '../notifications/loop-events.js';
import type { LoopMetrics } from './loop-metrics.js';

/** The newest label arrival in a lineage.json (milliseconds), or undefined when it names none. */
export function newestLabelArrivalMs(lineage: unknown): number | undefined {
  const to = (lineage as { feedback?: { fedBackRows?: { labelTime?: { to?: unknown } } } } | undefined)?.feedback?.fedBackRows?.labelTime?.to;
  if (typeof to !== 'string') return undefined;
  const ms = Date.parse(to);
  return Number.isFinite(ms) ? ms : undefined;
}

/** Seconds from the newest label's arrival to the promotion; undefined without one, or for a clock that went back. */
export function feedbackLoopSeconds(lineage: unknown, promotedMs: number): number | undefined {
  const arrival = newestLabelArrivalMs(lineage);
  if (arrival === undefined || promotedMs < arrival) return undefined;
  return (promotedMs - arrival) / 1000;
}

/** Where the promoted version's lineage is: next to its manifest, under the candidate's URI (status.canaryURI). */
export function lineageLocation(md: ModelDeployment): { bucket: string; key: string } | undefined {
  const at = md.status?.canaryURI === undefined ? undefined : parseS3Uri(md.status.canaryURI);
  return at === undefined ? undefined : { bucket: at.bucket, key: `${at.prefix}/${artifactFiles.lineage}` };
}

/** measureLoop's onPromotion: reads the lineage and observes the latency. */
export function feedbackLatencyMeter(store: StoreConfig | undefined, logger: Logger, client?: ObjectStore): (e: LoopEvent, metrics: LoopMetrics, md: KubeObject) => void {
  if (store === undefined) return () => undefined;
  const s = client ?? new MinioStore({ endPoint: store.endPoint, port: store.port, useSSL: store.useSSL, accessKey: store.accessKey, secretKey: store.secretKey, region: store.region });
  return (e, metrics, md) => {
    const at = lineageLocation(md as ModelDeployment);
    if (at === undefined) return;
    const promotedMs = Date.parse(e.time);
    s.getBuffer(at.bucket, at.key).then((buf) => {
      const seconds = feedbackLoopSeconds(JSON.parse(buf.toString('utf8')) as unknown, promotedMs);
      if (seconds !== undefined) metrics.feedbackLoopLatency(e.namespace, e.name, seconds);
    }, (err: unknown) => {
      logger.debug('feedback-loop latency not measured', { namespace: e.namespace, name: e.name, version: e.version, ...errorFields(err) });
    });
  };
}
