import type { KubeApi } from './api-client.js';
import { statusCodeOf } from './api-errors.js';

/**
 * A fifth of kubectl's and client-go's 500. A page is parsed whole before its objects are trimmed and their strings
 * and buckets shared, and with the chart's 2 MiB young generation a page of 500 monitors with a week of history
 * (~2.5 MB of JSON) is promoted into the old generation before its duplicates die: listing 10,000 such monitors
 * peaked 20–27 MiB higher in RSS at 500 than at 100 (203–211 against 229–231 MiB, a script of the cache's own
 * transform). 100 objects a request is 100 requests for 10,000, one after another: under KUBE_API_QPS once the burst
 * is spent (the monitors', Secrets' and discovery's lists start together), seconds at start-up.
 */
export const DEFAULT_PAGE_SIZE = 100;
/** Expired continue tokens in a row before the list gives up (each restart is a full, paged list). */
const MAX_RESTARTS = 3;

export interface ListPage<T> {
  items?: T[];
  metadata?: { resourceVersion?: string; continue?: string };
}

export interface PagedListOptions<T, U> {
  /**
   * "0": any version the API server has, served from its watch cache (which may ignore `limit` and answer in one
   * page). "": the latest version, a consistent read. A continue token pins every later page to the first's version.
   */
  resourceVersion: '0' | '';
  accept?: string;
  /** Only the objects with these labels (a Kubernetes label selector, e.g. app=dbwatch). */
  labelSelector?: string;
  pageSize?: number;
  signal?: AbortSignal;
  /** Applied to each item as its page arrives, so a page's raw objects can be collected before the next. */
  map: (item: T) => U;
  /** After each page (awaited): for tests and logs. */
  onPage?: (page: number, items: number) => void | Promise<void>;
}

/**
 * A whole list in pages of `limit` with `continue`, as client-go's pager (tools/pager): each request stays
 * small and quick however many objects there are, so no single request meets the request timeout. When a
 * continue token has expired (410: etcd compacted the version the first page pinned, after ~5 min), the list
 * starts again from the first page at the latest version — a partial list must never be taken for the whole.
 */
export async function listAllPages<T, U>(
  api: KubeApi,
  path: string,
  options: PagedListOptions<T, U>,
): Promise<{ items: U[]; resourceVersion: string; pages: number; restarts: number }> {
  let resourceVersion: string = options.resourceVersion;
  for (let restarts = 0; ; restarts++) {
    const items: U[] = [];
    let token: string | undefined;
    let pages = 0;
    try {
      for (;;) {
        const page: ListPage<T> = await api.request<ListPage<T>>('GET', path, {
          query: {
            labelSelector: options.labelSelector,
            limit: options.pageSize ?? DEFAULT_PAGE_SIZE,
            ...(token ? { continue: token } : { resourceVersion: resourceVersion || undefined }),
          },
          accept: options.accept,
          signal: options.signal,
        });
        pages++;
        for (const item of page.items ?? []) items.push(options.map(item));
        await options.onPage?.(pages, page.items?.length ?? 0);
        token = page.metadata?.continue || undefined;
        if (!token) return { items, resourceVersion: page.metadata?.resourceVersion ?? '', pages, restarts };
      }
    } catch (error) {
      if (!(token && statusCodeOf(error) === 410) || restarts >= MAX_RESTARTS) throw error;
      // The snapshot is gone: only a fresh list from the start is whole and consistent.
      resourceVersion = '';
    }
  }
}
