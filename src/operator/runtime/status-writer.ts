// Persist status once, only if it changed. The desired status is compared with the cached
// object's status as JSON (deep, key order and undefined members ignored); when equal, nothing is written. When
// different, a JSON merge patch of the /status subresource carries exactly the difference (removed fields as null)
// plus metadata.resourceVersion, so the API server rejects the write with 409 if the object changed since we read
// it (optimistic concurrency); that surfaces as ConflictError and the worker retries on fresh state. The written
// resourceVersion is recorded in the expectations so the next reconcile waits for the cache to catch up.
import type { WriteExpectations } from './expectations.js';
import { createMergePatch, jsonEqual } from './json-diff.js';
import type { KubeClient } from './kube.js';
import { type KubeObject, type ResourceRef, keyOf, keyString } from './resource.js';

export interface StatusWriteObserver {
  onWrite?(): void;
}

export type StatusWriteResult =
  | { readonly written: false }
  | { readonly written: true; readonly resourceVersion: string | undefined };

export class StatusWriter {
  constructor(
    private readonly kube: KubeClient,
    private readonly expectations: WriteExpectations,
    private readonly observer: StatusWriteObserver = {},
  ) {}

  /** True when writing `desired` would change nothing. */
  static unchanged(current: KubeObject & { status?: unknown }, desired: unknown): boolean {
    return jsonEqual(current.status ?? {}, desired ?? {});
  }

  /**
   * Writes `desired` as the status of `current` (the object as read from the cache) if it differs.
   * Throws ConflictError when the object changed since `current` was read.
   */
  async write(ref: ResourceRef, current: KubeObject & { status?: unknown }, desired: unknown): Promise<StatusWriteResult> {
    if (StatusWriter.unchanged(current, desired)) return { written: false };
    const resourceVersion = current.metadata?.resourceVersion;
    if (resourceVersion === undefined) throw new Error('status write needs the resourceVersion of the object read');
    const patch = {
      metadata: { resourceVersion },
      status: createMergePatch(current.status ?? {}, desired ?? {}) ?? {},
    };
    const key = keyOf(current);
    // kube.patchStatus maps errors: a stale resourceVersion comes out as ConflictError.
    const updated = await this.kube.patchStatus(ref, key, patch, 'merge');
    this.observer.onWrite?.();
    const written = updated.metadata?.resourceVersion;
    if (written !== undefined) this.expectations.expect(keyString(key), written);
    return { written: true, resourceVersion: written };
  }
}
