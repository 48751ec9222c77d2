import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { controlPlaneBinaries } from '../../support/control-plane.js';
import { ensureCrds, freshNamespace, kubectl } from '../../support/kube.js';

let helm: string;
beforeAll(async () => {
  // Built by the integration project's global setup, before any test's timeout starts.
  helm = join(process.env.DBWATCH_TEST_BIN_DIR ?? controlPlaneBinaries(), 'helm');
  await ensureCrds();
});

const render = (args: string[] = []) =>
  execFileSync(helm, ['template', 'dbwatch', 'deploy/helm/dbwatch', ...args], { encoding: 'utf8' });

describe('the Helm chart', () => {
  test('lints', () => {
    expect(execFileSync(helm, ['lint', 'deploy/helm/dbwatch'], { encoding: 'utf8' })).toMatch(
      /1 chart\(s\) linted, 0 chart\(s\) failed/,
    );
  });

  test('renders objects the real API server accepts (server-side dry run)', async () => {
    const ns = await freshNamespace('helm');
    const [a, b] = [await freshNamespace('watched'), await freshNamespace('watched')];
    const manifests = render([
      '-n',
      ns,
      '--set',
      'metrics.serviceMonitor.enabled=false',
      '--set',
      `watchNamespaces={${a},${b}}`,
    ]);
    // Every namespaced object names its namespace (the Roles are in other namespaces): no -n here.
    const result = await kubectl(['apply', '--dry-run=server', '-f', '-'], { input: manifests });
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/deployment.apps\/dbwatch created \(server dry run\)/);
    expect(result.stdout).toMatch(/clusterrole.rbac.authorization.k8s.io\/dbwatch created \(server dry run\)/);
    expect(manifests).toMatch(new RegExp(`name: WATCH_NAMESPACES, value: "${a},${b}"`));
    // Least privilege: Secrets through Roles in the watched namespaces only, Leases through a Role in the release's.
    expect(result.stdout).toMatch(/role.rbac.authorization.k8s.io\/dbwatch-secrets created \(server dry run\)/);
    expect(result.stdout).toMatch(/role.rbac.authorization.k8s.io\/dbwatch-leader-election created/);
    expect(result.stdout).not.toMatch(/clusterrole.rbac.authorization.k8s.io\/dbwatch-secrets/);
    expect(manifests.match(/kind: Role\n/g)).toHaveLength(3);
    const allNamespaces = render(['-n', ns]);
    expect(allNamespaces).toMatch(/kind: ClusterRole\nmetadata:\n {2}name: dbwatch-secrets/);
  });

  test('ships the same CRDs as crds/', () => {
    const shown = execFileSync(helm, ['show', 'crds', 'deploy/helm/dbwatch'], { encoding: 'utf8' });
    expect(shown).toMatch(/name: databasemonitors.dbwatch.dev/);
    expect(shown).toMatch(/name: databaseprerequisites.dbwatch.dev/);
  });
});
