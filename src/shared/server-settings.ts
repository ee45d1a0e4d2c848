// What the operator changes in a running model server without restarting it, and how the server reads it: whether
// the inference log is written (ModelDeployment spec.server.logPredictions) and the track of each revision (stable,
// canary, shadow). A pod template never changes (a new template is a new revision), so these are not in it: the
// operator writes them to one ConfigMap per ModelDeployment (`<md>-server`, key `settings.json`), mounted into every
// server pod at serverSettingsDir; the kubelet replaces the mounted file in place when the ConfigMap changes (within
// its sync period, about a minute) and the server reads it again every few seconds. So flipping logPredictions or
// promoting a canary to stable restarts no pod; a pod started after the change reads the new values at once.
//
//   settings.json  {"logPredictions": true, "tracks": {"<revision hash>": "canary"}}
//
// A revision the tracks do not name is stable. Without the file (a server run by hand, a pod of an older operator)
// the pod contract's environment holds (PERENNIAL_SERVER_TRACK, PERENNIAL_SERVER_LOG_PREDICTIONS). Version 1.

export const serverSettingsDir = '/etc/perennial/server';
export const serverSettingsKey = 'settings.json';

export const serverTracks = ['stable', 'canary', 'shadow'] as const;
export type ServerTrack = (typeof serverTracks)[number];

export interface ServerSettingsDocument {
  readonly logPredictions: boolean;
  /** Revision hash → its track, for revisions that are not stable. */
  readonly tracks: Readonly<Record<string, Exclude<ServerTrack, 'stable'>>>;
}

/** What one pod acts on now. */
export interface LiveServerSettings {
  readonly track: ServerTrack;
  readonly logPredictions: boolean;
}

/** The file's text, keys in a fixed order (the operator compares hashes of it). */
export function renderServerSettings(doc: ServerSettingsDocument): string {
  const tracks = Object.fromEntries(Object.entries(doc.tracks).sort(([a], [b]) => a.localeCompare(b)));
  return `${JSON.stringify({ logPredictions: doc.logPredictions, tracks })}\n`;
}

/**
 * The settings of the pod of `revision` from the file's text; `fallback` (the environment's) where the file is
 * absent, unreadable or says nothing valid. A file the operator wrote names every non-stable revision, so a
 * revision it does not name is stable.
 */
export function serverSettingsFor(text: string | undefined, revision: string | undefined, fallback: LiveServerSettings): LiveServerSettings {
  if (text === undefined) return fallback;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return fallback;
  }
  if (typeof doc !== 'object' || doc === null) return fallback;
  const { logPredictions, tracks } = doc as { logPredictions?: unknown; tracks?: unknown };
  const named = revision !== undefined && typeof tracks === 'object' && tracks !== null ? (tracks as Record<string, unknown>)[revision] : undefined;
  const track: ServerTrack = typeof tracks !== 'object' || tracks === null ? fallback.track
    : (serverTracks as readonly unknown[]).includes(named) ? named as ServerTrack : 'stable';
  return { track, logPredictions: typeof logPredictions === 'boolean' ? logPredictions : fallback.logPredictions };
}
