// Which partition a keyed message goes to: Kafka's default for a message with a key, murmur2 of the key's bytes,
// made positive, modulo the topic's partition count (the Java client's BuiltInPartitioner.partitionForKey, and
// kafkajs's DefaultPartitioner). The same key therefore lands in the same partition whichever client wrote it, and
// as it did before the sink brought its own: events already in a topic stay next to their later labels.
// Ours because kafkajs's murmur2 does its 32-bit multiplications with a 64-bit Long object per step, and its
// partitioner filters the partition list per message: together about a fifth of the sink's CPU per event in a
// profile here (docs/decisions/0017). Math.imul gives the same 32-bit results without allocating.

/** Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2) of `data`, as a signed 32-bit integer. */
export function murmur2(data: Uint8Array): number {
  const m = 0x5bd1e995;
  const length = data.length;
  const whole = length & ~3;
  let h = (0x9747b28c ^ length) | 0;
  for (let i = 0; i < whole; i += 4) {
    let k = (data[i] ?? 0) | ((data[i + 1] ?? 0) << 8) | ((data[i + 2] ?? 0) << 16) | ((data[i + 3] ?? 0) << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  // The last one to three bytes, as Java's switch with fall-through takes them.
  const rest = length & 3;
  if (rest === 3) h ^= (data[whole + 2] ?? 0) << 16;
  if (rest >= 2) h ^= (data[whole + 1] ?? 0) << 8;
  if (rest >= 1) {
    h ^= data[whole] ?? 0;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition of a message keyed `key` in a topic of `partitions` partitions. */
export function keyPartition(key: Uint8Array, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}
