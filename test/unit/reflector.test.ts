import { describe, expect, test } from '@jest/globals';
import type { KubeApi, RequestOptions, WatchEvent } from '../../src/controller/k8s/api-client.js';
import { KubeApiError } from '../../src/controller/k8s/api-errors.js';
import { DEFAULT_PAGE_SIZE, type ListPage } from '../../src/controller/k8s/list-pager.js';
import { type CachedObject, ResourceCache } from '../../src/controller/k8s/resource-cache.js';

type Page = ListPage<CachedObject> | Error;

/**
 * A scripted API: each list request gets the next page (or error) from a queue, each watch call the next
 * script of events. Records the query of every list request and the version every watch started from.
 */
function scriptedApi(pages: Page[], watches: ((emit: (e: WatchEvent<CachedObject>) => void) => Promise<void>)[]) {
  const watchedFrom: string[] = [];
  const listQueries: Record<string, unknown>[] = [];
  const api = {
    request: async (_method: string, _path: string, options: RequestOptions) => {
      listQueries.push(Object.fromEntries(Object.entries(options.query ?? {}).filter(([, v]) => v !== undefined)));
      const next = pages.shift() ?? { items: [] };
      if (next instanceof Error) throw next;
      return structuredClone(next);
    },
    watch: (_path: string, query: { resourceVersion: string }, onEvent: (e: WatchEvent<CachedObject>) => void) => {
      watchedFrom.push(query.resourceVersion);
      const script = watches.shift() ?? (() => new Promise<void>(() => undefined));
      return { done: script(onEvent), abort: () => undefined };
    },
  } as unknown as KubeApi;
  return { api, source: { path: '/x' }, watchedFrom, listQueries };
}

const obj = (name: string, rv: string): CachedObject => ({
  metadata: { namespace: 'ns', name, resourceVersion: rv },
});
const gone = (reason: string) => new KubeApiError(410, { code: 410, reason, message: 'too old' }, 'GET', '/x');

