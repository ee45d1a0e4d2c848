// What a webhook receives for one loop event, in the format its destination asks for. Pure.
//   json:  a CloudEvents-like object (specversion, id, source, type, time, subject) with the event's fields as data,
//          flattened too (namespace, name, version, reason, message) so a receiver needs no CloudEvents library;
//   slack: {"text": ...}, what a Slack incoming webhook (and Mattermost, Rocket.Chat, Teams' Slack-compatible
//          connectors) posts as one message.
import type { LoopEvent, LoopEventType } from './loop-events.js';

export const notificationFormats = ['json', 'slack'] as const;
export type NotificationFormat = (typeof notificationFormats)[number];

export function isNotificationFormat(v: string): v is NotificationFormat {
  return (notificationFormats as readonly string[]).includes(v);
}

/** The CloudEvents type of a loop event: dev.perennial.<type>. */
export function cloudEventType(t: LoopEventType): string {
  return `dev.perennial.${t}`;
}

const headlines: Readonly<Record<LoopEventType, string>> = {
  'run.blessed': 'blessed a new champion',
  'run.rejected': 'trained a candidate the gates rejected',
  'run.invalidData': 'refused its training data (validation)',
  'run.failed': 'had a training run fail',
  'rollout.promoted': 'promoted a new version to stable',
  'rollout.aborted': 'aborted a rollout',
  'rollout.rolledBack': 'rolled back',
  'drift.sustained': 'is retraining on sustained drift',
};

/** The one-line summary both formats carry. */
export function headline(e: LoopEvent): string {
  const version = e.version === '' ? '' : ` (${e.version})`;
  return `${e.kind} ${e.namespace}/${e.name} ${headlines[e.type]}${version}: ${e.message}`;
}

/** The body to POST; `id` identifies the event across retries, so a receiver can drop a duplicate. */
export function notificationBody(e: LoopEvent, format: NotificationFormat, id: string): Record<string, unknown> {
  if (format === 'slack') return { text: headline(e) };
  const data = { kind: e.kind, namespace: e.namespace, name: e.name, version: e.version, reason: e.reason, message: e.message };
  return {
    specversion: '1.0',
    id,
    source: `perennial.dev/${e.kind === 'TrainingPipeline' ? 'trainingpipelines' : 'modeldeployments'}/${e.namespace}/${e.name}`,
    type: cloudEventType(e.type),
    time: e.time,
    subject: e.version,
    datacontenttype: 'application/json',
    ...data,
    data,
  };
}
