import { createHash } from 'node:crypto';
import type { ConnectionConfig, DatabaseEngine, EngineFactory } from '../../checks/index.js';

/**
 * One small connection pool per monitor, re-created when the resolved connection (spec or Secret)
 * changes and closed when the monitor goes away. Only a hash of the config is kept for comparison.
 */
/** A hash of a resolved connection, for noticing changes without keeping the password. */
export const connectionFingerprint = (config: ConnectionConfig) =>
  createHash('sha256').update(JSON.stringify(config)).digest('hex');

/** A check's engine was closed while the check ran: what it reported is the closed pool's, not the database's. */
export class EngineClosedDuringCheck extends Error {
  constructor(key: string) {
    super(`the connection pool of ${key} was closed while it was checked`);
  }
}

export class EnginePool {
  /** Per key: the connection last used; its engine until closed or released (PerCheck releases after each check). */
  private readonly engines = new Map<
    string,
    { fingerprint: string; idleTimeoutMs?: number; engine?: DatabaseEngine }
  >();

  constructor(
    private readonly factory: EngineFactory,
    private readonly poolSize = 2,
  ) {}

  /** `idleTimeoutMs`: how long its session may wait for the next check (Reuse: an interval and a timeout). */
  get(key: string, config: ConnectionConfig, idleTimeoutMs?: number): DatabaseEngine {
    const fingerprint = connectionFingerprint(config);
    const existing = this.engines.get(key);
    // A new idle limit (the interval changed) needs a new pool: the old one would close the session too early.
    if (existing?.engine && existing.fingerprint === fingerprint && existing.idleTimeoutMs === idleTimeoutMs)
      return existing.engine;
    void existing?.engine?.close();
    // The key (namespace/name) labels the engine's statements: a DBA finds a monitor's queries by it.
    const engine = this.factory(config, {
      poolSize: this.poolSize,
      label: key,
      ...(idleTimeoutMs ? { idleTimeoutMs } : {}),
    });
    this.engines.set(key, { fingerprint, engine, ...(idleTimeoutMs ? { idleTimeoutMs } : {}) });
    return engine;
  }

  /** The fingerprint of the connection a key last used (released or not); undefined once closed or never used. */
  fingerprint(key: string): string | undefined {
    return this.engines.get(key)?.fingerprint;
  }

  /** Whether `engine` is still the key's: false once it was closed or replaced (e.g. while a check used it). */
  holds(key: string, engine: DatabaseEngine): boolean {
    return this.engines.get(key)?.engine === engine;
  }

  /** A throwaway engine for diagnostics and other fresh-connection work. */
  fresh(config: ConnectionConfig, key?: string): DatabaseEngine {
    return this.factory(config, { poolSize: 1, ...(key ? { label: key } : {}) });
  }

  /** The key is done with (deleted, suspended, another replica's): its engine closed and its connection forgotten. */
  async close(key: string): Promise<void> {
    const existing = this.engines.get(key);
    this.engines.delete(key);
    await existing?.engine?.close();
  }

  /** The engine closed until the next check (PerCheck), the connection it used remembered: a change is still seen. */
  async release(key: string): Promise<void> {
    const existing = this.engines.get(key);
    const engine = existing?.engine;
    if (!existing || !engine) return;
    delete existing.engine;
    await engine.close();
  }

  async closeMatching(prefix: string): Promise<void> {
    await Promise.all([...this.engines.keys()].filter((k) => k.startsWith(prefix)).map((k) => this.close(k)));
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.engines.keys()].map((k) => this.close(k)));
  }
}
