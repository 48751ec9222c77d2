import type { CliOutput, DatabaseMonitor, DatabaseMonitorSpec } from '../api/index.js';
import {
  checkMonitorOnce,
  checkPrerequisiteOnce,
  type MonitorReport,
  observePrerequisite,
  observeReport,
  type ResolveResult,
  resolveMonitorConnection,
  summarize,
} from '../checks/index.js';
import { EXIT } from './exit-codes.js';
import {
  emptyManifests,
  formatProblem,
  loadManifests,
  type Manifests,
  namespaceOf,
  secretLookup,
} from './manifests.js';
import { envelope, type OutputFormat, renderData } from './output.js';
import { type MonitorOutcome, type PrerequisiteOutcome, renderMonitors, renderPrerequisites } from './render.js';
import { headline, renderSummary } from './summary-render.js';

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
  if (options.files.length === 0) {
    writeError(
      'error: no manifests given: name the files or directories to run with -f (repeatable), e.g. dbwatch check -f examples/quickstart/',
    );
    return { manifests: emptyManifests(), targets: [], outcome: EXIT.invalidInput };
  }
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

async function runPrerequisites(manifests: Manifests, env: NodeJS.ProcessEnv | undefined) {
  return Promise.all(
    manifests.prerequisites.map(async (p): Promise<PrerequisiteOutcome> => {
      const namespace = namespaceOf(p);
      const monitorSpec = (name: string): DatabaseMonitorSpec | undefined =>
        manifests.monitors.find((m) => m.metadata.name === name && namespaceOf(m) === namespace)?.spec;
      const result = await checkPrerequisiteOnce(p.spec, monitorSpec, secretLookup(manifests, namespace, env));
      return { name: p.metadata.name, namespace, result };
    }),
  );
}

/** The report as the CLI output carries it (absent parts left out, durations named for their unit). */
function resultOf({ health, pool, performance, diagnostics, alerts, durations }: MonitorReport) {
  return {
    health,
    ...(pool ? { pool } : {}),
    ...(performance ? { performance } : {}),
    ...(diagnostics ? { diagnostics } : {}),
    alerts,
    durationsMs: durations,
  };
}

/** Runs everything in the files once; check and summary -f differ only in what they print. */
async function runAll(options: CheckOptions, kind: CliOutput['kind']) {
  const writeError = options.writeError ?? ((t) => process.stderr.write(`${t}\n`));
  const { manifests, targets, outcome } = load(options, writeError);
  if (outcome !== undefined) return { outcome };
  const [monitors, prerequisites] = await Promise.all([runMonitors(targets), runPrerequisites(manifests, options.env)]);
  const summarized = summarize({
    databases: monitors.map((m) => {
      const observed = observeReport(m, m.report);
      if (kind !== 'CheckReport') return observed;
      return { ...observed, result: resultOf(m.report) };
    }),
    prerequisites: prerequisites.map((p) => ({
      ...observePrerequisite(p, p.result),
      ...(kind === 'CheckReport' ? { result: p.result } : {}),
    })),
  });
  return { monitors, prerequisites, output: envelope(kind, 'files', summarized) };
}

/** `dbwatch check`: every monitor and prerequisite once, their details, and the summary's verdict and exit code. */
export async function checkCommand(options: CheckOptions): Promise<number> {
  const write = options.write ?? ((t) => process.stdout.write(`${t}\n`));
  const run = await runAll(options, 'CheckReport');
  if (run.outcome !== undefined) return run.outcome;
  const { monitors, prerequisites, output } = run;
  if (options.output === 'table') {
    const details = [renderMonitors(monitors), renderPrerequisites(prerequisites)].filter((s) => s !== '');
    write([...details, headline(output)].join('\n\n'));
  } else {
    write(renderData(output, options.output));
  }
  return output.summary.exitCode;
}

/** `dbwatch summary -f`: the multi-database summary over the monitors and prerequisites in the files. */
export async function summaryCommand(options: CheckOptions): Promise<number> {
  const write = options.write ?? ((t) => process.stdout.write(`${t}\n`));
  const run = await runAll(options, 'HealthSummary');
  if (run.outcome !== undefined) return run.outcome;
  write(options.output === 'table' ? renderSummary(run.output, new Date()) : renderData(run.output, options.output));
  return run.output.summary.exitCode;
}
