// Sharding across operator replicas, the pure part. Objects are split into S shards by a stable hash of
// namespace/name; each shard is one coordination.k8s.io Lease, and each replica also holds a membership Lease so
// that a replica holding no shard yet still counts. Every retry period a replica reads all of them and decides
// here, from the records and when it last saw each one change (its own clock, never the records' timestamps, as
// leader-election.ts's decide()), which shards to renew, which free ones to take and which to hand back:
//   - live replicas = membership Leases seen changing within their duration, plus ourselves;
//   - fair share = ceil(S / live replicas) for the first S mod L replicas in identity order, floor for the others
//     (shareOf): the shares add up to S, so a joining replica gets work and none holds more than ceil;
//   - a shard is free when its holder is empty or its record has not changed for its lease duration;
//   - a replica takes free shards up to its share and hands back what it holds beyond it;
//   - which shard a replica prefers is a rendezvous hash of (replica, shard), so replicas racing for free shards
//     mostly want different ones, and a replica that comes back wants the same ones it had.
// Safety (no object reconciled by two replicas) comes from the leases, not from this arithmetic: a shard changes
// hands only once its lease is released or expired, and a holder that cannot renew stops all work before that.

/** FNV-1a, 32 bits: stable across processes, versions and platforms (never a language's own string hash). */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  const bytes = Buffer.from(text, 'utf8');
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The shard of an object key (namespace/name). */
export function shardOf(key: string, shards: number): number {
  if (!Number.isInteger(shards) || shards < 1) throw new RangeError('shards must be a positive integer');
  return fnv1a(key) % shards;
}

/**
 * This replica's share: the S mod L replicas first in identity order take ceil(S / L), the others floor(S / L), so
 * the shares add up to S exactly and a replica that joins late is not left with none while others hold ceil.
 */
export function shareOf(identity: string, live: readonly string[], shards: number): number {
  const sorted = [...new Set([...live, identity])].sort();
  const floor = Math.floor(shards / sorted.length);
  return sorted.indexOf(identity) < shards % sorted.length ? floor + 1 : floor;
}

/** A Lease as one replica saw it: its holder, its duration, and when (by our clock) its record last changed. */
export interface LeaseView {
  readonly holder: string;
  readonly durationSeconds: number;
  readonly observedAtMs: number;
}

export function expired(lease: LeaseView, nowMs: number): boolean {
  return lease.observedAtMs + lease.durationSeconds * 1000 <= nowMs;
}

/** Identities of the replicas alive now: membership Leases not expired, plus ourselves. */
export function liveReplicas(members: readonly LeaseView[], self: string, nowMs: number): string[] {
  const live = new Set(members.filter((m) => m.holder !== '' && !expired(m, nowMs)).map((m) => m.holder));
  live.add(self);
  return [...live].sort();
}

/** A replica's preference for a shard (higher first): rendezvous hashing. */
export function preference(identity: string, shard: number): number {
  return fnv1a(`${identity}#${shard}`);
}

export interface ShardPlan {
  /** Shards we hold and keep: renew them. */
  readonly renew: readonly number[];
  /** Free shards to take (missing, released or expired). */
  readonly acquire: readonly number[];
  /** Shards we hold beyond our share: drain their work, then release them. */
  readonly release: readonly number[];
  /** Shards we held that someone else holds now (they took an expired lease): stop all work. */
  readonly lost: readonly number[];
  readonly share: number;
  readonly live: number;
}

export interface ShardInput {
  readonly shards: number;
  readonly identity: string;
  readonly nowMs: number;
  /** By shard index; a missing entry is a Lease that does not exist yet. */
  readonly leases: ReadonlyMap<number, LeaseView>;
  readonly members: readonly LeaseView[];
  /** The shards this replica believes it holds (from its own successful writes). */
  readonly held: ReadonlySet<number>;
}

const byPreference = (identity: string) => (a: number, b: number): number => preference(identity, b) - preference(identity, a) || a - b;

/** Which shards to renew, take, hand back, or count as lost. Pure: every time and record is a parameter. */
export function planShards(input: ShardInput): ShardPlan {
  const { shards, identity, nowMs, leases, held } = input;
  const liveIds = liveReplicas(input.members, identity, nowMs);
  const live = liveIds.length;
  const share = shareOf(identity, liveIds, shards);
  const lost: number[] = [];
  const mine: number[] = [];
  const free: number[] = [];
  for (let shard = 0; shard < shards; shard++) {
    const lease = leases.get(shard);
    const holder = lease?.holder ?? '';
    if (holder === identity) mine.push(shard);
    else if (held.has(shard)) lost.push(shard);
    else if (lease === undefined || holder === '' || expired(lease, nowMs)) free.push(shard);
  }
  const order = byPreference(identity);
  mine.sort(order);
  free.sort(order);
  const keep = mine.slice(0, share);
  return {
    renew: keep,
    acquire: free.slice(0, Math.max(0, share - keep.length)),
    release: mine.slice(share),
    lost,
    share,
    live,
  };
}

/** Lease names: one per shard and one per replica, all carrying the group label so one LIST reads them. */
export function shardLeaseName(group: string, shard: number): string {
  return `${group}-shard-${shard}`;
}

/** A replica's membership Lease: its identity may hold characters a name cannot, so the name is a hash of it. */
export function memberLeaseName(group: string, identity: string): string {
  return `${group}-member-${fnv1a(identity).toString(16).padStart(8, '0')}`;
}

/** The shard index of a shard Lease name of this group, or undefined (a membership Lease, or another group's). */
export function shardOfLeaseName(group: string, name: string): number | undefined {
  const prefix = `${group}-shard-`;
  if (!name.startsWith(prefix)) return undefined;
  const n = Number(name.slice(prefix.length));
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}
