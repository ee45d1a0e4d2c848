// What the CRD schema cannot check about a TrainingPipeline spec: a cron that names an impossible date, a time
// zone that does not exist, timestamps that do not parse. Each check returns a sentence naming the field, for the
// Accepted=False/InvalidSpec condition; an invalid spec waits for the next edit instead of retrying.
import { CronExpressionParser } from 'cron-parser';
import type { TrainingPipelineSpec } from '../../../api/training-pipeline.js';
import { maxPipelineNameLength } from './names.js';

const classificationMetrics = new Set(['accuracy', 'macroF1', 'rocAuc', 'logLoss']);

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function isTimestamp(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isNaN(Date.parse(value));
}

/** Problems with the spec (and the name, which becomes part of every run's Job name). */
export function checkTrainingPipelineSpec(spec: TrainingPipelineSpec, name = ''): string[] {
  const problems: string[] = [];
  if (name.length > maxPipelineNameLength) {
    problems.push(`metadata.name: "${name}" is longer than ${maxPipelineNameLength} characters, leaving no room for the run number in its Jobs' names`);
  }
  const schedule = spec.triggers.schedule;
  if (schedule) {
    const tz = schedule.timeZone;
    if (tz !== undefined && !isValidTimeZone(tz)) {
      problems.push(`spec.triggers.schedule.timeZone: "${tz}" is not an IANA time zone such as Europe/Berlin`);
    } else {
      try {
        CronExpressionParser.parse(schedule.cron, tz ? { tz } : {}).next();
      } catch (e: unknown) {
        problems.push(`spec.triggers.schedule.cron: "${schedule.cron}" never matches a real time (${e instanceof Error ? e.message : String(e)})`);
      }
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
    const classification = spec.data.schema.label.task === 'classification';
    if (classification !== classificationMetrics.has(primary)) {
      problems.push(`spec.evaluation.primaryMetric: ${primary} does not apply to a ${spec.data.schema.label.task} task`);
    }
  }
  return problems;
}
