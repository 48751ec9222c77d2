import type { DatabaseEngine } from '../../src/checks/index.js';

/** An engine that answers like a healthy database, for unit tests of the reconcilers' decisions (no I/O). */
export function healthyEngine(): DatabaseEngine & { closed: boolean; pings: number; logins: number } {
  return {
    name: 'postgres',
    closed: false,
    pings: 0,
    logins: 0,
    ping: async function () {
      this.pings++;
    },
    connectOnce: async () => undefined,
    freshLogin: async function () {
      this.logins++;
      return 1;
    },
    openTestSession: async () => ({ run: async () => 1, close: async () => undefined }),
    serverConnections: async () => ({
      active: 1,
      idle: 1,
      idleInTransaction: 0,
      other: 0,
      total: 2,
      maxUsable: 100,
      utilizationPercent: 2,
      visibility: 'full',
    }),
    // A pool holds its session from the first ping on (until then the probe's connect is a login).
    poolStats: function () {
      return { size: 2, checkedOut: 0, idle: this.pings > 0 ? 1 : 0, waiting: 0 };
    },
    databaseInfo: async () => ({ version: '16', state: 'ONLINE', readOnly: false }),
    tableExists: async () => false,
    selectColumns: async () => [],
    probeTls: async () => 'TLS disabled',
    classifyError: (e) => ({ stage: 'query', cause: 'QueryFailed', message: String(e) }),
    async close() {
      this.closed = true;
    },
  };
}
