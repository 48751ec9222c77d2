import type { ExistingMonitor } from './plan.js';

/** How long a write may take to show in the cache before the cache is trusted again anyway. */
const TTL_MS = 60_000;

interface Entry {
  at: number;
  /** What the write returned; undefined for a delete. */
  object?: ExistingMonitor;
  deletedUid?: string;
}

/**
 * Writes the watch has not delivered yet (client-go's "expectations"): without them a reconcile that runs
 * between a create and its watch event would create again (409s), and one after an update would write the
 * old version again. An entry ends when the cache shows the same resourceVersion (or, for a delete, no
 * longer that object), or after a minute.
 */
export class RecentWrites {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly now: () => number = Date.now) {}

  wrote(object: ExistingMonitor): void {
    this.entries.set(keyOf(object), { at: this.now(), object });
  }

  deleted(object: ExistingMonitor): void {
    this.entries.set(keyOf(object), { at: this.now(), deletedUid: object.metadata?.uid ?? '' });
  }

  /** A write that failed with a conflict: the cache knows better than what we wrote last. */
  forget(object: ExistingMonitor): void {
    this.entries.delete(keyOf(object));
  }

  /** The cached object, corrected by writes the cache has not shown yet. */
  view(key: string, cached: ExistingMonitor | undefined): ExistingMonitor | undefined {
    const entry = this.entries.get(key);
    if (!entry) return cached;
    const settled =
      this.now() - entry.at > TTL_MS ||
      (entry.object
        ? cached?.metadata?.resourceVersion === entry.object.metadata?.resourceVersion
        : cached?.metadata?.uid !== entry.deletedUid);
    if (settled) {
      this.entries.delete(key);
      return cached;
    }
    return entry.object;
  }

  /** Objects written but not yet in the cache, to add to a listing of it. */
  pending(inCache: (key: string) => boolean): ExistingMonitor[] {
    return [...this.entries]
      .filter(([key, e]) => e.object && !inCache(key) && this.now() - e.at <= TTL_MS)
      .map(([, e]) => e.object!);
  }
}

export const keyOf = (m: ExistingMonitor) => `${m.metadata?.namespace}/${m.metadata?.name}`;
