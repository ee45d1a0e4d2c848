// The pod contract: what the operator puts in a trainer or server container's environment, and what the
// trainer's exit code means. The operator builds Jobs from these names and reads the exit code through a
// podFailurePolicy (invalid config/data → FailJob, store unavailable → Count, i.e. retried).
// Version 1. Language-neutral: a trainer written in another language honours the same names and codes.
import { existsSync, writeFileSync } from 'node:fs';

export const podContractVersion = 1;

/** Environment variable names. Credentials come from a Secret through `valueFrom.secretKeyRef`. */
export const podEnv = {
  /** The trainer config as one JSON document (see trainer-config.ts). Takes precedence over the file. */
  trainerConfig: 'PERENNIAL_TRAINER_CONFIG',
  /** Path of a mounted file holding the trainer config JSON, used when PERENNIAL_TRAINER_CONFIG is unset. */
  trainerConfigFile: 'PERENNIAL_TRAINER_CONFIG_FILE',
  /** Object store host name or IP, e.g. `minio.perennial-system.svc`. */
  storeEndpoint: 'PERENNIAL_S3_ENDPOINT',
  /** Object store port; defaults to 443 with TLS, 80 without. */
  storePort: 'PERENNIAL_S3_PORT',
  /** "true" or "false" (default "true"). */
  storeUseTls: 'PERENNIAL_S3_TLS',
  /** Default bucket for artifacts and data sources that name no bucket. */
  storeBucket: 'PERENNIAL_S3_BUCKET',
  storeRegion: 'PERENNIAL_S3_REGION',
  /** Optional PEM bundle path to trust for the store's TLS certificate. */
  storeCaFile: 'PERENNIAL_S3_CA_FILE',
  accessKeyId: 'AWS_ACCESS_KEY_ID',
  secretAccessKey: 'AWS_SECRET_ACCESS_KEY',
  /** Where to write the short outcome summary; default /dev/termination-log (only if it exists). */
  terminationMessagePath: 'PERENNIAL_TERMINATION_MESSAGE_PATH',
  /** Forces a TensorFlow.js backend (tensorflow-gpu | tensorflow | wasm | cpu) instead of the fallback order. */
  tfBackend: 'PERENNIAL_TF_BACKEND',
  /** The code/image version recorded in lineage (the operator sets the image reference). */
  codeVersion: 'PERENNIAL_CODE_VERSION',
  /** winston level: error | warn | info | debug. */
  logLevel: 'PERENNIAL_LOG_LEVEL',
} as const;

/**
 * Trainer exit codes (sysexits-style so they never collide with Node's own 1 for an uncaught error or
 * 128+n for a signal). Only `storeUnavailable` and `internalError` are worth a retry.
 */
export const exitCodes = {
  success: 0,
  /** The config document is missing, not JSON, or violates the schema. Not retried. */
  invalidConfig: 78,
  /** The data failed validation; the validation report is in the run prefix. Not retried. */
  invalidData: 65,
  /** The object store could not be reached or answered 5xx. Retried by the Job. */
  storeUnavailable: 75,
  /** A bug or an unexpected failure. Retried (a checkpoint makes the retry cheap). */
  internalError: 70,
} as const;

export type ExitCodeName = keyof typeof exitCodes;
export type ExitCode = (typeof exitCodes)[ExitCodeName];

/** Codes after which the Job must not start another pod. */
export const nonRetryableExitCodes: readonly ExitCode[] = [exitCodes.invalidConfig, exitCodes.invalidData];

export const defaultTerminationMessagePath = '/dev/termination-log';
/** The kubelet keeps at most 4096 bytes of a termination message. */
export const terminationMessageMaxBytes = 4096;

/** The summary written to the termination log: the operator reads it from the pod status. */
export interface TerminationMessage {
  readonly outcome: ExitCodeName;
  readonly exitCode: ExitCode;
  readonly message: string;
  readonly runId?: string;
  readonly version?: string;
  /** Key of the manifest (success) or of the validation report (invalid data). */
  readonly key?: string;
}

/** Serialises a termination message, shortening `message` so the JSON fits the kubelet's limit. */
export function formatTerminationMessage(m: TerminationMessage): string {
  let text = JSON.stringify(m);
  let message = m.message;
  while (Buffer.byteLength(text) > terminationMessageMaxBytes && message.length > 0) {
    message = message.slice(0, Math.floor(message.length / 2));
    text = JSON.stringify({ ...m, message: `${message}…` });
  }
  return text;
}

/**
 * Writes the summary where the kubelet looks. The default path is used only if it exists (it does not outside
 * a pod); a path that was configured explicitly is created.
 */
export function writeTerminationMessage(
  m: TerminationMessage,
  path: string | undefined,
): boolean {
  const target = path ?? defaultTerminationMessagePath;
  if (path === undefined && !existsSync(target)) return false;
  try {
    writeFileSync(target, formatTerminationMessage(m));
    return true;
  } catch {
    return false;
  }
}
