import { describe, expect, test } from '@jest/globals';
import { databasePrerequisiteSpecSchema } from '../../src/api/index.js';
import { inlineMonitorSpec } from '../../src/checks/index.js';

const connection = { secretRef: { name: 'db' } };

describe('inline prerequisite databases', () => {
  test('take checks.migrations like a monitor, and are checked with it', () => {
    const spec = databasePrerequisiteSpecSchema.parse({
      databases: [{ name: 'orders', engine: 'postgres', connection, checks: { migrations: { tool: 'flyway' } } }],
    });
    expect(inlineMonitorSpec(spec.databases[0]!).checks).toMatchObject({ migrations: { tool: 'flyway' } });
  });

  test('without checks they are checked without migrations (and pass on a healthy database)', () => {
    const spec = databasePrerequisiteSpecSchema.parse({
      databases: [{ name: 'orders', engine: 'postgres', connection }],
    });
    expect(spec.checkMigrations).toBe(true);
    expect(inlineMonitorSpec(spec.databases[0]!).checks.migrations).toBeUndefined();
  });

  test('checks are refused beside a monitorRef (the monitor has its own)', () => {
    const result = databasePrerequisiteSpecSchema.safeParse({
      databases: [{ name: 'orders', monitorRef: { name: 'orders' }, checks: { migrations: { tool: 'flyway' } } }],
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.message)).toContain(
      "checks go with an inline connection; a monitorRef uses its monitor's checks",
    );
  });
});
