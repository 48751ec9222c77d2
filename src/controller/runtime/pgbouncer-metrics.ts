import { Gauge, type Registry } from 'prom-client';
import type { PgbouncerResult } from '../../api/index.js';

type PoolLabels = { namespace: string; name: string; database: string; user: string };
type MonitorLabels = { namespace: string; name: string };

const POOL_LABELS = ['namespace', 'name', 'database', 'user'] as const;
const MONITOR_LABELS = ['namespace', 'name'] as const;
const CLIENT_STATES = ['active', 'waiting'] as const;
const SERVER_STATES = ['active', 'idle', 'used', 'other'] as const;

/**
 * PgBouncer's pools as a monitor last read them (spec.checks.pgbouncer), one series set per pool
 * (database, user). Pools come and go, so the label sets written per monitor are remembered and removed
 * when the next read no longer has them.
 */
export class PgbouncerMetrics {
  private readonly up: Gauge<(typeof MONITOR_LABELS)[number]>;
  private readonly clientConnections: Gauge<(typeof MONITOR_LABELS)[number]>;
  private readonly maxClientConnections: Gauge<(typeof MONITOR_LABELS)[number]>;
  private readonly clients: Gauge<(typeof POOL_LABELS)[number] | 'state'>;
  private readonly servers: Gauge<(typeof POOL_LABELS)[number] | 'state'>;
  private readonly poolSize: Gauge<(typeof POOL_LABELS)[number]>;
  private readonly maxWait: Gauge<(typeof POOL_LABELS)[number]>;
  private readonly paused: Gauge<(typeof POOL_LABELS)[number]>;
  private readonly written = new Map<string, PoolLabels[]>();

  constructor(registry: Registry) {
    const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
      new Gauge<L>({ name, help, labelNames: [...labelNames], registers: [registry] });
    this.up = gauge('dbwatch_pgbouncer_up', "1 when the last check read PgBouncer's admin console", MONITOR_LABELS);
    this.clientConnections = gauge(
      'dbwatch_pgbouncer_client_connections',
      'Client connections PgBouncer holds, all databases (SHOW LISTS used_clients)',
      MONITOR_LABELS,
    );
    this.maxClientConnections = gauge(
      'dbwatch_pgbouncer_max_client_connections',
      "PgBouncer's max_client_conn",
      MONITOR_LABELS,
    );
    this.clients = gauge('dbwatch_pgbouncer_clients', 'Clients of a pool by state (cl_active, cl_waiting)', [
      ...POOL_LABELS,
      'state',
    ]);
    this.servers = gauge('dbwatch_pgbouncer_servers', 'Server connections of a pool by state', [
      ...POOL_LABELS,
      'state',
    ]);
    this.poolSize = gauge('dbwatch_pgbouncer_pool_size', 'Server connections a pool may open', POOL_LABELS);
    this.maxWait = gauge(
      'dbwatch_pgbouncer_max_wait_seconds',
      'How long the oldest waiting client of a pool has waited',
      POOL_LABELS,
    );
    this.paused = gauge('dbwatch_pgbouncer_paused', "1 while the pool's database is paused (PAUSE)", POOL_LABELS);
  }

  record(namespace: string, name: string, result: PgbouncerResult | undefined): void {
    const key = `${namespace}/${name}`;
    const monitor: MonitorLabels = { namespace, name };
    if (!result) {
      this.forget(namespace, name);
      return;
    }
    this.up.set(monitor, result.poolHealth === undefined ? 0 : 1);
    this.setOrRemove(this.clientConnections, monitor, result.clientConnections);
    this.setOrRemove(this.maxClientConnections, monitor, result.maxClientConnections);
    const now: PoolLabels[] = [];
    for (const pool of result.pools) {
      const labels: PoolLabels = { namespace, name, database: pool.database, user: pool.user };
      now.push(labels);
      this.clients.set({ ...labels, state: 'active' }, pool.clientsActive);
      this.clients.set({ ...labels, state: 'waiting' }, pool.clientsWaiting);
      this.servers.set({ ...labels, state: 'active' }, pool.serversActive);
      this.servers.set({ ...labels, state: 'idle' }, pool.serversIdle);
      this.servers.set({ ...labels, state: 'used' }, pool.serversUsed);
      this.servers.set({ ...labels, state: 'other' }, pool.serversOther);
      this.setOrRemove(this.poolSize, labels, pool.poolSize);
      this.maxWait.set(labels, pool.maxWaitMs / 1000);
      this.paused.set(labels, pool.paused ? 1 : 0);
    }
    const gone = (this.written.get(key) ?? []).filter(
      (old) => !now.some((l) => l.database === old.database && l.user === old.user),
    );
    for (const labels of gone) this.removePool(labels);
    this.written.set(key, now);
  }

  forget(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    for (const labels of this.written.get(key) ?? []) this.removePool(labels);
    this.written.delete(key);
    for (const gauge of [this.up, this.clientConnections, this.maxClientConnections]) gauge.remove({ namespace, name });
  }

  private removePool(labels: PoolLabels): void {
    for (const state of CLIENT_STATES) this.clients.remove({ ...labels, state });
    for (const state of SERVER_STATES) this.servers.remove({ ...labels, state });
    for (const gauge of [this.poolSize, this.maxWait, this.paused]) gauge.remove(labels);
  }

  private setOrRemove<L extends string>(
    gauge: Gauge<L>,
    labels: Partial<Record<L, string>>,
    value: number | undefined,
  ) {
    if (value === undefined) gauge.remove(labels);
    else gauge.set(labels, value);
  }
}