describe('the reflector behind ResourceCache', () => {
  test('watch events, bookmarks, and a 410 relist diffed against the store', async () => {
    const seen: string[] = [];
    let relisted!: () => void;
    const relistDone = new Promise<void>((ok) => {
      relisted = ok;
    });
    const { api, source, watchedFrom, listQueries } = scriptedApi(
      [
        { items: [obj('a', '1'), obj('b', '2')], metadata: { resourceVersion: '2' } },
        { items: [obj('a', '3'), obj('c', '5')], metadata: { resourceVersion: '6' } },
      ],
      [
        async (emit) => {
          emit({ type: 'MODIFIED', object: obj('a', '3') });
          emit({ type: 'BOOKMARK', object: obj('', '4') });
        }, // the server ends the watch: resume from the bookmark
        async (emit) => {
          emit({ type: 'ERROR', object: { code: 410, message: 'too old' } as never });
        },
        async () => relisted(),
      ],
    );
    const cache = new ResourceCache(api, 'things', [source], {
      add: (o) => seen.push(`add ${o.metadata?.name}@${o.metadata?.resourceVersion}`),
      update: (o) => seen.push(`update ${o.metadata?.name}@${o.metadata?.resourceVersion}`),
      delete: (o) => seen.push(`delete ${o.metadata?.name}`),
    });
    await cache.start();
    await relistDone;
    // a@3 unchanged at the relist raises nothing; b vanished while we were not watching; c is new.
    expect(seen).toEqual(['add a@1', 'add b@2', 'update a@3', 'add c@5', 'delete b']);
    expect(watchedFrom).toEqual(['2', '4', '6']);
    // Every list a consistent read of the latest, in pages: never "0", which the watch cache answers whole.
    expect(listQueries).toEqual([{ limit: DEFAULT_PAGE_SIZE }, { limit: DEFAULT_PAGE_SIZE }]);
    expect(cache.list('ns').map((o) => o.metadata?.name)).toEqual(['a', 'c']);
    expect(cache.get('ns', 'b')).toBeUndefined();
    await cache.stop();
  });

  test('a list in pages: the store is replaced once, after the last page', async () => {
    const seen: string[] = [];
    const pagesSeen: number[] = [];
    const { api, source, listQueries, watchedFrom } = scriptedApi(
      [
        { items: [obj('a', '1'), obj('b', '2')], metadata: { resourceVersion: '9', continue: 't1' } },
        { items: [obj('c', '3'), obj('d', '4')], metadata: { resourceVersion: '9', continue: 't2' } },
        { items: [obj('e', '5')], metadata: { resourceVersion: '9' } },
      ],
      [],
    );
    const cache = new ResourceCache(
      api,
      'things',
      [source],
      { add: (o) => seen.push(o.metadata?.name ?? '') },
      { pageSize: 2, onListPage: (_r, page, items) => pagesSeen.push(page * 10 + items) },
    );
    await cache.start();
    expect(listQueries).toEqual([{ limit: 2 }, { limit: 2, continue: 't1' }, { limit: 2, continue: 't2' }]);
    expect(pagesSeen).toEqual([12, 22, 31]);
    expect(seen).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(watchedFrom).toEqual(['9']);
    await cache.stop();
  });

  test('an expired continue token lists again from the first page, at the latest version', async () => {
    const seen: string[] = [];
    const { api, source, listQueries } = scriptedApi(
      [
        { items: [obj('a', '1'), obj('b', '2')], metadata: { resourceVersion: '9', continue: 't1' } },
        gone('Expired'),
        { items: [obj('a', '1'), obj('b', '2')], metadata: { resourceVersion: '12', continue: 't3' } },
        { items: [obj('x', '11')], metadata: { resourceVersion: '12' } },
      ],
      [],
    );
    const cache = new ResourceCache(
      api,
      'things',
      [source],
      { add: (o) => seen.push(o.metadata?.name ?? '') },
      { pageSize: 2 },
    );
    await cache.start();
    expect(listQueries).toEqual([
      { limit: 2 },
      { limit: 2, continue: 't1' },
      { limit: 2 },
      { limit: 2, continue: 't3' },
    ]);
    // Nothing of the abandoned first attempt reached the handlers twice or alone.
    expect(seen).toEqual(['a', 'b', 'x']);
    await cache.stop();
  });

  test('a list that failed (say, no answer in time) is tried again, in pages', async () => {
    const timeout = Object.assign(new Error('no answer from the API server within 30 s'), { name: 'TimeoutError' });
    const { api, source, listQueries } = scriptedApi(
      [timeout, { items: [obj('a', '1')], metadata: { resourceVersion: '1' } }],
      [],
    );
    const cache = new ResourceCache(api, 'things', [source], {}, { onWatchError: () => undefined });
    await cache.start();
    expect(listQueries).toEqual([{ limit: DEFAULT_PAGE_SIZE }, { limit: DEFAULT_PAGE_SIZE }]);
    expect(cache.list()).toHaveLength(1);
    await cache.stop();
  });

  test('the transform runs before the store: handlers and get() see its result, unchanged objects are not redone', async () => {
    const handled: CachedObject[] = [];
    let transforms = 0;
    let resumed!: () => void;
    const done = new Promise<void>((ok) => {
      resumed = ok;
    });
    const { api, source } = scriptedApi(
      [
        { items: [obj('a', '1')], metadata: { resourceVersion: '1' } },
        { items: [obj('a', '1'), obj('b', '2')], metadata: { resourceVersion: '2' } },
      ],
      [
        async (emit) => emit({ type: 'ERROR', object: { code: 410, message: 'too old' } as never }),
        async () => resumed(),
      ],
    );
    const cache = new ResourceCache(
      api,
      'things',
      [source],
      { add: (o) => handled.push(o), update: (o) => handled.push(o) },
      {
        transform: (o) => {
          transforms++;
          return { ...o, kind: 'Trimmed' };
        },
      },
    );
    await cache.start();
    await done;
    expect(handled.map((o) => `${o.metadata?.name}:${o.kind}`)).toEqual(['a:Trimmed', 'b:Trimmed']);
    expect(cache.get('ns', 'a')).toBe(handled[0]);
    // a@1 was already stored at the relist: kept as it was, not transformed again.
    expect(transforms).toBe(2);
    await cache.stop();
  });

  test("replaceStored swaps in the owner's new object, only on its condition, without events", async () => {
    const events: string[] = [];
    const { api, source } = scriptedApi([{ items: [obj('a', '1')], metadata: { resourceVersion: '1' } }], []);
    const cache = new ResourceCache(api, 'things', [source], {
      add: (o) => events.push(`add ${o.metadata?.name}`),
      update: (o) => events.push(`update ${o.metadata?.name}`),
    });
    await cache.start();
    const before = cache.get('ns', 'a')!;
    const at = (rv: string) => (stored: CachedObject) =>
      stored.metadata?.resourceVersion === rv
        ? { ...stored, metadata: { ...stored.metadata, resourceVersion: '2' } }
        : undefined;
    expect(cache.replaceStored('ns', 'a', at('7'))).toBe(false);
    expect(cache.get('ns', 'a')).toBe(before);
    expect(cache.replaceStored('ns', 'a', at('1'))).toBe(true);
    expect(cache.get('ns', 'a')?.metadata?.resourceVersion).toBe('2');
    expect(before.metadata?.resourceVersion).toBe('1');
    expect(cache.replaceStored('ns', 'missing', at('1'))).toBe(false);
    expect(events).toEqual(['add a']);
    await cache.stop();
  });

  test('a failing watch is reported with a growing backoff, and a watch ERROR that is not 410 too', async () => {
    const retries: number[] = [];
    const { api, source } = scriptedApi(
      [{ items: [], metadata: { resourceVersion: '1' } }],
      [
        async (emit) => emit({ type: 'ERROR', object: { code: 500, message: 'etcd' } as never }),
        async () => {
          throw Object.assign(new Error('connection reset'), { code: 'ECONNRESET' });
        },
      ],
    );
    const cache = new ResourceCache(
      api,
      'things',
      [source],
      {},
      { onWatchError: (_r, _e, retryInMs) => retries.push(retryInMs) },
    );
    await cache.start();
    const deadline = Date.now() + 5000;
    while (retries.length < 2 && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 50));
    expect(retries).toEqual([1000, 2000]);
    await cache.stop();
  });
});
