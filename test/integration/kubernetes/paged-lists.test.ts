import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { connectKube, type KubeApi } from '../../../src/controller/k8s/client.js';
import { listAllPages } from '../../../src/controller/k8s/list-pager.js';
import { ResourceCache } from '../../../src/controller/k8s/resource-cache.js';
import { secretMetadataSource } from '../../../src/controller/k8s/sources.js';
import { compactEtcd, restartApiServer } from '../../support/control-plane.js';
import { adminKubeconfigPath, freshNamespace } from '../../support/kube.js';
import { eventually } from '../../support/operator.js';

/**
 * Lists in pages (limit + continue) on the real API server, as the reflector makes them: every list is a
 * consistent read in pages (resourceVersion=0 would come whole from the watch cache, ignoring the limit), and a
 * continue token that expired mid-list starts the list again from its first page.
 */
const METADATA_LIST = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';
let api: KubeApi;
let ns: string;
let churnNs: string;

async function createSecrets(namespace: string, names: string[]): Promise<void> {
  await Promise.all(
    names.map((name) =>
      api.request('POST', `/api/v1/namespaces/${namespace}/secrets`, {
        body: { metadata: { name }, stringData: { k: 'v' } },
      }),
    ),
  );
}

/**
 * What a long list meets after ~5 min: etcd compacted past the version the first page pinned, and no snapshot of
 * it left in the watch cache (a restarted kube-apiserver starts its cache afresh), so the continue token is gone.
 */
async function expireContinueTokens(): Promise<void> {
  await api.request('POST', `/api/v1/namespaces/${churnNs}/secrets`, {
    body: { metadata: { generateName: 'moves-the-revision-' }, stringData: { k: 'v' } },
  });
  await compactEtcd(process.env.DBWATCH_TEST_CP_DIR!);
  await restartApiServer(process.env.DBWATCH_TEST_CP_DIR!);
}

beforeAll(async () => {
  api = await connectKube({ kubeconfig: adminKubeconfigPath() });
  ns = await freshNamespace('paged');
  churnNs = await freshNamespace('churn');
  await createSecrets(
    ns,
    Array.from({ length: 25 }, (_, i) => `s-${String(i).padStart(2, '0')}`),
  );
});
afterAll(() => api.close());

describe('paged lists', () => {
  test('a consistent list comes in pages of the limit', async () => {
    const pages: number[] = [];
    const listed = await listAllPages(api, `/api/v1/namespaces/${ns}/secrets`, {
      resourceVersion: '',
      accept: METADATA_LIST,
      pageSize: 10,
      map: (s: { metadata: { name: string } }) => s.metadata.name,
      onPage: (_page, items) => {
        pages.push(items);
      },
    });
    process.stdout.write(`consistent list of 25 Secrets at limit 10: pages ${JSON.stringify(pages)}\n`);
    expect(pages).toEqual([10, 10, 5]);
    expect(listed.items).toHaveLength(25);
    expect(new Set(listed.items).size).toBe(25);
  });

  test('resourceVersion=0 is answered whole from the watch cache, whatever the limit (why the reflector never asks for it)', async () => {
    const pages: number[] = [];
    await listAllPages(api, `/api/v1/namespaces/${ns}/secrets`, {
      resourceVersion: '0',
      accept: METADATA_LIST,
      pageSize: 10,
      map: (s: { metadata: { name: string } }) => s.metadata.name,
      onPage: (_page, items) => {
        pages.push(items);
      },
    });
    expect(pages).toEqual([25]);
  });

  test('an expired continue token: the list starts again from its first page and is whole', async () => {
    const pages: number[] = [];
    let expired = false;

    const listed = await listAllPages(api, `/api/v1/namespaces/${ns}/secrets`, {
      resourceVersion: '',
      accept: METADATA_LIST,
      pageSize: 10,
      map: (s: { metadata: { name: string } }) => s.metadata.name,
      onPage: async (_page, items) => {
        pages.push(items);
        if (!expired) {
          expired = true;
          await expireContinueTokens();
        }
      },
    });
    process.stdout.write(
      `continue token expired after page 1: ${listed.restarts} restart, pages ${JSON.stringify(pages)} (the last ${listed.pages} whole)\n`,
    );
    expect(listed.restarts).toBe(1);
    expect(pages).toEqual([10, 10, 10, 5]);
    expect(listed.items.sort()).toEqual(Array.from({ length: 25 }, (_, i) => `s-${String(i).padStart(2, '0')}`));
  }, 60_000);

  test('the reflector lists in pages, the first list and the one after a 410 alike', async () => {
    const lists: { page: number; items: number }[][] = [];
    const cache = new ResourceCache<{ metadata?: { name?: string } }>(
      api,
      'secrets',
      [secretMetadataSource(ns)],
      {},
      {
        pageSize: 10,
        onListPage: (_r, page, items) => {
          if (page === 1) lists.push([]);
          lists.at(-1)!.push({ page, items });
        },
      },
    );
    try {
      await cache.start();
      // The latest version in pages (never resourceVersion=0, which the watch cache answers whole).
      expect(lists).toEqual([
        [
          { page: 1, items: 10 },
          { page: 2, items: 10 },
          { page: 3, items: 5 },
        ],
      ]);
      expect(cache.list(ns)).toHaveLength(25);

      // The watch cannot resume after a restart (its version is older than the new watch cache, and compacted):
      // 410, and the cache lists again, in pages.
      await createSecrets(ns, ['s-25']);
      await eventually('s-25 watched', async () => (cache.get(ns, 's-25') ? true : undefined), 10_000, 50);
      await createSecrets(churnNs, ['moves-the-revision']);
      await compactEtcd(process.env.DBWATCH_TEST_CP_DIR!);
      await restartApiServer(process.env.DBWATCH_TEST_CP_DIR!);
      const total = (list: { items: number }[] | undefined) => (list ?? []).reduce((n, p) => n + p.items, 0);
      await eventually('relisted', async () => (total(lists[1]) === 26 ? true : undefined), 40_000, 100);
      process.stdout.write(
        `reflector lists (page sizes): ${JSON.stringify(lists.map((l) => l.map((p) => p.items)))}\n`,
      );
      expect(lists[1]!.map((p) => p.items)).toEqual([10, 10, 6]);
      expect(cache.list(ns)).toHaveLength(26);
    } finally {
      await cache.stop();
    }
  }, 90_000);
});
