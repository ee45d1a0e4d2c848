// Where a loop event goes: the install-time webhook (the chart's notifications values: the URL from a Secret, as
// the operator's environment) and the webhook of the event's namespace (its Secret perennial-notifications: `url`,
// optional `format`). The namespace's Secret is read by name, only in the namespace of an object the operator
// reconciles (so only in namespaces it serves), and kept for a while so a burst of events reads it once.
import { EnvReader } from '../../shared/env-reader.js';
import { isNotificationFormat, notificationFormats, type NotificationFormat } from './body.js';

export const namespaceSecretName = 'perennial-notifications';
export const notificationsEnv = { url: 'PERENNIAL_NOTIFICATIONS_URL', format: 'PERENNIAL_NOTIFICATIONS_FORMAT' } as const;

export interface Destination {
  readonly url: string;
  readonly format: NotificationFormat;
  /** 'install', or the namespace whose Secret named it: which counter and log line it is. */
  readonly scope: string;
}

export type Parsed = { readonly ok: true; readonly destination: Destination } | { readonly ok: false; readonly problem: string };

/** A destination from a URL and an optional format; the problem never quotes the URL (it is a secret). */
export function destination(url: string, format: string | undefined, scope: string): Parsed {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    return { ok: false, problem: 'url is not a URL' };
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return { ok: false, problem: 'url must be http or https' };
  const f = (format ?? 'json').trim().toLowerCase();
  if (!isNotificationFormat(f)) return { ok: false, problem: `format must be one of ${notificationFormats.join(', ')}` };
  return { ok: true, destination: { url: u.toString(), format: f, scope } };
}

/** The install-time destination from the environment; undefined when no URL is set. Throws on a bad one (startup). */
export function installDestination(env: NodeJS.ProcessEnv): Destination | undefined {
  const r = new EnvReader(env);
  const url = r.raw(notificationsEnv.url);
  if (url === undefined) return undefined;
  const parsed = destination(url, r.text(notificationsEnv.format), 'install');
  if (!parsed.ok) throw new Error(`${notificationsEnv.url}: ${parsed.problem}`);
  return parsed.destination;
}

/** A namespace's destination from its Secret's data (base64 values); undefined without a `url` key. */
export function secretDestination(data: Readonly<Record<string, string>> | undefined, namespace: string): Parsed | undefined {
  const decode = (k: string): string | undefined => (data?.[k] === undefined ? undefined : Buffer.from(data[k], 'base64').toString('utf8'));
  const url = decode('url');
  if (url === undefined || url.trim() === '') return undefined;
  return destination(url, decode('format'), namespace);
}
