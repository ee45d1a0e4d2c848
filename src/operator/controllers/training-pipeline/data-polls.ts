// When a pipeline's data sources are listed again, so that newData detection scales with the number of pipelines.
// A bucket cannot be watched, so the sources are listed; but a full listing on every reconcile (and a pipeline is
// reconciled whenever its Jobs or the deployments it watches change) would cost thousands of listings a minute at
// a thousand pipelines. So the last listing of each pipeline is kept, and reused, until one of:
//   - the store said something changed under its sources (a bucket notification: store-notifications/);
//   - its poll is due: the poll interval, jittered per poll (×0.8 to ×1.2) so pipelines created together do not
//     list together forever;
//   - what the listing depends on changed: the sources, or the watermark new data is counted from (a run took it).
//     A watermark taken from this very listing (the baseline, or a run's data: same digest and objects) changes
//     nothing but what counts as new, which is then nothing: the listing is rebased on it, not listed again (each
//     new pipeline listed twice for its baseline, and each run once more).
// Every listing takes a token from one bucket for the whole operator (listings per second, with a burst). The
// polls must fit in it: when the pipelines' polls ask for more than 80% of it (10,000 pipelines polling every 60 s
// ask 167 listings a second of a budget of 50), every poll interval is stretched by the same factor until they fit
// (pollStretch; perennial_store_data_poll_stretch says by how much), leaving a fifth of the budget to notifications,
// first listings and runs. Nothing waits in a reconcile for a token, and polls yield to the rest:
//   - a listing a pipeline cannot do without (none yet, its sources changed, a notification, a run about to start)
//     reserves the next token when none is left: the bucket goes into debt, so reservations queue in order, each
//     at its own time, and nothing later takes it. Without a usable listing the reconcile ends with ListingDeferred
//     and comes back at the reservation (reconciler.ts); a notified pipeline reuses its listing until then;
//   - a due poll takes a token only if one is free (no debt): else it reuses its listing and comes back in the next
//     free slot after the debt is paid, one token apart (deferredPollAtMs). So 10,000 new pipelines' first listings
//     go before the polls of those listed a minute earlier (which took 80% of the budget when they reserved too).
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
  /** The pipeline's own poll interval (before any stretch): what it asks of the budget. */
  readonly pollMs: number;
  /** The watermark time new objects were counted from (undefined: none, or no complete watermark). */
  readonly countedFromMs: number | undefined;
}

/** Thrown when a pipeline has no usable listing and its token is reserved for later: reconcile again at atMs. */
export class ListingDeferred extends Error {
  constructor(readonly atMs: number) {
    super(`the data listing waits for the listing budget until ${new Date(atMs).toISOString()}`);
    this.name = 'ListingDeferred';
  }
}

export type ListingNeed = 'none' | 'poll' | 'required' | 'first-deferred' | 'rebase';

/**
 * Whether to list now: 'required' (no usable listing, or a notification said something changed), 'poll' (due,
 * may be deferred), 'none' (reuse), 'first-deferred' (no listing since the operator started, but the watermark
 * stands in for one: the first listing is deferred), or 'rebase' (the watermark moved to this very listing's data,
 * `sameData`: the listing stays, with nothing new).
 */
