import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { load } from 'js-yaml';

/*
 * The shipped alert rules, checked and unit-tested by Prometheus's own promtool (Debian package `prometheus`,
 * installed by hack/ensure-system-packages.sh): syntax, then each alert's firing time, labels and annotations
 * against synthetic series in deploy/prometheus/dbwatch-rules.test.yaml.
 */

interface RuleFile {
  groups: { rules: { alert?: string; record?: string }[] }[];
}
interface RuleTests {
  tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
}

const promtool = (args: string[]) =>
  spawnSync('promtool', args, { cwd: 'deploy/prometheus', encoding: 'utf8', timeout: 120_000 });

describe('the alert rules (deploy/prometheus/dbwatch-rules.yaml)', () => {
  test('are valid Prometheus rules', () => {
    const checked = promtool(['check', 'rules', 'dbwatch-rules.yaml']);
    expect(checked.stderr).toBe('');
    expect(checked.stdout).toMatch(/SUCCESS: \d+ rules found/);
    expect(checked.status).toBe(0);
  });

  test('fire when and only when their promtool unit tests say (database, SLO burn rate, operator)', () => {
    const tested = promtool(['test', 'rules', 'dbwatch-rules.test.yaml']);
    expect(`${tested.stdout}${tested.stderr}`).toMatch(/SUCCESS/);
    expect(tested.status).toBe(0);
  });

  test('alert on every condition the chart promises, and each alert has a promtool test', () => {
    const rules = load(readFileSync('deploy/prometheus/dbwatch-rules.yaml', 'utf8')) as RuleFile;
    const tests = load(readFileSync('deploy/prometheus/dbwatch-rules.test.yaml', 'utf8')) as RuleTests;
    const alerts = rules.groups.flatMap((g) => g.rules.flatMap((r) => (r.alert ? [r.alert] : [])));
    expect(alerts).toEqual([
      'DbwatchDatabaseDown',
      'DbwatchDatabaseDegraded',
      'DbwatchConnectionUtilizationHigh',
      'DbwatchPgBouncerClientsWaiting',
      'DbwatchMigrationsPending',
      'DbwatchMigrationsFailed',
      'DbwatchErrorBudgetBurningFast',
      'DbwatchErrorBudgetBurningSlow',
      'DbwatchOperatorDown',
      'DbwatchOperatorNotLeading',
      'DbwatchReconcileErrors',
      'DbwatchWatchErrors',
      'DbwatchOperatorMemoryNearLimit',
      'DbwatchNoRecentChecks',
    ]);
    // An alert tested only with "nothing fires" proves little: each one must be seen firing.
    const seenFiring = new Set(
      tests.tests.flatMap((t) =>
        (t.alert_rule_test ?? []).filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname),
      ),
    );
    expect(alerts.filter((a) => !seenFiring.has(a))).toEqual([]);
  });
});
