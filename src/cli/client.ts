// The CLI's view of the API server: list, get and annotate Perennial's resources. A narrow interface so the
// commands are tested against the real API server (test/integration/cli-*.test.ts) without knowing the client.
import { ApiException, CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { group, version } from '../api/common.js';
import type { ModelDeployment } from '../api/model-deployment.js';
import type { TrainingPipeline } from '../api/training-pipeline.js';

export const plurals = { TrainingPipeline: 'trainingpipelines', ModelDeployment: 'modeldeployments' } as const;
export type Kind = keyof typeof plurals;
type ObjectOf<K extends Kind> = K extends 'TrainingPipeline' ? TrainingPipeline : ModelDeployment;

export interface PerennialClient {
  /** namespace undefined = all namespaces. */
  list<K extends Kind>(kind: K, namespace: string | undefined): Promise<ObjectOf<K>[]>;
  get<K extends Kind>(kind: K, namespace: string, name: string): Promise<ObjectOf<K>>;
  /** Sets the annotation, or removes it when value is null. */
  annotate(kind: Kind, namespace: string, name: string, key: string, value: string | null): Promise<void>;
  /** A JSON merge patch of the object (pause, resume, undo). */
  mergePatch(kind: Kind, namespace: string, name: string, body: object): Promise<void>;
}

export class NotFoundError extends Error {
  constructor(readonly kind: Kind, readonly namespace: string, readonly objectName: string) {
    super(`${kind} ${namespace}/${objectName} not found`);
    this.name = 'NotFoundError';
  }
}

/** An API error in words a user can act on (forbidden, not found, the server's own message). */
export class ApiError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
    this.name = 'ApiError';
  }
}

function apiError(e: unknown): unknown {
  if (!(e instanceof ApiException)) return e;
  const body: unknown = e.body;
  let message = `the API server answered ${String(e.code)}`;
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body) as { message?: unknown };
      if (typeof parsed.message === 'string') message = parsed.message;
    } catch {
      // not JSON: keep the status code
    }
  }
  return new ApiError(e.code, message);
}

export class KubePerennialClient implements PerennialClient {
  private readonly api: CustomObjectsApi;

  constructor(kubeConfig: KubeConfig) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  async list<K extends Kind>(kind: K, namespace: string | undefined): Promise<ObjectOf<K>[]> {
    const plural = plurals[kind];
    try {
      const body = (namespace === undefined
        ? await this.api.listClusterCustomObject({ group, version, plural })
        : await this.api.listNamespacedCustomObject({ group, version, namespace, plural })) as { items?: ObjectOf<K>[] };
      return body.items ?? [];
    } catch (e: unknown) {
      throw apiError(e);
    }
  }

  async get<K extends Kind>(kind: K, namespace: string, name: string): Promise<ObjectOf<K>> {
    try {
      return (await this.api.getNamespacedCustomObject({ group, version, namespace, plural: plurals[kind], name })) as ObjectOf<K>;
    } catch (e: unknown) {
      if (e instanceof ApiException && e.code === 404) throw new NotFoundError(kind, namespace, name);
      throw apiError(e);
    }
  }

  annotate(kind: Kind, namespace: string, name: string, key: string, value: string | null): Promise<void> {
    return this.mergePatch(kind, namespace, name, { metadata: { annotations: { [key]: value } } });
  }

  async mergePatch(kind: Kind, namespace: string, name: string, body: object): Promise<void> {
    try {
      await this.api.patchNamespacedCustomObject(
        { group, version, namespace, plural: plurals[kind], name, body },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch (e: unknown) {
      if (e instanceof ApiException && e.code === 404) throw new NotFoundError(kind, namespace, name);
      throw apiError(e);
    }
  }
}
