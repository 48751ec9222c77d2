import type { EngineName } from '../../api/index.js';
import type { ConnectionConfig, DatabaseEngine, EngineFactory, EngineOptions } from '../engine.js';

/**
 * An engine whose driver module is imported on first use. The mssql driver (tedious, msal, js-joda) adds
 * about 33 MiB to the process when imported; a fleet without SQL Server never pays it.
 */
export function lazyEngine(
  name: EngineName,
  load: () => Promise<EngineFactory>,
  classifyError: DatabaseEngine['classifyError'],
  config: ConnectionConfig,
  options?: EngineOptions,
): DatabaseEngine {
  let engine: DatabaseEngine | undefined;
  let loading: Promise<DatabaseEngine> | undefined;
  const get = () => {
    loading ??= load().then((factory) => {
      engine = factory(config, options);
      return engine;
    });
    return loading;
  };
  return {
    name,
    ping: async (timeoutMs) => (await get()).ping(timeoutMs),
    connectOnce: async (timeoutMs) => (await get()).connectOnce(timeoutMs),
    freshLogin: async (timeoutMs) => (await get()).freshLogin(timeoutMs),
    openTestSession: async (timeoutMs) => (await get()).openTestSession(timeoutMs),
    serverConnections: async (timeoutMs) => (await get()).serverConnections(timeoutMs),
    databaseInfo: async (timeoutMs) => (await get()).databaseInfo(timeoutMs),
    tableExists: async (ref, timeoutMs) => (await get()).tableExists(ref, timeoutMs),
    selectColumns: async (ref, columns, timeoutMs) => (await get()).selectColumns(ref, columns, timeoutMs),
    probeTls: async (timeoutMs) => (await get()).probeTls(timeoutMs),
    poolStats: () => engine?.poolStats() ?? { size: options?.poolSize ?? 0, checkedOut: 0, idle: 0, waiting: 0 },
    classifyError: (error) => (engine ?? { classifyError }).classifyError(error),
    // A driver that failed to load has nothing to close (and close must not reject: callers fire and forget).
    close: async () => {
      const loaded = await loading?.catch(() => undefined);
      await loaded?.close();
    },
  };
}
