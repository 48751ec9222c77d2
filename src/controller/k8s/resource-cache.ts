import type { KubeApi, WatchEvent } from './api-client.js';
import { isTooLargeResourceVersion, statusCodeOf, WatchAborted } from './api-errors.js';
import { listAllPages } from './list-pager.js';
import { sleep } from './retry.js';

/** The metadata the cache keys and compares objects by (and what handlers commonly read). */
export interface CachedMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  annotations?: Record<string, string>;
}

export interface CachedObject {
  apiVersion?: string;
  kind?: string;
  metadata?: CachedMeta;
}

/** Called with the object as stored. Handlers must not change it: it is the cache's copy (see `transform`). */
export interface CacheHandlers<T> {
  add?: (obj: T) => void;
  update?: (obj: T) => void;
  delete?: (obj: T) => void;
}

export interface CacheOptions<T> {
  /** A list or watch failed with something other than a timeout or 410; it is retried after `retryInMs`. */
  onWatchError?: (resource: string, error: unknown, retryInMs: number) => void;
  /**
   * client-go's SetTransform: applied to every listed or watched object before it is stored and handed to the
   * handlers — the place to drop fields nobody reads or to share memory. The object it gets is fresh from the
   * wire and its own to change; what it returns is the cache's, never to be changed afterwards.
   */
  transform?: (obj: T) => T;
  /** Objects per list page (default 500). */
  pageSize?: number;
  /** After each list page: for tests and logs. */
  onListPage?: (resource: string, page: number, items: number) => void;
}

/** Where a ResourceCache lists and watches one resource, in one namespace or all. */
export interface Source {
  path: string;
  /** Accept header of the list (e.g. asking for metadata only). */
  listAccept?: string;
  /** Accept header of the watch. */
  watchAccept?: string;
  /** Only the objects with these labels (list and watch alike). */
  labelSelector?: string;
}

const MAX_BACKOFF_MS = 30_000;

/** The resourceVersion to list from is gone (410) or not yet known to the server: list the latest. */
const needsFreshList = (error: unknown) => statusCodeOf(error) === 410 || isTooLargeResourceVersion(error);

class Gone extends Error {
  readonly code = 410;
}

/**
 * client-go's reflector for one source: list (in pages), then watch from the list's resourceVersion with
 * bookmarks. A watch the server ends is resumed from the last version seen; a 410 relists (diffing against the
 * store so handlers see adds, updates and deletes); any other failure is reported and retried with backoff
 * (1 s doubling to 30 s). Every list asks for the latest version ("", a consistent read, in pages of `limit`;
 * served from the watch cache from Kubernetes 1.31), never "any" ("0"), which client-go's first list takes: the
 * watch cache answers "0" whole, ignoring the limit, so the operator's heap would have to hold the whole fleet's
 * JSON at once; and after a 410 a lagging cache could hand back a state older than the store's.
 */
class Reflector<T extends CachedObject> {
  /** namespace → name → object: `list(namespace)` without scanning every object. */
  readonly byNamespace = new Map<string, Map<string, T>>();
  private resourceVersion = '';
  private readonly stopping = new AbortController();
  private watch: { abort(): void } | undefined;
  private failures = 0;

  constructor(
    private readonly api: KubeApi,
    private readonly resource: string,
    private readonly source: Source,
    private readonly handlers: CacheHandlers<T>,
    private readonly options: CacheOptions<T>,
  ) {}

  /** Resolves after the first successful list (or at stop()); keeps watching in the background. */
  run(): Promise<void> {
    return new Promise<void>((synced) => {
      void this.loop(synced);
    });
  }

  private get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  private async loop(synced: () => void): Promise<void> {
    let needList = true;
    while (!this.stopped) {
      try {
        if (needList) {
          await this.list();
          needList = false;
          this.failures = 0;
          synced();
        }
        const started = Date.now();
        const received = await this.watchOnce();
        // A server that ends watches at once would make this spin: treat a silent instant close as a failure.
        if (!received && Date.now() - started < 1000) await this.backoff(new Error('watch closed at once'));
      } catch (error) {
        if (this.stopped || error instanceof WatchAborted) break;
        // A watch that cannot resume lists again at once; a list that failed (for whatever reason) backs off.
        if (!needList && needsFreshList(error)) needList = true;
        else await this.backoff(error).catch(() => undefined);
      }
    }
    synced();
  }

