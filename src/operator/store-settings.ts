// How the operator and the pods it creates reach the object store, in three layers, each the one below plus what
// its holder needs. Built once from the environment (config.ts); MinioStoreOptions (src/storage) is the client's
// own options, made from StoreConfig where the operator builds its clients (operator.ts).
//
//   StoreLocation   where the store is and which bucket: what a pod's environment names (pod-env.ts)
//   StoreSettings   + the Secret the pods' keys come from: all the controllers hold (never a key)
//   StoreConfig     + the operator's own keys: only operator.ts, to build the operator's own client

export interface StoreLocation {
  readonly endPoint: string;
  /** Undefined: the scheme's default. */
  readonly port: number | undefined;
  readonly useSSL: boolean;
  readonly region: string;
  readonly bucket: string;
}

export interface StoreSettings extends StoreLocation {
  /** The Secret (in each workload's namespace) with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for its pods. */
  readonly credentialsSecret: string;
}

export interface StoreConfig extends StoreSettings {
  readonly accessKey: string;
  readonly secretKey: string;
}

/** The settings without the operator's keys: what the controllers are given. */
export function storeSettings(config: StoreConfig): StoreSettings {
  const { accessKey: _accessKey, secretKey: _secretKey, ...settings } = config;
  return settings;
}
