// Environment both workloads get from the operator (the pod contract of src/shared/pod-contract.ts): where the
// object store is, and its credentials, only ever as references to a Secret, never as values.
import { podEnv } from '../../shared/pod-contract.js';
import type { StoreLocation } from '../store-settings.js';

export interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?:
    | { readonly secretKeyRef: { readonly name: string; readonly key: string } }
    | { readonly fieldRef: { readonly fieldPath: string } };
}

/** The store's address and the Secret-referenced credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY). */
export function storeEnv(store: StoreLocation, credentialsSecret: string): EnvVar[] {
  return [
    { name: podEnv.storeEndpoint, value: store.endPoint },
    ...(store.port === undefined ? [] : [{ name: podEnv.storePort, value: String(store.port) }]),
    { name: podEnv.storeUseTls, value: String(store.useSSL) },
    { name: podEnv.storeBucket, value: store.bucket },
    { name: podEnv.storeRegion, value: store.region },
    { name: podEnv.accessKeyId, valueFrom: { secretKeyRef: { name: credentialsSecret, key: podEnv.accessKeyId } } },
    { name: podEnv.secretAccessKey, valueFrom: { secretKeyRef: { name: credentialsSecret, key: podEnv.secretAccessKey } } },
  ];
}