  private async backoff(error: unknown): Promise<void> {
    const retryInMs = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** this.failures++);
    this.options.onWatchError?.(this.resource, error, retryInMs);
    await sleep(retryInMs, this.stopping.signal);
  }

  /** A full list, in pages, then the store replaced by it. */
  private async list(): Promise<void> {
    const listed = await listAllPages<T, T>(this.api, this.source.path, {
      // Always the latest, in pages. Not "0" (any version, client-go's first list): the watch cache answers that
      // in one piece whatever the limit, and 10,000 monitors with their statuses are more JSON than a replica's
      // heap (128 MiB) can parse at once — a replica started into such a fleet died before its first check.
      resourceVersion: '',
      accept: this.source.listAccept,
      ...(this.source.labelSelector ? { labelSelector: this.source.labelSelector } : {}),
      pageSize: this.options.pageSize,
      signal: this.stopping.signal,
      // Objects already stored at the same version are kept as they are (and raise no event); others are
      // transformed as their page arrives, so the raw pages need not all be held at once.
      map: (item) => {
        const { namespace = '', name = '', resourceVersion } = item.metadata ?? {};
        const known = this.byNamespace.get(namespace)?.get(name);
        return known && known.metadata?.resourceVersion === resourceVersion ? known : this.transform(item);
      },
      onPage: (page, items) => this.options.onListPage?.(this.resource, page, items),
    });
    this.replace(listed.items, listed.resourceVersion);
  }

  private transform(obj: T): T {
    return this.options.transform ? this.options.transform(obj) : obj;
  }

  /** One watch request until the server ends it; resolves to whether any event arrived. */
  private async watchOnce(): Promise<boolean> {
    let received = false;
    // A random 5–10 min server-side timeout (client-go's) spreads re-watches of many replicas.
    const timeoutSeconds = 300 + Math.floor(Math.random() * 300);
    const handle = this.api.watch<T>(
      this.source.path,
      {
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds,
        ...(this.source.labelSelector ? { labelSelector: this.source.labelSelector } : {}),
      },
      (event) => {
        received = true;
        if (event.type !== 'ERROR') this.failures = 0;
        this.apply(event);
      },
      this.source.watchAccept,
    );
    this.watch = handle;
    if (this.stopped) handle.abort();
    try {
      await handle.done;
    } finally {
      this.watch = undefined;
    }
    return received;
  }

  private apply(event: WatchEvent<T>): void {
    if (event.type === 'ERROR') {
      // Thrown out of the stream's loop, which closes the response.
      const status = event.object as { code?: number; message?: string };
      throw status.code === 410 ? new Gone(status.message) : new Error(`watch error: ${status.message ?? 'unknown'}`);
    }
    const rv = event.object.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    if (event.type === 'BOOKMARK') return;
    const obj = this.transform(event.object);
    if (event.type === 'DELETED') this.remove(obj);
    else this.put(obj);
  }

  private put(obj: T): void {
    const { namespace = '', name = '' } = obj.metadata ?? {};
    const names = this.byNamespace.get(namespace) ?? new Map<string, T>();
    this.byNamespace.set(namespace, names);
    const had = names.has(name);
    names.set(name, obj);
    if (had) this.handlers.update?.(obj);
    else this.handlers.add?.(obj);
  }

  private remove(obj: T): void {
    const { namespace = '', name = '' } = obj.metadata ?? {};
    const names = this.byNamespace.get(namespace);
    const known = names?.get(name);
    if (!names || !known) return;
    names.delete(name);
    if (names.size === 0) this.byNamespace.delete(namespace);
    this.handlers.delete?.(obj);
  }

  /** A fresh list: unchanged objects (the very stored ones) raise no event, missing ones are deletes. */
  private replace(items: T[], resourceVersion: string): void {
    const seen = new Set<string>();
    for (const item of items) {
      const { namespace = '', name = '' } = item.metadata ?? {};
      seen.add(`${namespace}/${name}`);
      if (this.byNamespace.get(namespace)?.get(name) !== item) this.put(item);
    }
    for (const [namespace, names] of [...this.byNamespace]) {
      for (const obj of [...names.values()]) {
        if (!seen.has(`${namespace}/${obj.metadata?.name ?? ''}`)) this.remove(obj);
      }
    }
    this.resourceVersion = resourceVersion;
  }

  /** See ResourceCache.replaceStored. */
  replaceStored(namespace: string, name: string, next: (stored: T) => T | undefined): boolean {
    const names = this.byNamespace.get(namespace);
    const stored = names?.get(name);
    const replacement = stored && next(stored);
    if (!names || !replacement) return false;
    names.set(name, replacement);
    return true;
  }

  stop(): void {
    this.stopping.abort();
    this.watch?.abort();
  }
}

/** A list+watch cache of one resource over all namespaces or a chosen set (one reflector per namespace). */
export class ResourceCache<T extends CachedObject> {
  private readonly reflectors: Reflector<T>[];

  constructor(
    api: KubeApi,
    resource: string,
    sources: Source[],
    handlers: CacheHandlers<T>,
    options: CacheOptions<T> = {},
  ) {
    this.reflectors = sources.map((source) => new Reflector<T>(api, resource, source, handlers, options));
  }

  /** Resolves once every source has listed (the cache is synced), or at stop(). */
  async start(): Promise<void> {
    await Promise.all(this.reflectors.map((r) => r.run()));
  }

  get(namespace: string, name: string): T | undefined {
    for (const r of this.reflectors) {
      const found = r.byNamespace.get(namespace)?.get(name);
      if (found) return found;
    }
    return undefined;
  }

  list(namespace?: string): T[] {
    return this.reflectors.flatMap((r) =>
      namespace === undefined
        ? [...r.byNamespace.values()].flatMap((names) => [...names.values()])
        : [...(r.byNamespace.get(namespace)?.values() ?? [])],
    );
  }

  /**
   * For the cache's owner to record its own write before the watch delivers it (as client-go's MutationCache):
   * `next` gets the stored object and returns a NEW one to store in its place, or undefined to keep it — e.g.
   * only if the stored object is still at the version the write was based on. No handler runs; the watch's
   * copy of the same version replaces it later as usual.
   */
  replaceStored(namespace: string, name: string, next: (stored: T) => T | undefined): boolean {
    return this.reflectors.some((r) => r.replaceStored(namespace, name, next));
  }

  async stop(): Promise<void> {
    for (const r of this.reflectors) r.stop();
  }
}
