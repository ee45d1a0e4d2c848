// The object store as the pod contract names it (endpoint, port, TLS, region, CA file, keys, bucket): the one reader
// of those variables for the trainer and the server.
import type { EnvReader } from '../shared/env-reader.js';
import { podEnv } from '../shared/pod-contract.js';
import type { MinioStoreOptions } from './minio-store.js';

export function storeFromEnv(r: EnvReader): { store: MinioStoreOptions; bucket: string } {
  const port = r.text(podEnv.storePort) === undefined ? undefined : r.int(podEnv.storePort, 0, 1, 65535);
  const store: MinioStoreOptions = {
    endPoint: r.need(podEnv.storeEndpoint),
    port,
    useSSL: r.flagDefaultOn(podEnv.storeUseTls),
    accessKey: r.need(podEnv.accessKeyId),
    secretKey: r.need(podEnv.secretAccessKey),
    region: r.text(podEnv.storeRegion),
    caFile: r.text(podEnv.storeCaFile),
  };
  return { store, bucket: r.need(podEnv.storeBucket) };
}
