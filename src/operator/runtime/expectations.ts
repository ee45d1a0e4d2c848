// "Don't act on a cache older than your own last write". After a status write the manager
// records the resourceVersion the server returned; until the informer delivers that version of the object, the
// cache is stale for that key and the worker waits instead of reconciling old state (which would compute the same
// status again and write it with a stale resourceVersion: a 409 and a retry, every time). resourceVersions are
// opaque, so only equality is used; if the informer never delivers our version (it relisted past it, or someone
// wrote again), the expectation expires after a timeout.
import type { Clock } from './clock.js';

export class WriteExpectations {
  private readonly pending = new Map<string, { resourceVersion: string; expiresAt: number }>();

  constructor(private readonly clock: Clock, readonly timeoutMs = 10_000) {}

  /** We wrote the object at this resourceVersion. */
  expect(key: string, resourceVersion: string): void {
    this.pending.set(key, { resourceVersion, expiresAt: this.clock.now() + this.timeoutMs });
  }

  /** The informer delivered this version (or the deletion) of the object. */
  observe(key: string, resourceVersion: string | undefined, deleted = false): void {
    const p = this.pending.get(key);
    if (p && (deleted || p.resourceVersion === resourceVersion)) this.pending.delete(key);
  }

  /**
   * Milliseconds to wait before the cache can be trusted for this key, or 0 if it can be trusted now.
   * Passing the cached resourceVersion also clears a satisfied expectation.
   */
  waitFor(key: string, cachedResourceVersion: string | undefined): number {
    const p = this.pending.get(key);
    if (!p) return 0;
    const left = p.expiresAt - this.clock.now();
    if (p.resourceVersion === cachedResourceVersion || left <= 0) {
      this.pending.delete(key);
      return 0;
    }
    return left;
  }

  /** The version we expect for a key, if any. */
  expected(key: string): string | undefined {
    return this.pending.get(key)?.resourceVersion;
  }

  get size(): number {
    return this.pending.size;
  }
}
