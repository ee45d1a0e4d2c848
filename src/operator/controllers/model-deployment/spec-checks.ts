// What the CRD schema cannot check about a ModelDeployment spec (and the duration bounds, for objects stored before
// the schema had them); each problem is a sentence naming the field. reviewModelDeployment adds what the namespace
// is not permitted (tenancy.ts).
import { mdDurationBounds, type ModelDeployment, type ModelDeploymentSpec } from '../../../api/model-deployment.js';
import type { TrainingPipeline } from '../../../api/training-pipeline.js';
import type { Review } from '../acceptance.js';
import { deploymentDenials, metricSource, modelUriDenial, type TenancyPolicy } from '../tenancy.js';
import { followedOf } from './desired-model.js';
import { durationBoundsProblem, parseDuration } from '../../../api/duration.js';
import { nameProblems, nameRules } from '../../../api/object-names.js';

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
  const durations: Array<[string, string | undefined, { readonly min?: string; readonly max?: string }]> = [
    ['spec.server.driftWindow', spec.server.driftWindow, mdDurationBounds.driftWindow],
    ['spec.server.maxConnectionAge', spec.server.maxConnectionAge, mdDurationBounds.connectionAge],
    ['spec.server.grpcMaxConnectionAge', spec.server.grpcMaxConnectionAge, mdDurationBounds.connectionAge],
    ['spec.rollout.analysis.interval', spec.rollout.analysis.interval, mdDurationBounds.analysisInterval],
    ['spec.rollout.progressDeadline', spec.rollout.progressDeadline, mdDurationBounds.progressDeadline],
    ['spec.rollout.shadow.duration', spec.rollout.shadow?.duration, mdDurationBounds.analysisWindow],
    ['spec.rollout.analysis.maxWindow', spec.rollout.analysis.maxWindow, mdDurationBounds.analysisWindow],
    ['spec.liveMetrics.maxWindow', spec.liveMetrics?.maxWindow, mdDurationBounds.analysisWindow],
    ...spec.rollout.canary.steps.map((step, i): [string, string | undefined, { readonly min?: string }] =>
      [`spec.rollout.canary.steps[${i}].analysis.duration`, step.analysis?.duration, mdDurationBounds.analysisWindow]),
  ];
  for (const [field, text, bounds] of durations) {
    const problem = text === undefined ? undefined : durationBoundsProblem(field, text, bounds);
    if (problem !== undefined) problems.push(problem);
  }
  return [...problems, ...windowProblems(spec)];
}

const ms = (text: string | undefined): number | undefined => {
  try {
    return text === undefined ? undefined : parseDuration(text);
  } catch {
    return undefined; // said by the bounds check
  }
};

/** The windows' combinations the CRD's CEL rules refuse, for objects stored before them: the same words. */
export function windowProblems(spec: ModelDeploymentSpec): string[] {
  const problems: string[] = [];
  const interval = ms(spec.rollout.analysis.interval);
  const maxWindow = ms(spec.rollout.analysis.maxWindow);
  const live = ms(spec.liveMetrics?.maxWindow);
  if (maxWindow !== undefined && interval !== undefined && maxWindow < interval) {
    problems.push('spec.rollout.analysis.maxWindow: analysis.maxWindow must be at least analysis.interval (a window is measured once per interval)');
  }
  const steps: Array<[string, string | undefined]> = [
    ...spec.rollout.canary.steps.map((step): [string, string | undefined] => ['the duration of every analysis step', step.analysis?.duration]),
    ['shadow.duration', spec.rollout.shadow?.duration],
    ['blueGreen.autoPromoteAfter', spec.rollout.blueGreen?.autoPromoteAfter],
  ];
  const short = maxWindow === undefined ? undefined : steps.find(([, text]) => (ms(text) ?? 0) > maxWindow);
  if (short) problems.push(`spec.rollout.analysis.maxWindow: analysis.maxWindow must be at least ${short[0]} (a window lasts at least its step)`);
  if (live !== undefined && interval !== undefined && live < interval) {
    problems.push('spec.liveMetrics.maxWindow: liveMetrics.maxWindow must be at least rollout.analysis.interval (live metrics are measured once per interval)');
  }
  return problems;
}

/**
 * Everything that stops the controller acting on the deployment: problems with its spec, and what it may not have
 * (its image, a model another namespace keeps, a followed pipeline's bucket, a Prometheus not configured).
 */
export function reviewModelDeployment(md: ModelDeployment, followed: TrainingPipeline | undefined, policy: TenancyPolicy): Review {
  const namespace = md.metadata.namespace ?? '';
  const spec = md.spec;
  const denied = deploymentDenials(policy, namespace, spec, followedOf(md, followed));
  const uri = spec.model.uri === undefined ? undefined : parseS3Uri(spec.model.uri);
  if (spec.model.uri !== undefined && uri) denied.push(...modelUriDenial(policy, namespace, uri.bucket, `${uri.prefix}/`, spec.model.uri));
  const source = metricSource(policy, spec.rollout.analysis.provider);
  if (source.kind === 'denied') denied.push(source.problem);
  // The API server refuses such names; one stored before the rule would make Services that cannot be created.
  return { problems: [...nameProblems(nameRules.ModelDeployment, md.metadata.name ?? ''), ...checkModelDeploymentSpec(spec)], denied };
}
