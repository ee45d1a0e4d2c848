// The only reader of process.env in the trainer: turns the pod contract's variables into a typed value.
import { readFileSync } from 'node:fs';
import { isBackendName, type BackendName } from '../ml/backend.js';
import { EnvReader } from '../shared/env-reader.js';
import { podEnv } from '../shared/pod-contract.js';
import { InvalidConfigError } from '../shared/trainer-config.js';
import type { MinioStoreOptions } from '../storage/minio-store.js';
import { storeFromEnv } from '../storage/store-env.js';

export interface TrainerEnv {
  readonly configText: string;
  readonly store: MinioStoreOptions;
  readonly bucket: string;
  readonly terminationMessagePath: string | undefined;
  readonly forcedBackend: BackendName | undefined;
  readonly codeVersion: string;
  readonly logLevel: string;
}

export function readTrainerEnv(env: NodeJS.ProcessEnv): TrainerEnv {
  const r = new EnvReader(env);
  const configText = readConfigText(r);
  const backend = r.text(podEnv.tfBackend);
  if (backend !== undefined && !isBackendName(backend)) r.problems.push(`${podEnv.tfBackend} must be one of tensorflow-gpu, tensorflow, wasm, cpu`);
  const { store, bucket } = storeFromEnv(r);
  if (r.problems.length > 0) throw new InvalidConfigError(r.problems);
  return {
    configText,
    store,
    bucket,
    terminationMessagePath: r.text(podEnv.terminationMessagePath),
    forcedBackend: backend !== undefined && isBackendName(backend) ? backend : undefined,
    codeVersion: r.text(podEnv.codeVersion) ?? 'dev',
    logLevel: r.text(podEnv.logLevel) ?? 'info',
  };
}

/** The trainer config: given inline, or as a file (a mounted ConfigMap). */
function readConfigText(r: EnvReader): string {
  const inline = r.raw(podEnv.trainerConfig);
  if (inline !== undefined) return inline;
  const file = r.text(podEnv.trainerConfigFile);
  if (file === undefined) {
    r.problems.push(`set ${podEnv.trainerConfig} or ${podEnv.trainerConfigFile}`);
    return '';
  }
  try {
    return readFileSync(file, 'utf8');
  } catch (e: unknown) {
    r.problems.push(`cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
    return '';
  }
}
