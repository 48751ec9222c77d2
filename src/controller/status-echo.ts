type Versioned = { metadata?: { resourceVersion?: string }; status?: unknown };

/**
 * The status the operator wrote comes back through the watch as a fresh parse of the same JSON: a second full
 * copy (conditions, availability buckets) per object, held by the cache next to the reconciler's own. This
 * remembers each object's last write by the resourceVersion the API server gave it, and when the watch
 * delivers that very version, the cache's transform stores an object holding the written status instead, so
 * cache and reconciler share one. A version the operator did not write (someone else's change) keeps the
 * status as the API server sent it. Cached objects are never changed: a sharing object is a new one.
 */
export class StatusEcho {
  private readonly pending = new Map<string, { resourceVersion: string; status: object }>();

  /** After a successful write: `resourceVersion` is the one the write created. */
  written(key: string, resourceVersion: string | undefined, status: object): void {
    if (resourceVersion) this.pending.set(key, { resourceVersion, status });
    else this.pending.delete(key);
  }

  /** The cache's transform, for an object arriving from the watch or a list: itself, or a copy with our status. */
  share<T extends Versioned>(key: string, obj: T): T {
    const mine = this.pending.get(key);
    if (!mine || obj.metadata?.resourceVersion !== mine.resourceVersion) {
      // Another version (resourceVersions are opaque, so no "older" or "newer"): ours may still come. One entry
      // per object at most, replaced by the next write and dropped with the object.
      return obj;
    }
    this.pending.delete(key);
    return { ...obj, status: mine.status as T['status'] };
  }

  /**
   * Right after the write, for the object the cache holds now: if the watch delivered our version already, a
   * copy sharing our status; if the cache still holds the version the write was based on (`basedOn`), a copy at
   * the written version with our status, so that the next write's precondition is our own write and not a 409.
   * Anything else (a newer change by someone else) is left alone.
   */
  adopt<T extends Versioned>(key: string, stored: T, basedOn: string | undefined): T | undefined {
    const mine = this.pending.get(key);
    const version = stored.metadata?.resourceVersion;
    if (!mine || version === undefined) return undefined;
    if (version === mine.resourceVersion) {
      this.pending.delete(key);
      return { ...stored, status: mine.status as T['status'] };
    }
    if (version !== basedOn) return undefined;
    return { ...stored, metadata: { ...stored.metadata, resourceVersion: mine.resourceVersion }, status: mine.status };
  }

  forget(key: string): void {
    this.pending.delete(key);
  }

  get size(): number {
    return this.pending.size;
  }
}
