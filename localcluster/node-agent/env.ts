// A container's environment as the kubelet builds it: env values, $(VAR) references to earlier variables,
// valueFrom secretKeyRef / configMapKeyRef / fieldRef (downward API) / resourceFieldRef, and envFrom. Pure: the
// agent fetches the Secrets and ConfigMaps first. A missing reference that is not optional is an error, as the
// kubelet's CreateContainerConfigError.

export interface EnvVarSource {
  secretKeyRef?: { name: string; key: string; optional?: boolean };
  configMapKeyRef?: { name: string; key: string; optional?: boolean };
  fieldRef?: { fieldPath: string };
  resourceFieldRef?: { resource: string; containerName?: string };
}
export interface EnvVar { name: string; value?: string; valueFrom?: EnvVarSource }
export interface EnvFromSource {
  prefix?: string;
  secretRef?: { name: string; optional?: boolean };
  configMapRef?: { name: string; optional?: boolean };
}
export interface ContainerEnvSpec {
  env?: EnvVar[];
  envFrom?: EnvFromSource[];
  resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
}
export interface PodFields {
  name: string;
  namespace: string;
  uid: string;
  nodeName: string;
  podIP: string;
  hostIP: string;
  serviceAccountName: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** Secrets (values decoded) and ConfigMaps of the pod's namespace, by name; absent = not found. */
export interface EnvSources {
  secrets: ReadonlyMap<string, Readonly<Record<string, string>>>;
  configMaps: ReadonlyMap<string, Readonly<Record<string, string>>>;
}

export class EnvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvError';
  }
}

function fieldValue(path: string, pod: PodFields): string {
  const label = /^metadata\.labels\['(.+)'\]$/.exec(path);
  if (label?.[1] !== undefined) return pod.labels[label[1]] ?? '';
  const annotation = /^metadata\.annotations\['(.+)'\]$/.exec(path);
  if (annotation?.[1] !== undefined) return pod.annotations[annotation[1]] ?? '';
  switch (path) {
    case 'metadata.name': return pod.name;
    case 'metadata.namespace': return pod.namespace;
    case 'metadata.uid': return pod.uid;
    case 'spec.nodeName': return pod.nodeName;
    case 'spec.serviceAccountName': return pod.serviceAccountName;
    case 'status.podIP': case 'status.podIPs': return pod.podIP;
    case 'status.hostIP': case 'status.hostIPs': return pod.hostIP;
    default: throw new EnvError(`unsupported fieldRef ${path}`);
  }
}

/** Expands $(NAME) from the variables defined so far; $$ escapes; unknown references stay as written. */
export function expand(value: string, defined: Readonly<Record<string, string>>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => {
    if (m === '$$') return '$';
    return name !== undefined && name in defined ? (defined[name] ?? '') : m;
  });
}

export function resolveEnv(container: ContainerEnvSpec, pod: PodFields, sources: EnvSources): Record<string, string> {
  const out: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    const ref = from.secretRef ?? from.configMapRef;
    if (!ref) continue;
    const data = from.secretRef ? sources.secrets.get(ref.name) : sources.configMaps.get(ref.name);
    if (!data) {
      if (ref.optional) continue;
      throw new EnvError(`${from.secretRef ? 'secret' : 'configmap'} "${ref.name}" not found`);
    }
    for (const [k, v] of Object.entries(data)) out[prefix + k] = v;
  }
  for (const e of container.env ?? []) {
    if (e.valueFrom === undefined) {
      out[e.name] = expand(e.value ?? '', out);
      continue;
    }
    const s = e.valueFrom;
    if (s.secretKeyRef || s.configMapKeyRef) {
      const ref = (s.secretKeyRef ?? s.configMapKeyRef) as { name: string; key: string; optional?: boolean };
      const kind = s.secretKeyRef ? 'secret' : 'configmap';
      const data = s.secretKeyRef ? sources.secrets.get(ref.name) : sources.configMaps.get(ref.name);
      const value = data?.[ref.key];
      if (value === undefined) {
        if (ref.optional) continue;
        throw new EnvError(data ? `couldn't find key ${ref.key} in ${kind} ${pod.namespace}/${ref.name}` : `${kind} "${ref.name}" not found`);
      }
      out[e.name] = value;
    } else if (s.fieldRef) {
      out[e.name] = fieldValue(s.fieldRef.fieldPath, pod);
    } else if (s.resourceFieldRef) {
      const [kind, resource] = s.resourceFieldRef.resource.split('.') as [string, string];
      const value = kind === 'limits' ? container.resources?.limits?.[resource] : container.resources?.requests?.[resource];
      out[e.name] = value ?? (resource === 'cpu' ? '2' : '0');
    }
  }
  return out;
}

/** Host loopback ports a container's environment points at. */
export function loopbackPorts(env: Readonly<Record<string, string>>): number[] {
  const ports = new Set<number>();
  for (const value of Object.values(env)) {
    for (const m of value.matchAll(/(?:^|[/@])(?:127\.0\.0\.1|localhost):(\d{1,5})\b/g)) ports.add(Number(m[1]));
  }
  const s3Host = env['PERENNIAL_S3_ENDPOINT'];
  const s3Port = Number(env['PERENNIAL_S3_PORT']);
  if ((s3Host === '127.0.0.1' || s3Host === 'localhost') && s3Port > 0) ports.add(s3Port);
  return [...ports].filter((p) => p > 0 && p < 65_536);
}
