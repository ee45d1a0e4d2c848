// How runs, versions and their Jobs are named (their labels are src/api/labels.ts). Names are deterministic in the
// run number (persisted in status.runCount before the Job is created), so a restarted operator finds, or
// re-creates under the same name, the Job of a run it had started: never a second Job for one run.

import { maxTrainingPipelineNameLength } from '../../../api/object-names.js';

/** Pipeline names longer than this leave no room for "-<run number>" in a 63-character Job name (and label). */
export const maxPipelineNameLength = maxTrainingPipelineNameLength;

export function runName(pipeline: string, runNumber: number): string {
  return `${pipeline}-${runNumber}`;
}

export function versionName(runNumber: number): string {
  return `v${runNumber}`;
}

/** The run number of a version name ("v7" → 7), or undefined for a name not made by versionName. */
export function versionNumber(version: string): number | undefined {
  const m = /^v([0-9]+)$/.exec(version);
  return m ? Number(m[1]) : undefined;
}
