import { beforeAll, describe, expect, test } from '@jest/globals';
import { checkCommand } from '../../../src/cli/check-command.js';
import { freePort } from '../../support/free-port.js';
import { writeManifests } from '../../support/manifests.js';
import { adminUrl, createDatabase, secretData } from '../../support/pg-fixtures.js';
import { runMonitor } from '../../support/run-monitor.js';

let db: Awaited<ReturnType<typeof createDatabase>>;
beforeAll(async () => {
  db = await createDatabase();
});

describe('the password never appears in results, errors or output', () => {
  test('in every failure scenario the serialized result holds no secret', async () => {
    const secret = secretData(db);
    const scenarios = [
      secret,
      { ...secret, password: db.password.split('').reverse().join('') },
      { ...secret, database: 'missing_db' },
      { ...secret, host: 'no-such-host.invalid' },
      { ...secret, port: String(await freePort()) },
      {
        url: `postgres://${db.username}:${encodeURIComponent(db.password)}@${adminUrl().hostname}:${adminUrl().port}/${db.database}`,
      },
    ];
    for (const data of scenarios) {
      const report = await runMonitor(data, {
        checks: {
          migrations: { tool: 'flyway' },
          performance: { queries: [{ name: 'echo', sql: `SELECT '${data.password ?? ''}x'::int` }], iterations: 1 },
        },
      });
      const text = JSON.stringify(report);
      expect(text).not.toContain(db.password);
      expect(text).not.toContain(encodeURIComponent(db.password));
    }
  });

  test('the CLI prints neither the password nor the URL holding it, in any format', async () => {
    const url = `postgres://${db.username}:${encodeURIComponent(db.password)}@${adminUrl().hostname}:${adminUrl().port}/nope`;
    const dir = writeManifests({ secret: { url }, monitor: {} });
    for (const output of ['table', 'json', 'yaml'] as const) {
      let printed = '';
      const code = await checkCommand({
        files: [dir],
        output,
        write: (t) => (printed += t),
        writeError: (t) => (printed += t),
      });
      expect(code).toBe(2);
      expect(printed).toMatch(/nope/);
      expect(printed).not.toContain(db.password);
      expect(printed).not.toContain(encodeURIComponent(db.password));
    }
  });

  test('a malformed URL is reported by key name without echoing it', async () => {
    const dir = writeManifests({ secret: { url: `postgres://u:${db.password}@[bad` }, monitor: {} });
    let errors = '';
    const code = await checkCommand({
      files: [dir],
      output: 'table',
      write: () => undefined,
      writeError: (t) => (errors += t),
    });
    expect(code).toBe(3);
    expect(errors).toMatch(/Secret db key url: not a valid URL/);
    expect(errors).not.toContain(db.password);
  });
});
