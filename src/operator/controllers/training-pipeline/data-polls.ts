// When a pipeline's data sources are listed again, so that newData detection scales with the number of pipelines.
// A bucket cannot be watched, so the sources are listed; but a full listing on every reconcile (and a pipeline is
// reconciled whenever its Jobs or the deployments it watches change) would cost thousands of listings a minute at
// a thousand pipelines. So the last listing of each pipeline is kept, and reused, until one of:
//   - the store said something changed under its sources (a bucket notification: store-notifications/);
//   - its poll is due: the poll interval, jittered per poll (×0.8 to ×1.2) so pipelines created together do not
//     list together forever;
//   - what the listing depends on changed: the sources, or the watermark new data is counted from (a run took it).
// Every listing takes a token from one bucket for the whole operator (listings per second, with a burst): a poll
// that finds the bucket empty reuses the old listing and is looked at again when a token is due; a listing the
// pipeline cannot do without (none yet, or a notification) waits for its token.
import type { DataListing } from './triggers.js';

export interface PollState {
  readonly listing: DataListing;
  /** What the listing depends on: the sources and the watermark, as one string. */
  readonly basis: string;
  /** When the next poll is due (jittered). */
  readonly dueAtMs: number;
}

export type ListingNeed = 'none' | 'poll' | 'required';

/**
 * Whether to list now: 'required' (no usable listing, or a notification said something changed), 'poll' (due,
 * may be deferred), or 'none' (reuse).
 */
export function listingNeed(state: PollState | undefined, basis: string, nowMs: number, changed: boolean): ListingNeed {
  if (!state || state.basis !== basis || changed) return 'required';
  return nowMs >= state.dueAtMs ? 'poll' : 'none';
}

/** The next poll: the interval stretched by a factor from 0.8 to 1.2 (u uniform in [0, 1)). */
export function nextPollAtMs(nowMs: number, pollMs: number, u: number): number {
  return nowMs + Math.round(pollMs * (0.8 + 0.4 * u));
}

/** A token bucket as a value: `tokens` available at `atMs`. */
export interface Bucket {
  readonly tokens: number;
  readonly atMs: number;
}

/**
 * Takes one token if there is one (refilled at ratePerSecond up to burst since atMs): the new bucket and 0, or the
 * bucket unchanged in tokens and how long until a token is due.
 */
export function takeToken(bucket: Bucket, nowMs: number, ratePerSecond: number, burst: number): { bucket: Bucket; waitMs: number } {
  const tokens = Math.min(burst, bucket.tokens + (Math.max(0, nowMs - bucket.atMs) / 1000) * ratePerSecond);
  if (tokens >= 1) return { bucket: { tokens: tokens - 1, atMs: nowMs }, waitMs: 0 };
  return { bucket: { tokens, atMs: nowMs }, waitMs: Math.ceil(((1 - tokens) / ratePerSecond) * 1000) };
}

export interface DataPollsOptions {
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random?: () => number;
  /** Listings per second for the whole operator, and how many may go at once after a quiet time. */
  readonly listingsPerSecond: number;
  readonly burst: number;
}

/** The operator's listings of newData sources: the last one per pipeline, and the one token bucket. */
export class DataPolls {
  private readonly states = new Map<string, PollState>();
  /** Pipelines a notification named since their last listing began. */
  private readonly changed = new Set<string>();
  private bucket: Bucket;
  private readonly random: () => number;

  constructor(private readonly options: DataPollsOptions) {
    this.bucket = { tokens: options.burst, atMs: options.now() };
    this.random = options.random ?? Math.random;
  }

  /** A notification: the next reconcile of this pipeline lists its sources. */
  markChanged(pipelineKey: string): void {
    this.changed.add(pipelineKey);
  }

  forget(pipelineKey: string): void {
    this.states.delete(pipelineKey);
    this.changed.delete(pipelineKey);
  }

  /**
   * The pipeline's listing: the kept one, or a new one from `list`. The listing says when to look again
   * (nextPollAtMs): the jittered poll, or when a deferred poll gets its token.
   */
  async listing(pipelineKey: string, basis: string, pollMs: number, list: () => Promise<DataListing>): Promise<DataListing> {
    const state = this.states.get(pipelineKey);
    const need = listingNeed(state, basis, this.options.now(), this.changed.has(pipelineKey));
    if (state && need === 'none') return { ...state.listing, nextPollAtMs: state.dueAtMs };
    let wait = this.take();
    if (state && need === 'poll' && wait > 0) {
      const deferred = { ...state, dueAtMs: this.options.now() + wait };
      this.states.set(pipelineKey, deferred);
      return { ...state.listing, nextPollAtMs: deferred.dueAtMs };
    }
    while (wait > 0) {
      await this.options.sleep(wait);
      wait = this.take();
    }
    // Cleared before the listing: a notification arriving while it runs marks the pipeline again.
    const wasChanged = this.changed.delete(pipelineKey);
    let listing: DataListing;
    try {
      listing = await list();
    } catch (e: unknown) {
      if (wasChanged) this.changed.add(pipelineKey); // an outage delays the signal, never loses it
      throw e;
    }
    const dueAtMs = nextPollAtMs(this.options.now(), pollMs, this.random());
    this.states.set(pipelineKey, { listing, basis, dueAtMs });
    return { ...listing, nextPollAtMs: dueAtMs };
  }

  private take(): number {
    const { bucket, waitMs } = takeToken(this.bucket, this.options.now(), this.options.listingsPerSecond, this.options.burst);
    this.bucket = bucket;
    return waitMs;
  }
}
