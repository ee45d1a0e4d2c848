// When a pipeline's data sources are listed again, so that newData detection scales with the number of pipelines.
// A bucket cannot be watched, so the sources are listed; but a full listing on every reconcile (and a pipeline is
// reconciled whenever its Jobs or the deployments it watches change) would cost thousands of listings a minute at
// a thousand pipelines. So the last listing of each pipeline is kept, and reused, until one of:
//   - the store said something changed under its sources (a bucket notification: store-notifications/);
//   - its poll is due: the poll interval, jittered per poll (×0.8 to ×1.2) so pipelines created together do not
//     list together forever;
//   - what the listing depends on changed: the sources, or the watermark new data is counted from (a run took it).
// Every listing takes a token from one bucket for the whole operator (listings per second, with a burst): a poll
// that finds the bucket empty reuses the old listing and is looked at again in the next free slot of a queue spaced
// at the refill rate (one deferred poll per token, not all at once); a listing the
// pipeline cannot do without (none yet, or a notification) waits for its token.
//
// After a restart the kept listings are gone, but a pipeline that has a data watermark does not need one at once:
// the watermark stands in for it (the data when the last run started, no new objects: the newData trigger does not
// fire from it), and its first listing is deferred to a random point of its poll interval, so a restart does not
// list every pipeline's sources at once (1,000 pipelines waited 18 s for the budget). A listing returned without
// listing the store is marked `kept`; a run must not start from one (it would record a watermark older than the
// data it trains on, and count that data again as new): the reconciler lists first (plan.ts needsFreshListing).
import type { TrainingPipelineStatus } from '../../../api/training-pipeline.js';
import type { DataListing } from './triggers.js';

export interface PollState {
  readonly listing: DataListing;
  /** What the listing depends on: the sources and the watermark, as one string. */
  readonly basis: string;
  /** When the next poll is due (jittered). */
  readonly dueAtMs: number;
}

export type ListingNeed = 'none' | 'poll' | 'required' | 'first-deferred';

/**
 * Whether to list now: 'required' (no usable listing, or a notification said something changed), 'poll' (due,
 * may be deferred), 'none' (reuse), or 'first-deferred' (no listing since the operator started, but the watermark
 * stands in for one: the first listing is deferred).
 */
export function listingNeed(state: PollState | undefined, basis: string, nowMs: number, changed: boolean, hasStandIn: boolean): ListingNeed {
  if (changed) return 'required';
  if (!state) return hasStandIn ? 'first-deferred' : 'required';
  if (state.basis !== basis) return 'required';
  return nowMs >= state.dueAtMs ? 'poll' : 'none';
}

/**
 * The data watermark as a listing: what the store held when the last run started (or at the baseline), with no
 * new objects. Undefined without a (complete) watermark: nothing stands in, the pipeline must list.
 */
export function watermarkListing(watermark: TrainingPipelineStatus['dataWatermark']): DataListing | undefined {
  if (watermark?.objects === undefined || watermark.digest === undefined) return undefined;
  const newestMs = watermark.newestObjectTime === undefined ? undefined : Date.parse(watermark.newestObjectTime);
  return { objects: watermark.objects, digest: watermark.digest, newestMs: Number.isNaN(newestMs) ? undefined : newestMs, newObjects: 0, newRows: 0 };
}

/** The first poll after a restart: a point of the poll interval (u uniform in [0, 1)), so restarted pipelines spread out. */
export function firstPollAtMs(nowMs: number, pollMs: number, u: number): number {
  return nowMs + Math.round(pollMs * u);
}

/** The next poll: the interval stretched by a factor from 0.8 to 1.2 (u uniform in [0, 1)). */
export function nextPollAtMs(nowMs: number, pollMs: number, u: number): number {
  return nowMs + Math.round(pollMs * (0.8 + 0.4 * u));
}

/**
 * When a due poll that found no token looks again: the next free slot of a queue spaced at the refill rate (one
 * token per slot), from when the next token is due. So deferred polls come back one per token, not all at the
 * moment the next token is due: 1 of them listed then and the others were deferred again, each deferral a
 * reconcile (3,000 pipelines at the budget reconciled 4 times a minute each). Returns the poll's time and the next
 * free slot.
 */
export function deferredPollAtMs(nowMs: number, waitMs: number, nextSlotMs: number, ratePerSecond: number): { atMs: number; nextSlotMs: number } {
  const atMs = Math.max(nowMs + waitMs, nextSlotMs);
  return { atMs, nextSlotMs: atMs + Math.ceil(1000 / ratePerSecond) };
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
  /** The next free slot for a deferred poll (deferredPollAtMs). */
  private nextSlotMs = 0;
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
   * The pipeline's listing: the kept one (or `standIn`, the watermark, before the first listing), or a new one
   * from `list`. The listing says when to look again (nextPollAtMs): the jittered poll, or when a deferred poll gets
   * its token; and whether it is `kept` (not listed now).
   */
  async listing(pipelineKey: string, basis: string, pollMs: number, list: () => Promise<DataListing>, standIn?: DataListing): Promise<DataListing> {
    const now = this.options.now();
    const state = this.states.get(pipelineKey);
    const need = listingNeed(state, basis, now, this.changed.has(pipelineKey), standIn !== undefined);
    if (need === 'first-deferred' && standIn) {
      const first: PollState = { listing: standIn, basis, dueAtMs: firstPollAtMs(now, pollMs, this.random()) };
      this.states.set(pipelineKey, first);
      return { ...standIn, kept: true, nextPollAtMs: first.dueAtMs };
    }
    if (state && need === 'none') return { ...state.listing, kept: true, nextPollAtMs: state.dueAtMs };
    const wait = this.take();
    if (state && need === 'poll' && wait > 0) {
      const slot = deferredPollAtMs(now, wait, this.nextSlotMs, this.options.listingsPerSecond);
      this.nextSlotMs = slot.nextSlotMs;
      const deferred = { ...state, dueAtMs: slot.atMs };
      this.states.set(pipelineKey, deferred);
      return { ...state.listing, kept: true, nextPollAtMs: deferred.dueAtMs };
    }
    return this.listAfter(wait, pipelineKey, basis, pollMs, list);
  }

  /** Lists now, whatever is kept (waiting for a token): for a run about to start, which takes the data there is. */
  listNow(pipelineKey: string, basis: string, pollMs: number, list: () => Promise<DataListing>): Promise<DataListing> {
    return this.listAfter(this.take(), pipelineKey, basis, pollMs, list);
  }

  private async listAfter(firstWait: number, pipelineKey: string, basis: string, pollMs: number, list: () => Promise<DataListing>): Promise<DataListing> {
    let wait = firstWait;
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
