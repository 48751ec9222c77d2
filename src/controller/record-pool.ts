/**
 * One shared, frozen copy of each equal small record in the arrays of a tree the caches hold: a monitor's
 * availability buckets. It keeps 24 hourly and 7 daily ones ({ start, checks, available }), and across a fleet
 * checked at one interval they are nearly all equal (every check of the hour succeeded); as parsed, each is an
 * object of its own, ~56 bytes: with a week of history a cached monitor measured 3.6 KB against 2.0 KB with one
 * bucket each, 16 MiB per 10,000 in every replica (each caches the whole fleet). Not for records that are
 * mostly unique (conditions carry their transition time): the pool would hold a key for each and share nothing.
 *
 * Only records whose values are all strings, numbers, booleans or null, found as array elements. Frozen because
 * they are shared: the reconcilers build new statuses and never change one they read; a change in place throws
 * rather than alter another monitor's copy. Bounded like StringPool: when full it starts over.
 */
const MAX_KEYS = 8;

type Leaf = Record<string, string | number | boolean | null>;

export class RecordPool {
  private readonly records = new Map<string, Leaf>();

  // A fleet's distinct buckets are a few per hour and day of the week (most monitors share them): 4,096 holds them.
  constructor(private readonly capacity = 4096) {}

  get size(): number {
    return this.records.size;
  }

  /** Replaces, in place, every array element of a parsed JSON tree that is a leaf record with the pool's copy. */
  shareTree(node: unknown): void {
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const item: unknown = node[i];
        const key = leafKey(item);
        if (key === undefined) this.shareTree(item);
        else node[i] = this.share(key, item as Leaf);
      }
    } else if (node !== null && typeof node === 'object') {
      for (const item of Object.values(node)) this.shareTree(item);
    }
  }

  private share(key: string, record: Leaf): Leaf {
    const known = this.records.get(key);
    if (known !== undefined) return known;
    if (this.records.size >= this.capacity) this.records.clear();
    Object.freeze(record);
    this.records.set(key, record);
    return record;
  }
}

/** Its key (keys and values in order) when `value` is a leaf record; undefined otherwise. */
function leafKey(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length === 0 || keys.length > MAX_KEYS) return undefined;
  for (const k of keys) {
    const v = (value as Record<string, unknown>)[k];
    if (v !== null && typeof v === 'object') return undefined;
  }
  // JSON keeps the key order, so records written by one writer compare equal; undefined never comes from JSON.
  return JSON.stringify(value);
}
