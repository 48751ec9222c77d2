import type { DatabaseMonitor, DatabaseMonitorSpec } from '../api/index.js';
import {
  checkMonitorOnce,
  checkPrerequisiteOnce,
  type ResolveResult,
  resolveMonitorConnection,
  summarizeHealth,
} from '../checks/index.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import {
  emptyManifests,
  formatProblem,
  loadManifests,
  type Manifests,
  namespaceOf,
  secretLookup,
} from './manifests.js';
import {
  type MonitorOutcome,
  type OutputFormat,
  type PrerequisiteOutcome,
  renderData,
  renderMonitors,
  renderPrerequisites,
  renderSummary,
} from './render.js';

export interface CheckOptions {
  files: string[];
  output: OutputFormat;
  env?: NodeJS.ProcessEnv;
  write?: (text: string) => void;
  writeError?: (text: string) => void;
}

/** A monitor whose connection resolved, ready to run. */
interface MonitorTarget {
  monitor: DatabaseMonitor;
  resolved: Extract<ResolveResult, { ok: true }>;
}

interface Loaded {
  manifests: Manifests;
  targets: MonitorTarget[];
  outcome?: number;
}

function load(options: CheckOptions, writeError: (t: string) => void): Loaded {
  let manifests: Manifests;
  try {
    manifests = loadManifests(options.files);
  } catch (error) {
    writeError(`error: ${(error as Error).message}`);
    return {
      manifests: emptyManifests(),
      targets: [],
      outcome: EXIT.invalidInput,
    };
  }
  for (const warning of manifests.warnings) writeError(`warning: ${warning}`);
  const targets: MonitorTarget[] = [];
  const unresolved: string[] = [];
  // Connections are resolved only from valid manifests: an invalid Secret would also read as "not found".
  const resolvable = manifests.problems.length === 0;
  for (const monitor of resolvable ? manifests.monitors : []) {
    const resolved = resolveMonitorConnection(monitor.spec, secretLookup(manifests, namespaceOf(monitor), options.env));
    if (resolved.ok) targets.push({ monitor, resolved });
    else unresolved.push(`${manifests.origins.get(monitor)}: spec.connection: ${resolved.message}`);
  }
  // Inline connections of prerequisites are input too: a bad Secret stops the run like a monitor's would.
  for (const prerequisite of resolvable ? manifests.prerequisites : []) {
    const lookup = secretLookup(manifests, namespaceOf(prerequisite), options.env);
    prerequisite.spec.databases.forEach((db, index) => {
      if (!db.engine || !db.connection) return;
      const resolved = resolveMonitorConnection({ engine: db.engine, connection: db.connection }, lookup);
      if (!resolved.ok) {
        const where = manifests.origins.get(prerequisite);
        unresolved.push(`${where}: spec.databases[${index}].connection: ${resolved.message}`);
      }
    });
  }
  const problems = [...manifests.problems.map(formatProblem), ...unresolved];
  if (problems.length > 0) {
    writeError(['invalid input, nothing was run:', ...problems.map((p) => `  ${p}`)].join('\n'));
    return { manifests, targets, outcome: EXIT.invalidInput };
  }
  if (manifests.monitors.length + manifests.prerequisites.length === 0) {
    writeError('error: no DatabaseMonitor or DatabasePrerequisite found in the given files');
    return { manifests, targets, outcome: EXIT.invalidInput };
  }
  return { manifests, targets };
}

async function runMonitors(targets: MonitorTarget[]): Promise<MonitorOutcome[]> {
  return Promise.all(
    targets.map(async ({ monitor, resolved }) => ({
      name: monitor.metadata.name,
      namespace: namespaceOf(monitor),
      engine: monitor.spec.engine,
      report: await checkMonitorOnce(monitor.spec, resolved),
    })),
  );
}

/** `dbwatch check`: every monitor and prerequisite once; exit code from the worst result. */
export async function checkCommand(options: CheckOptions): Promise<number> {
  const write = options.write ?? ((t) => process.stdout.write(`${t}\n`));
  const writeError = options.writeError ?? ((t) => process.stderr.write(`${t}\n`));
  const { manifests, targets, outcome } = load(options, writeError);
  if (outcome !== undefined) return outcome;
  const monitors = await runMonitors(targets);
  const prerequisites: PrerequisiteOutcome[] = await Promise.all(
    manifests.prerequisites.map(async (p) => {
      const namespace = namespaceOf(p);
      const monitorSpec = (name: string): DatabaseMonitorSpec | undefined =>
        manifests.monitors.find((m) => m.metadata.name === name && namespaceOf(m) === namespace)?.spec;
      const result = await checkPrerequisiteOnce(p.spec, monitorSpec, secretLookup(manifests, namespace, options.env));
      return { name: p.metadata.name, namespace, result };
    }),
  );
  if (options.output === 'table') {
    write([renderMonitors(monitors), renderPrerequisites(prerequisites)].filter((s) => s !== '').join('\n\n'));
  } else {
    write(renderData({ monitors, prerequisites }, options.output));
  }
  return exitCodeFor([
    ...monitors.map((m) => m.report.health.status),
    ...prerequisites.map((p) => p.result.overallStatus),
  ]);
}

/** `dbwatch summary`: the multi-database health summary over the monitors in the files. */
export async function summaryCommand(options: CheckOptions): Promise<number> {
  const write = options.write ?? ((t) => process.stdout.write(`${t}\n`));
  const writeError = options.writeError ?? ((t) => process.stderr.write(`${t}\n`));
  const { targets, outcome } = load(options, writeError);
  if (outcome !== undefined) return outcome;
  const monitors = await runMonitors(targets);
  const summary = summarizeHealth(monitors.map((m) => ({ name: m.name, report: m.report })));
  write(options.output === 'table' ? renderSummary(summary) : renderData(summary, options.output));
  return exitCodeFor([summary.overallStatus]);
}
