import type { ConnectionConfig, DatabaseEngine, EngineOptions } from '../engine.js';
import { lazyEngine } from './lazy-engine.js';
import { classifyMssqlError } from './mssql-errors.js';
import { createPostgresEngine } from './postgres.js';

/** The one place that maps an engine name to its driver. SQL Server's is loaded only when first needed. */
export function createEngine(config: ConnectionConfig, options?: EngineOptions): DatabaseEngine {
  switch (config.engine) {
    case 'postgres':
      return createPostgresEngine(config, options);
    case 'mssql':
      return lazyEngine(
        'mssql',
        async () => (await import('./mssql.js')).createMssqlEngine,
        classifyMssqlError,
        config,
        options,
      );
  }
}
