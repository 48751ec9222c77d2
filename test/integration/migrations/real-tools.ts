import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MigrationStatus, MigrationsCheck } from '../../../src/api/index.js';
import { connectionConfig, createDatabase, secretData } from '../../support/pg-fixtures.js';
import { runMonitor } from '../../support/run-monitor.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../../..');
export const hackDir = join(repo, 'hack');

/** A cold install (go install, Maven, pip) takes minutes on 2 cores: beforeAll gets this long. */
export const INSTALL_TIMEOUT_MS = 15 * 60_000;

/**
 * Installs one real tool through hack/install-migration-tools.sh (cached outside the repo by version) and
 * returns its version and directory. Throws with the installer's own error when the tool cannot be had.
 */
export function installTool(tool: string): { version: string; dir: string } {
  const out = execFileSync(join(hackDir, 'install-migration-tools.sh'), [tool], {
    encoding: 'utf8',
    timeout: INSTALL_TIMEOUT_MS - 30_000,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [, version, dir] = (out.trim().split('\n').at(-1) ?? '').split(' ');
  if (!version || !dir)
    throw new Error(`install-migration-tools.sh ${tool} printed no "<tool> <version> <dir>": ${out}`);
  return { version, dir };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a tool's command with a bound on its time; the result, whatever the exit code. */
export function run(cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): RunResult {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    timeout: 120_000,
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Like run, but a non-zero exit is an error that shows the tool's output. */
export function runOk(cmd: string, args: string[], options: Parameters<typeof run>[2] = {}): string {
  const r = run(cmd, args, options);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

export type Database = Awaited<ReturnType<typeof createDatabase>>;

/** A fresh database and role for one history. */
export const freshDatabase = () => createDatabase();

export function pgParams(db: Database) {
  const { host, port } = connectionConfig(db);
  return { host, port, database: db.database, user: db.username, password: db.password };
}

export function pgUrl(db: Database, query = '') {
  const p = pgParams(db);
  return `postgres://${p.user}:${encodeURIComponent(p.password)}@${p.host}:${p.port}/${p.database}${query}`;
}

/** A scratch directory holding the given files (relative paths), removed by the returned cleanup. */
export function scratch(files: Record<string, string> = {}): {
  dir: string;
  write(files: Record<string, string>): void;
  remove(): void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'dbwatch-mig-'));
  const write = (more: Record<string, string>) => {
    for (const [name, content] of Object.entries(more)) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), content);
    }
  };
  write(files);
  return { dir, write, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** dbwatch's answer, the way `dbwatch check` computes it. */
export async function dbwatchStatus(db: Database, migrations: Partial<MigrationsCheck>): Promise<MigrationStatus> {
  const report = await runMonitor(secretData(db), { checks: { migrations } });
  const status = report.health.migrationStatus;
  if (!status) throw new Error(`no migration status: ${JSON.stringify(report.health)}`);
  if (status.error) throw new Error(`dbwatch could not read the table: ${status.error}`);
  return status;
}
