import type { DatabaseMonitorSpec } from '../api/index.js';
import { checkMonitorOnce, checkPrerequisiteOnce, resolveMonitorConnection, summarizeHealth } from '../checks/index.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { loadManifests, type Manifests, namespaceOf, secretLookup } from './manifests.js';
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

interface Loaded {
  manifests: Manifests;
  outcome?: number;
}

function load(options: CheckOptions, writeError: (t: string) => void): Loaded {
  let manifests: Manifests;
  try {
    manifests = loadManifests(options.files);
  } catch (error) {
    writeError(`error: ${(error as Error).message}`);
    return {
      manifests: { monitors: [], prerequisites: [], secrets: new Map(), problems: [], skipped: [] },
      outcome: EXIT.invalidInput,
    };
  }
  const unresolved = manifests.monitors.flatMap((m) => {
    const resolved = resolveMonitorConnection(m.spec, secretLookup(manifests, namespaceOf(m), options.env));
    return resolved.ok ? [] : [`DatabaseMonitor/${m.metadata.name}: ${resolved.message}`];
  });
  const problems = [...manifests.problems, ...unresolved];
  if (problems.length > 0) {
    writeError(['invalid input, nothing was run:', ...problems.map((p) => `  ${p}`)].join('\n'));
    return { manifests, outcome: EXIT.invalidInput };
  }
  if (manifests.monitors.length + manifests.prerequisites.length === 0) {
    writeError('error: no DatabaseMonitor or DatabasePrerequisite found in the given files');
    return { manifests, outcome: EXIT.invalidInput };
  }
  return { manifests };
}

async function runMonitors(manifests: Manifests, env?: NodeJS.ProcessEnv): Promise<MonitorOutcome[]> {
  return Promise.all(
    manifests.monitors.map(async (m) => {
      const namespace = namespaceOf(m);
      const resolved = resolveMonitorConnection(m.spec, secretLookup(manifests, namespace, env));
      if (!resolved.ok) throw new Error('unreachable: connections were resolved before running');
      return {
        name: m.metadata.name,
        namespace,
        engine: m.spec.engine,
        report: await checkMonitorOnce(m.spec, resolved),
      };
    }),
  );
}

/** `dbwatch check`: every monitor and prerequisite once; exit code from the worst result. */
export async function checkCommand(options: CheckOptions): Promise<number> {
  const write = options.write ?? ((t) => process.stdout.write(`${t}\n`));
  const writeError = options.writeError ?? ((t) => process.stderr.write(`${t}\n`));
  const { manifests, outcome } = load(options, writeError);
  if (outcome !== undefined) return outcome;
  const monitors = await runMonitors(manifests, options.env);
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
  const { manifests, outcome } = load(options, writeError);
  if (outcome !== undefined) return outcome;
  const monitors = await runMonitors(manifests, options.env);
  const summary = summarizeHealth(monitors.map((m) => ({ name: m.name, report: m.report })));
  write(options.output === 'table' ? renderSummary(summary) : renderData(summary, options.output));
  return exitCodeFor([summary.overallStatus]);
}
