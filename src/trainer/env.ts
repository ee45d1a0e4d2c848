// The only reader of process.env in the trainer: turns the pod contract's variables into a typed value.
import { readFileSync } from 'node:fs';
import { isBackendName, type BackendName } from '../ml/backend.js';
import { podEnv } from '../shared/pod-contract.js';
import { InvalidConfigError } from '../shared/trainer-config.js';
import type { MinioStoreOptions } from '../storage/minio-store.js';

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
  const problems: string[] = [];
  const need = (name: string): string => {
    const v = env[name];
    if (v === undefined || v === '') problems.push(`environment variable ${name} is not set`);
    return v ?? '';
  };
  let configText = env[podEnv.trainerConfig] ?? '';
  if (configText === '') {
    const file = env[podEnv.trainerConfigFile];
    if (file === undefined || file === '') problems.push(`set ${podEnv.trainerConfig} or ${podEnv.trainerConfigFile}`);
    else {
      try {
        configText = readFileSync(file, 'utf8');
      } catch (e: unknown) {
        problems.push(`cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }
  const useSSL = (env[podEnv.storeUseTls] ?? 'true').toLowerCase() !== 'false';
  const portText = env[podEnv.storePort];
  const port = portText === undefined || portText === '' ? undefined : Number(portText);
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) problems.push(`${podEnv.storePort} must be a port number`);
  const backend = env[podEnv.tfBackend];
  if (backend !== undefined && backend !== '' && !isBackendName(backend)) problems.push(`${podEnv.tfBackend} must be one of tensorflow-gpu, tensorflow, wasm, cpu`);
  const store: MinioStoreOptions = {
    endPoint: need(podEnv.storeEndpoint),
    port,
    useSSL,
    accessKey: need(podEnv.accessKeyId),
    secretKey: need(podEnv.secretAccessKey),
    region: env[podEnv.storeRegion] || undefined,
    caFile: env[podEnv.storeCaFile] || undefined,
  };
  const bucket = need(podEnv.storeBucket);
  if (problems.length > 0) throw new InvalidConfigError(problems);
  return {
    configText,
    store,
    bucket,
    terminationMessagePath: env[podEnv.terminationMessagePath] || undefined,
    forcedBackend: backend !== undefined && isBackendName(backend) ? backend : undefined,
    codeVersion: env[podEnv.codeVersion] || 'dev',
    logLevel: env[podEnv.logLevel] || 'info',
  };
}
