import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { PostgresServer } from '../../test/support/postgres-server.js';

const TICKS_PER_SECOND = 100; // Linux USER_HZ

/** Fields of /proc/<pid>/stat after the command name (which may contain spaces), numbered from 0 = state. */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/**
 * CPU seconds of every process of one PostgreSQL server: the postmaster, its live children (backends,
 * checkpointer, walwriter, autovacuum…) and its children that have exited (cutime/cstime: a backend's time
 * moves there when it ends, so logins that came and went are counted).
 */
export function serverCpuSeconds(server: PostgresServer): number {
  const postmaster = Number(readFileSync(join(server.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const own = statFields(postmaster);
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const f = statFields(Number(entry));
      if (Number(f[1]) === postmaster) ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // Exited between readdir and read: its time is in the postmaster's cutime now.
    }
  }
  return ticks / TICKS_PER_SECOND;
}

/** Samples, every second, how many server sessions a role holds (client backends in pg_stat_activity). */
export class SessionSampler {
  private readonly samples: number[] = [];
  private readonly client: pg.Client;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    server: PostgresServer,
    private readonly role: string,
  ) {
    this.client = new pg.Client({
      host: server.host,
      port: server.port,
      user: server.superuser,
      password: server.superuserPassword,
      database: 'postgres',
    });
    this.client.on('error', () => undefined);
  }

  async start(): Promise<void> {
    await this.client.connect();
    this.timer = setInterval(() => void this.sample().catch(() => undefined), 1000);
  }

  private async sample(): Promise<void> {
    const { rows } = await this.client.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND usename = $1",
      [this.role],
    );
    this.samples.push(rows[0].n as number);
  }

  /** Median and largest count since the last call. */
  window(): { median: number; max: number } {
    const sorted = this.samples.splice(0).sort((a, b) => a - b);
    return { median: sorted[Math.floor(sorted.length / 2)] ?? 0, max: sorted.at(-1) ?? 0 };
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.client.end().catch(() => undefined);
  }
}
