import * as k8s from '@kubernetes/client-node';

/** Creates and inspects the benchmark's DatabaseMonitors through the API server (as admin). */
export class Fleet {
  private readonly core: k8s.CoreV1Api;
  private readonly objects: k8s.CustomObjectsApi;

  constructor(kubeconfig: string) {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kubeconfig);
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.objects = kc.makeApiClient(k8s.CustomObjectsApi);
  }

  async createNamespaces(names: string[]): Promise<void> {
    for (const name of names) await this.core.createNamespace({ body: { metadata: { name } } });
  }

  async createSecret(namespace: string, name: string, data: Record<string, string>): Promise<void> {
    await this.core.createNamespacedSecret({ namespace, body: { metadata: { name, namespace }, stringData: data } });
  }

  /**
   * Creates monitors `parallel` at a time (the API server, not the client, is the limit here). `extra`: more
   * of the spec (connection settings besides the Secret, checks), and a status to start from (a history).
   */
  async createMonitors(
    monitors: { namespace: string; name: string; secret: string }[],
    interval: string,
    parallel = 16,
    extra: { connection?: object; checks?: object; status?: object } = {},
  ): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < monitors.length) {
        const m = monitors[next++]!;
        const created = await this.objects.createNamespacedCustomObject({
          group: 'dbwatch.dev',
          version: 'v1alpha1',
          namespace: m.namespace,
          plural: 'databasemonitors',
          body: {
            apiVersion: 'dbwatch.dev/v1alpha1',
            kind: 'DatabaseMonitor',
            metadata: { name: m.name, namespace: m.namespace },
            spec: {
              engine: 'postgres',
              connection: { secretRef: { name: m.secret }, ...extra.connection },
              interval,
              ...(extra.checks ? { checks: extra.checks } : {}),
            },
          },
        });
        if (extra.status)
          await this.objects.replaceNamespacedCustomObjectStatus({
            group: 'dbwatch.dev',
            version: 'v1alpha1',
            namespace: m.namespace,
            plural: 'databasemonitors',
            name: m.name,
            body: { ...(created as object), status: extra.status },
          });
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
  }

  async deleteMonitors(monitors: { namespace: string; name: string }[], parallel = 16): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < monitors.length) {
        const m = monitors[next++]!;
        await this.objects.deleteNamespacedCustomObject({
          group: 'dbwatch.dev',
          version: 'v1alpha1',
          namespace: m.namespace,
          plural: 'databasemonitors',
          name: m.name,
        });
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
  }

  /** Monitors that have a status (a health status from a finished check), in one namespace or all. */
  async withStatus(namespace?: string): Promise<number> {
    const which = { group: 'dbwatch.dev', version: 'v1alpha1', plural: 'databasemonitors' };
    const list = (await (namespace
      ? this.objects.listNamespacedCustomObject({ ...which, namespace })
      : this.objects.listClusterCustomObject(which))) as { items: { status?: { status?: string } }[] };
    return list.items.filter((m) => m.status?.status !== undefined).length;
  }

  /** How many monitors report each status (healthy, degraded, unhealthy, none), in one namespace or all. */
  async statusCounts(namespace?: string): Promise<Record<string, number>> {
    const which = { group: 'dbwatch.dev', version: 'v1alpha1', plural: 'databasemonitors' };
    const list = (await (namespace
      ? this.objects.listNamespacedCustomObject({ ...which, namespace })
      : this.objects.listClusterCustomObject(which))) as { items: { status?: { status?: string } }[] };
    const counts: Record<string, number> = {};
    for (const m of list.items) counts[m.status?.status ?? 'none'] = (counts[m.status?.status ?? 'none'] ?? 0) + 1;
    return counts;
  }

  /** Every monitor's status.shard (the replica that wrote its status), by namespace/name; read in pages. */
  async shards(): Promise<Map<string, string | undefined>> {
    const which = { group: 'dbwatch.dev', version: 'v1alpha1', plural: 'databasemonitors' };
    const out = new Map<string, string | undefined>();
    let next: string | undefined;
    do {
      const page = (await this.objects.listClusterCustomObject({
        ...which,
        limit: 2000,
        ...(next ? { _continue: next } : {}),
      })) as {
        items: { metadata: { namespace: string; name: string }; status?: { shard?: string } }[];
        metadata?: { continue?: string };
      };
      for (const m of page.items) out.set(`${m.metadata.namespace}/${m.metadata.name}`, m.status?.shard);
      next = page.metadata?.continue || undefined;
    } while (next);
    return out;
  }

  /** One monitor's status as the API server has it. */
  async status(namespace: string, name: string): Promise<Record<string, unknown> | undefined> {
    const which = { group: 'dbwatch.dev', version: 'v1alpha1', plural: 'databasemonitors' };
    const monitor = (await this.objects.getNamespacedCustomObject({ ...which, namespace, name })) as {
      status?: Record<string, unknown>;
    };
    return monitor.status;
  }

  /** Events dbwatch has recorded so far, over all namespaces (nothing deletes them within the run). */
  async eventCount(): Promise<number> {
    const events = await this.core.listEventForAllNamespaces();
    return events.items.filter((e) => e.reportingComponent === 'dbwatch.dev/operator').length;
  }
}
