import type { ConnectionConfig, DatabaseEngine } from '../engine.js';
import { createMssqlEngine } from './mssql.js';
import { createPostgresEngine } from './postgres.js';

/** The one place that maps an engine name to its driver. */
export function createEngine(config: ConnectionConfig, options?: { poolSize?: number }): DatabaseEngine {
  switch (config.engine) {
    case 'postgres':
      return createPostgresEngine(config, options);
    case 'mssql':
      return createMssqlEngine(config, options);
  }
}
