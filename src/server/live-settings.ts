// The settings the operator changes while the server runs (src/shared/server-settings.ts: logPredictions and this
// pod's track), read from the mounted settings file at start and again every pollMs. Reading is all it does: a
// missing or torn file leaves the environment's values (or the last good ones while the kubelet swaps the file).
import { readFileSync } from 'node:fs';
import { serverSettingsFor, type LiveServerSettings } from '../shared/server-settings.js';

export interface LiveSettingsOptions {
  /** The settings file; undefined: the environment's values for good. */
  readonly file: string | undefined;
  readonly revision: string | undefined;
  /** The environment's values. */
  readonly fallback: LiveServerSettings;
  /** Reads the file's text, undefined when it is absent (tests give their own). */
  readonly read?: (file: string) => string | undefined;
  readonly onChange?: (now: LiveServerSettings, before: LiveServerSettings) => void;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

export class LiveSettings {
  private settings: LiveServerSettings;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: LiveSettingsOptions) {
    this.settings = this.load();
  }

  current(): LiveServerSettings {
    return this.settings;
  }

  /** Reads the file again; tells onChange when what the pod acts on changed. */
  refresh(): void {
    const next = this.load();
    const before = this.settings;
    this.settings = next;
    if (next.track !== before.track || next.logPredictions !== before.logPredictions) this.o.onChange?.(next, before);
  }

  start(pollMs: number): void {
    if (this.o.file === undefined || this.timer) return;
    this.timer = setInterval(() => this.refresh(), pollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private load(): LiveServerSettings {
    if (this.o.file === undefined) return this.o.fallback;
    const text = (this.o.read ?? readText)(this.o.file);
    return serverSettingsFor(text, this.o.revision, this.settings ?? this.o.fallback);
  }
}
