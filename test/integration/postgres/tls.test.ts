import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { databaseMonitorSpecSchema } from '../../../src/api/index.js';
import {
  checkMonitorOnce,
  createEngine,
  Deadline,
  diagnoseConnectivity,
  errorMessage,
  resolveMonitorConnection,
} from '../../../src/checks/index.js';
import { createPki } from '../../support/pki.js';
import { type PostgresServer, startPostgres } from '../../support/postgres-server.js';

let server: PostgresServer;
let ca: string;
let otherCa: string;
const dirs: string[] = [];

beforeAll(async () => {
  const pki = mkdtempSync(join(tmpdir(), 'dbwatch-pg-tls-'));
  dirs.push(pki);
  createPki(pki);
  ca = readFileSync(join(pki, 'ca.crt'), 'utf8');
  const other = mkdtempSync(join(tmpdir(), 'dbwatch-other-ca-'));
  dirs.push(other);
  createPki(other);
  otherCa = readFileSync(join(other, 'ca.crt'), 'utf8');
  // The serving certificate is for 127.0.0.1 and localhost, signed by `ca`.
  server = await startPostgres({ tls: { cert: join(pki, 'serving.crt'), key: join(pki, 'serving.key') } });
});
afterAll(async () => {
  await server?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The monitor spec and resolved connection for these TLS settings, with the CA (if any) in Secret db-ca. */
function resolveFor(tls: Record<string, unknown>, caPem?: string) {
  const spec = databaseMonitorSpecSchema.parse({
    engine: 'postgres',
    connection: { secretRef: { name: 'db' }, tls },
    timeoutSeconds: 5,
  });
  const secrets: Record<string, Record<string, string>> = {
    db: {
      host: server.host,
      port: String(server.port),
      database: 'postgres',
      username: server.superuser,
      password: server.superuserPassword,
    },
    ...(caPem ? { 'db-ca': { 'ca.crt': caPem } } : {}),
  };
  const resolved = resolveMonitorConnection(spec, (name) => secrets[name]);
  if (!resolved.ok) throw new Error(resolved.message);
  return { spec, resolved };
}

async function run(tls: Record<string, unknown>, caPem?: string) {
  const { spec, resolved } = resolveFor(tls, caPem);
  return checkMonitorOnce(spec, resolved);
}

describe('TLS to a real PostgreSQL with ssl=on', () => {
  test('require encrypts without verifying', async () => {
    expect((await run({ mode: 'require' })).health.status).toBe('healthy');
  });

  test('verify-full with the right CA from its Secret', async () => {
    expect((await run({ mode: 'verify-full', caSecretRef: { name: 'db-ca' } }, ca)).health.status).toBe('healthy');
  });

  test('verify-full against a certificate from another CA fails at the TLS stage', async () => {
    const report = await run({ mode: 'verify-full', caSecretRef: { name: 'db-ca' } }, otherCa);
    expect(report.health).toMatchObject({ status: 'unhealthy', errorReason: 'TlsFailed' });
    expect(report.diagnostics?.connectivity.failedStage).toBe('tls');
    expect(report.diagnostics?.connectivity.stages.find((s) => s.name === 'tls')?.detail).toMatch(/certificate/);
    expect(report.diagnostics?.recommendations[0]).toMatch(/caSecretRef/);
  });

  test('diagnostics report the negotiated protocol when TLS works', async () => {
    const { resolved } = resolveFor({ mode: 'verify-full', caSecretRef: { name: 'db-ca' } }, ca);
    const result = await diagnoseConnectivity(
      resolved,
      () => createEngine(resolved.config, { poolSize: 1 }),
      new Deadline(5000),
      errorMessage,
    );
    expect(result.connectivity.connectionSuccessful).toBe(true);
    expect(result.connectivity.stages.find((s) => s.name === 'tls')?.detail).toMatch(
      /^TLSv1\.[23] negotiated \(verify-full\)$/,
    );
  });
});