export function listingNeed(state: PollState | undefined, basis: string, countedFromMs: number | undefined, sameData: boolean, nowMs: number, changed: boolean, hasStandIn: boolean): ListingNeed {
  if (changed) return 'required';
  if (!state) return hasStandIn ? 'first-deferred' : 'required';
  if (state.basis !== basis) return 'required';
  if (state.countedFromMs !== countedFromMs) return sameData ? 'rebase' : 'required';
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

/** The share of the listing budget the polls may take; the rest is left to notifications, first listings and runs. */
export const pollShare = 0.8;

/**
 * By how much every poll interval is stretched so that the polls fit in their share of the budget: 1 while they
 * fit, else demand / (share × budget). demandPerSecond is the sum of 1 / poll interval over the pipelines.
 */
export function pollStretch(demandPerSecond: number, listingsPerSecond: number): number {
  return Math.max(1, demandPerSecond / (pollShare * listingsPerSecond));
}

/**
 * When a due poll that found no free token looks again: the next free slot of a queue spaced at the refill rate
 * (one token per slot), from when a token is free again. So deferred polls come back one per token, not all at the
 * moment the next token is free (1 of them listed then and the others were deferred again, each deferral a
 * reconcile). Returns the poll's time and the next free slot.
 */
export function deferredPollAtMs(nowMs: number, waitMs: number, nextSlotMs: number, ratePerSecond: number): { atMs: number; nextSlotMs: number } {
  const atMs = Math.max(nowMs + waitMs, nextSlotMs);
  return { atMs, nextSlotMs: atMs + Math.ceil(1000 / ratePerSecond) };
}

/** A token bucket as a value: `tokens` available at `atMs` (negative: in debt to reservations). */
export interface Bucket {
  readonly tokens: number;
  readonly atMs: number;
}

/**
 * Takes one token if one is free (refilled at ratePerSecond up to burst since atMs; none while in debt): the new
 * bucket and 0, or the bucket unchanged in tokens and how long until a token is free.
 */
export function takeToken(bucket: Bucket, nowMs: number, ratePerSecond: number, burst: number): { bucket: Bucket; waitMs: number } {
  const elapsedMs = Math.max(0, nowMs - bucket.atMs);
  const tokens = Math.min(burst, bucket.tokens + (elapsedMs / 1000) * ratePerSecond);
  const atMs = Math.max(nowMs, bucket.atMs);
  if (tokens >= 1) return { bucket: { tokens: tokens - 1, atMs }, waitMs: 0 };
  return { bucket: { tokens, atMs }, waitMs: Math.ceil(((1 - tokens) / ratePerSecond) * 1000) };
}

/**
 * Takes one token, in advance if there is none: the bucket refilled at ratePerSecond up to burst since atMs, less
 * the token; and when the token is due (now, or when the refill has paid the debt). Reservations so queue up one
 * token apart, in the order they were made.
 */
export function reserveToken(bucket: Bucket, nowMs: number, ratePerSecond: number, burst: number): { bucket: Bucket; atMs: number } {
  const elapsedMs = Math.max(0, nowMs - bucket.atMs);
  const tokens = Math.min(burst, bucket.tokens + (elapsedMs / 1000) * ratePerSecond) - 1;
  return { bucket: { tokens, atMs: Math.max(nowMs, bucket.atMs) }, atMs: tokens >= 0 ? nowMs : nowMs + Math.ceil((-tokens / ratePerSecond) * 1000) };
}

export interface DataPollsOptions {
  readonly now: () => number;
  readonly random?: () => number;
  /** Listings per second for the whole operator, and how many may go at once after a quiet time. */
  readonly listingsPerSecond: number;
  readonly burst: number;
}

/** The operator's listings of newData sources: the last one per pipeline, the reservations and the one token bucket. */
export class DataPolls {
  private readonly states = new Map<string, PollState>();
  /** Pipelines a notification named since their last listing began. */
  private readonly changed = new Set<string>();
  /** When a pipeline's reserved token is due (a listing that found no token left). */
  private readonly reserved = new Map<string, number>();
  /** The next free slot for a deferred poll (deferredPollAtMs). */
  private nextSlotMs = 0;
  /** Σ 1000 / pollMs over the kept listings: the listings per second the polls ask for. */
  private demandPerSecond = 0;
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
    this.setState(pipelineKey, undefined);
    this.changed.delete(pipelineKey);
    this.reserved.delete(pipelineKey);
  }

  /** By how much the poll intervals are stretched now (pollStretch). */
  stretch(): number {
    return pollStretch(this.demandPerSecond, this.options.listingsPerSecond);
  }

  /**
   * The pipeline's listing: the kept one (or `standIn`, the watermark, before the first listing), or a new one
   * from `list`. The listing says when to look again (nextPollAtMs): the jittered (and stretched) poll, or when its
   * reserved token is due; and whether it is `kept` (not listed now). Throws ListingDeferred when the pipeline has
   * no usable listing and must wait for its token.
   */
  async listing(pipelineKey: string, basis: string, pollMs: number, list: () => Promise<DataListing>, standIn?: DataListing): Promise<DataListing> {
    const now = this.options.now();
    const state = this.states.get(pipelineKey);
    const countedFromMs = standIn?.newestMs;
    const sameData = standIn !== undefined && state !== undefined && standIn.digest === state.listing.digest && standIn.objects === state.listing.objects;
    const need = listingNeed(state, basis, countedFromMs, sameData, now, this.changed.has(pipelineKey), standIn !== undefined);
    if (need === 'first-deferred' && standIn) {
      const first: PollState = { listing: standIn, basis, dueAtMs: firstPollAtMs(now, this.intervalMs(pollMs), this.random()), pollMs, countedFromMs };
      this.setState(pipelineKey, first);
      return { ...standIn, kept: true, nextPollAtMs: first.dueAtMs };
    }
    if (need === 'rebase' && state && standIn) {
      this.setState(pipelineKey, { ...state, listing: standIn, countedFromMs });
      return { ...standIn, kept: true, nextPollAtMs: state.dueAtMs };
    }
    if (state && need === 'none') return { ...state.listing, kept: true, nextPollAtMs: state.dueAtMs };
    if (need === 'poll' && state && !this.reserved.has(pipelineKey)) {
      const { bucket, waitMs } = takeToken(this.bucket, now, this.options.listingsPerSecond, this.options.burst);
      this.bucket = bucket;
      if (waitMs === 0) return this.list(pipelineKey, basis, pollMs, countedFromMs, list);
      const slot = deferredPollAtMs(now, waitMs, this.nextSlotMs, this.options.listingsPerSecond);
      this.nextSlotMs = slot.nextSlotMs;
      this.setState(pipelineKey, { ...state, dueAtMs: slot.atMs });
      return { ...state.listing, kept: true, nextPollAtMs: slot.atMs };
    }
    const atMs = this.tokenAtMs(pipelineKey, now);
    if (atMs > now) {
      // A notified (or reserved) pipeline reuses what it has until its token; without a usable listing, it waits.
      const usable = state !== undefined && state.basis === basis && state.countedFromMs === countedFromMs;
      if (usable) return { ...state.listing, kept: true, nextPollAtMs: atMs };
      throw new ListingDeferred(atMs);
    }
    return this.list(pipelineKey, basis, pollMs, countedFromMs, list);
  }

  /**
   * Lists now, whatever is kept: for a run about to start, which takes the data there is. ListingDeferred without a
   * token. `standIn` is the watermark, as for listing().
   */
  listNow(pipelineKey: string, basis: string, pollMs: number, list: () => Promise<DataListing>, standIn?: DataListing): Promise<DataListing> {
    const now = this.options.now();
    const atMs = this.tokenAtMs(pipelineKey, now);
    if (atMs > now) return Promise.reject(new ListingDeferred(atMs));
    return this.list(pipelineKey, basis, pollMs, standIn?.newestMs, list);
  }

  /** The poll interval stretched to fit the budget. */
  private intervalMs(pollMs: number): number {
    return Math.round(pollMs * this.stretch());
  }

  /** When this pipeline's token is due: its reservation, or a new one (now, if the bucket has a token). */
  private tokenAtMs(pipelineKey: string, nowMs: number): number {
    const held = this.reserved.get(pipelineKey);
    if (held !== undefined) return held;
    const { bucket, atMs } = reserveToken(this.bucket, nowMs, this.options.listingsPerSecond, this.options.burst);
    this.bucket = bucket;
    if (atMs > nowMs) this.reserved.set(pipelineKey, atMs);
    return atMs;
  }

  private async list(pipelineKey: string, basis: string, pollMs: number, countedFromMs: number | undefined, list: () => Promise<DataListing>): Promise<DataListing> {
    this.reserved.delete(pipelineKey); // the token is spent, whatever the listing's fate
    // Cleared before the listing: a notification arriving while it runs marks the pipeline again.
    const wasChanged = this.changed.delete(pipelineKey);
    let listing: DataListing;
    try {
      listing = await list();
    } catch (e: unknown) {
      if (wasChanged) this.changed.add(pipelineKey); // an outage delays the signal, never loses it
      throw e;
    }
    const dueAtMs = nextPollAtMs(this.options.now(), this.intervalMs(pollMs), this.random());
    this.setState(pipelineKey, { listing, basis, dueAtMs, pollMs, countedFromMs });
    return { ...listing, nextPollAtMs: dueAtMs };
  }

  /** Sets (or, undefined, drops) a pipeline's kept listing, keeping the polls' demand in step. */
  private setState(pipelineKey: string, state: PollState | undefined): void {
    const old = this.states.get(pipelineKey);
    if (old) this.demandPerSecond -= 1000 / old.pollMs;
    if (state) {
      this.states.set(pipelineKey, state);
      this.demandPerSecond += 1000 / state.pollMs;
    } else this.states.delete(pipelineKey);
    if (this.states.size === 0) this.demandPerSecond = 0; // no drift from rounding
  }
}
