import { EXIT } from './exit-codes.js';
import { envelope, type OutputFormat, renderData } from './output.js';
import { summarizeCluster } from './summary-cluster.js';
import { type ClusterScope, readDbwatchObjects } from './summary-cluster-source.js';
import { renderSummary } from './summary-render.js';

export interface ClusterSummaryIo {
  write?: (text: string) => void;
  writeError?: (text: string) => void;
  now?: () => Date;
}

/**
 * `dbwatch summary --cluster`: the summary from the status the operator wrote, read with the caller's
 * kubeconfig. No database connection, no Secret. Exit codes as `check` (the summary's); 3 when the cluster
 * cannot be read.
 */
export async function summaryClusterCommand(
  scope: ClusterScope,
  output: OutputFormat,
  io: ClusterSummaryIo = {},
): Promise<number> {
  const write = io.write ?? ((t) => process.stdout.write(`${t}\n`));
  const writeError = io.writeError ?? ((t) => process.stderr.write(`${t}\n`));
  const read = await readDbwatchObjects(scope);
  if (!read.ok) {
    writeError(`error: ${read.message}`);
    return EXIT.invalidInput;
  }
  const now = io.now?.() ?? new Date();
  const summarized = summarizeCluster({ monitors: read.monitors, prerequisites: read.prerequisites, now });
  if (read.monitors.length + read.prerequisites.length === 0) {
    const where = read.namespace === undefined ? 'any namespace' : `namespace ${read.namespace}`;
    writeError(
      `No DatabaseMonitors or DatabasePrerequisites found in ${where}${scope.selector ? ` matching ${scope.selector}` : ''}.`,
    );
  }
  const result = envelope('HealthSummary', 'cluster', summarized, read.namespace);
  write(output === 'table' ? renderSummary(result, now) : renderData(result, output));
  return result.summary.exitCode;
}
