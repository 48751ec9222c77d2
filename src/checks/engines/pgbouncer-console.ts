import type { ConnectionConfig } from '../engine.js';
import { withTimeout } from '../timeout.js';
import { endClient, newClient } from './postgres-session.js';

/** What PgBouncer's admin console says, as its SHOW commands return it (columns vary by version). */
export interface PgbouncerConsoleData {
  version?: string;
  pools: Record<string, unknown>[];
  databases: Record<string, unknown>[];
  config: Map<string, string>;
  lists: Map<string, number>;
}

/**
 * Reads PgBouncer's admin console on a connection of its own (the console speaks only the simple query
 * protocol and takes no SET, so none of dbwatch's statement guards apply; SHOW changes nothing). The whole
 * read, connecting included, is bounded by `timeoutMs`.
 */
export async function readPgbouncerConsole(config: ConnectionConfig, timeoutMs: number): Promise<PgbouncerConsoleData> {
  const client = newClient(config, timeoutMs);
  const read = async (): Promise<PgbouncerConsoleData> => {
    await client.connect();
    const show = async (what: string) => (await client.query<Record<string, unknown>>(`SHOW ${what}`)).rows;
    const version = (await show('VERSION'))[0];
    const pools = await show('POOLS');
    const databases = await show('DATABASES');
    const config = new Map((await show('CONFIG')).map((r) => [String(r.key), String(r.value)] as const));
    const lists = new Map((await show('LISTS')).map((r) => [String(r.list), Number(r.items)] as const));
    return {
      version: version ? String(Object.values(version)[0]).replace(/^PgBouncer\s+/i, '') : undefined,
      pools,
      databases,
      config,
      lists,
    };
  };
  try {
    return await withTimeout(read(), timeoutMs, "reading PgBouncer's admin console");
  } finally {
    await endClient(client);
  }
}
