import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';

/*
 * GitOps tools judge dbwatch objects with their own code: the Argo CD health scripts of docs/gitops.md run on
 * gopher-lua (the Lua engine Argo CD embeds, set up as Argo CD sets up a configured script) and kstatus (Flux,
 * kpt) — both in hack/gitops-health, a small Go program built once per machine and cached.
 */

export type Verdicts = { argocd: { status: string; message: string }; kstatus: { status: string; message: string } };
export type HealthKind = 'DatabaseMonitor' | 'DatabasePrerequisite' | 'DatabaseDiscovery';

/** The Lua scripts exactly as docs/gitops.md tells people to paste them into argocd-cm. */
function scriptsFromDocs(): Record<HealthKind, string> {
  const doc = readFileSync('docs/gitops.md', 'utf8');
  const block = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((m) => m[1]!)
    .find((b) => b.includes('resource.customizations.health.'));
  const data = (load(block!) as { data: Record<string, string> }).data;
  const script = (kind: HealthKind) => data[`resource.customizations.health.dbwatch.dev_${kind}`]!;
  return {
    DatabaseMonitor: script('DatabaseMonitor'),
    DatabasePrerequisite: script('DatabasePrerequisite'),
    DatabaseDiscovery: script('DatabaseDiscovery'),
  };
}

/** Builds (first time: a minute or two) the checker; returns a judge of live objects by kind. */
export function gitopsHealth(): (kind: HealthKind, object: object) => Verdicts {
  const binary = execFileSync('hack/gitops-health/build.sh', { encoding: 'utf8', timeout: 600_000 }).trim();
  const scripts = scriptsFromDocs();
  return (kind, object) => {
    const run = spawnSync(binary, [], {
      input: JSON.stringify({ lua: scripts[kind], object }),
      encoding: 'utf8',
      timeout: 30_000,
    });
    if (run.status !== 0) throw new Error(`gitops-health failed: ${run.stderr}`);
    return JSON.parse(run.stdout) as Verdicts;
  };
}

export const statusOf = (v: Verdicts) => ({ argocd: v.argocd.status, kstatus: v.kstatus.status });
