// What the CRD schema cannot check about a TrainingPipeline spec: a cron that names an impossible date, a time
// zone that does not exist, timestamps that do not parse (and the duration bounds, for objects stored before the
// schema had them). Each check returns a sentence naming the field, for the Accepted=False/InvalidSpec condition;
// an invalid spec waits for the next edit instead of retrying. reviewTrainingPipeline adds what the namespace is
// not permitted (tenancy.ts).
import { CronExpressionParser } from 'cron-parser';
import { tpDurationBounds, type TrainingPipeline, type TrainingPipelineSpec } from '../../../api/training-pipeline.js';
import type { Review } from '../acceptance.js';
import { pipelineDenials, type TenancyPolicy } from '../tenancy.js';
import { durationBoundsProblem } from '../../../api/duration.js';
import { maxPipelineNameLength } from './names.js';
import { metricsOf } from '../../../shared/metric-names.js';
import { searchParameterProblems } from '../../../shared/trainer-config.js';
import { modelFamilyOf } from './trainer-config.js';

/** Answers per zone name: the zones a process knows do not change, and building a DateTimeFormat is slow. */
const timeZones = new Map<string, boolean>();

export function isValidTimeZone(tz: string): boolean {
  let valid = timeZones.get(tz);
  if (valid === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      valid = true;
    } catch {
      valid = false;
    }
    if (timeZones.size < 1000) timeZones.set(tz, valid);
  }
  return valid;
}

/** Per cron and zone: why it never matches, or '' when it does (kept: a parse with a time zone takes milliseconds). */
const cronProblems = new Map<string, string>();

function cronProblem(cron: string, tz: string | undefined): string | undefined {
  const key = `${cron}\u0000${tz ?? ''}`;
  let problem = cronProblems.get(key);
  if (problem === undefined) {
    try {
      CronExpressionParser.parse(cron, tz ? { tz } : {}).next();
      problem = '';
    } catch (e: unknown) {
      problem = e instanceof Error ? e.message : String(e);
    }
    if (cronProblems.size < 10_000) cronProblems.set(key, problem);
  }
  return problem === '' ? undefined : problem;
}

function isTimestamp(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isNaN(Date.parse(value));
}

/**
 * What admission cannot check of trainer.search: each listed value must be one the parameter takes (e.g. "big" is no
 * batchSize), and trials need the validation split they are judged on; the trainer's own config check says the same,
 * but only once a run has started.
 */
export function searchProblems(trainer: TrainingPipelineSpec['trainer']): string[] {
  const search = trainer.search;
  if (search === undefined) return [];
  const family = modelFamilyOf[trainer.model?.type ?? 'MLP'];
  const problems = search.parameters.flatMap((p, i) => searchParameterProblems(family, { name: p.name, min: p.min, max: p.max, values: p.values, scale: p.scale === 'Log' ? 'log' : 'linear' }, `spec.trainer.search.parameters[${i}]`));
  const budget = search.timeBudget === undefined ? undefined : durationBoundsProblem('spec.trainer.search.timeBudget', search.timeBudget, tpDurationBounds.searchTimeBudget);
  if (budget !== undefined) problems.push(budget);
  if (trainer.hyperparameters !== undefined && trainer.hyperparameters.validationSplit === 0) {
    problems.push('spec.trainer.search needs a validation split to judge the trials on: set spec.trainer.hyperparameters.validationSplit above 0 (0.1 is the default)');
  }
  return problems;
}

/** Problems with the spec (and the name, which becomes part of every run's Job name). */
export function checkTrainingPipelineSpec(spec: TrainingPipelineSpec, name = ''): string[] {
  const problems: string[] = [];
  if (name.length > maxPipelineNameLength) {
    problems.push(`metadata.name: "${name}" is longer than ${maxPipelineNameLength} characters, leaving no room for the run number in its Jobs' names`);
  }
  const minInterval = durationBoundsProblem('spec.triggers.minInterval', spec.triggers.minInterval, tpDurationBounds.minInterval);
  if (minInterval !== undefined) problems.push(minInterval);
  const imagePull = durationBoundsProblem('spec.trainer.imagePullTimeout', spec.trainer.imagePullTimeout, tpDurationBounds.imagePullTimeout);
  if (imagePull !== undefined) problems.push(imagePull);
  const poll = spec.triggers.newData?.pollInterval;
  const pollProblem = poll === undefined ? undefined : durationBoundsProblem('spec.triggers.newData.pollInterval', poll, tpDurationBounds.pollInterval);
  if (pollProblem !== undefined) problems.push(pollProblem);
  const reference = spec.data.driftReference?.duration;
  const referenceProblem = reference === undefined ? undefined : durationBoundsProblem('spec.data.driftReference.duration', reference, tpDurationBounds.driftReference);
  if (referenceProblem !== undefined) problems.push(referenceProblem);
  problems.push(...searchProblems(spec.trainer));
  const schedule = spec.triggers.schedule;
  if (schedule) {
    const tz = schedule.timeZone;
    if (tz !== undefined && !isValidTimeZone(tz)) {
      problems.push(`spec.triggers.schedule.timeZone: "${tz}" is not an IANA time zone such as Europe/Berlin`);
    } else {
      const problem = cronProblem(schedule.cron, tz);
      if (problem !== undefined) problems.push(`spec.triggers.schedule.cron: "${schedule.cron}" never matches a real time (${problem})`);
    }
  }
  const holdoutFrom = spec.evaluation.holdout?.from;
  if (holdoutFrom !== undefined && !isTimestamp(holdoutFrom)) {
    problems.push(`spec.evaluation.holdout.from: "${holdoutFrom}" is not an ISO 8601 time`);
  }
  if (holdoutFrom !== undefined && !spec.data.schema.timestampColumn) {
    problems.push('spec.evaluation.holdout.from needs spec.data.schema.timestampColumn');
  }
  const forgetting = spec.evaluation.forgetting;
  if (forgetting) {
    if (!isTimestamp(forgetting.from)) problems.push(`spec.evaluation.forgetting.from: "${forgetting.from}" is not an ISO 8601 time`);
    else if (!isTimestamp(forgetting.to)) problems.push(`spec.evaluation.forgetting.to: "${forgetting.to}" is not an ISO 8601 time`);
    else if (Date.parse(forgetting.from) >= Date.parse(forgetting.to)) {
      problems.push('spec.evaluation.forgetting: from must be before to');
    }
    if (!spec.data.schema.timestampColumn) problems.push('spec.evaluation.forgetting needs spec.data.schema.timestampColumn');
  }
  const primary = spec.evaluation.primaryMetric;
  if (primary !== undefined) {
    if (!metricsOf(spec.data.schema.label.task).includes(primary)) {
      problems.push(`spec.evaluation.primaryMetric: ${primary} does not apply to a ${spec.data.schema.label.task} task`);
    }
  }
  return problems;
}

/** Everything that stops the controller acting on the pipeline: problems with its spec, and what it may not have. */
export function reviewTrainingPipeline(tp: TrainingPipeline, policy: TenancyPolicy): Review {
  const name = tp.metadata.name ?? '';
  return {
    problems: checkTrainingPipelineSpec(tp.spec, name),
    denied: pipelineDenials(policy, tp.metadata.namespace ?? '', name, tp.spec),
  };
}
