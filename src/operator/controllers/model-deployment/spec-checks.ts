// What the CRD schema cannot check about a ModelDeployment spec; each problem is a sentence naming the field.
import type { ModelDeploymentSpec } from '../../../api/model-deployment.js';
import { parseDuration } from '../training-pipeline/duration.js';

/** s3://bucket/prefix → its parts, or undefined when it is not one. */
export function parseS3Uri(uri: string): { bucket: string; prefix: string } | undefined {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+?)\/?$/.exec(uri);
  if (!m?.[1] || !m[2]) return undefined;
  return { bucket: m[1], prefix: m[2] };
}

export function checkModelDeploymentSpec(spec: ModelDeploymentSpec): string[] {
  const problems: string[] = [];
  if (spec.model.uri !== undefined && parseS3Uri(spec.model.uri) === undefined) {
    problems.push(`spec.model.uri: "${spec.model.uri}" is not s3://<bucket>/<prefix> with a valid bucket name and a prefix`);
  } else if (spec.model.uri !== undefined && !/^pipelines\/[^/]+\/[^/]+\/versions\/[^/]+\/?$/.test(parseS3Uri(spec.model.uri)?.prefix ?? '')) {
    problems.push(`spec.model.uri: "${spec.model.uri}" is not a published version (s3://<bucket>/pipelines/<namespace>/<pipeline>/versions/<version>)`);
  }
  if (spec.rollout.shadow !== undefined && spec.rollout.trafficRouting.type !== 'GatewayAPI') {
    problems.push('spec.rollout.shadow: mirroring needs spec.rollout.trafficRouting.type GatewayAPI (the Replicas router cannot copy requests)');
  }
  const driftWindowMs = parseDuration(spec.server.driftWindow);
  if (driftWindowMs < 10_000 || driftWindowMs > 7 * 86_400_000) {
    problems.push(`spec.server.driftWindow: ${spec.server.driftWindow} is outside 10s–7d (the servers keep the window in memory, in 60 slots)`);
  }
  const url = spec.rollout.analysis.provider?.prometheusURL;
  if (url !== undefined) {
    let ok = false;
    try {
      const parsed = new URL(url);
      ok = parsed.protocol === 'http:' || parsed.protocol === 'https:';
    } catch {
      ok = false;
    }
    if (!ok) problems.push(`spec.rollout.analysis.provider.prometheusURL: "${url}" is not an http(s) URL`);
  }
  return problems;
}
