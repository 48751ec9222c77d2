import { EXIT, exitCodeFor } from './exit-codes.js';
import { type OutputFormat, renderData } from './render.js';
import { type SummaryStatus, summarizeCluster } from './summary-cluster.js';
import { renderClusterSummary } from './summary-cluster-render.js';
import { type ClusterScope, readDbwatchObjects } from './summary-cluster-source.js';

export interface ClusterSummaryIo {
  write?: (text: string) => void;
  writeError?: (text: string) => void;
  now?: () => Date;
}

/** 0 healthy, 1 degraded, 2 unhealthy as for `check`; unknown (nothing current to vouch for) is 1, not 0. */
export const exitCodeForSummary = (status: SummaryStatus) =>
  status === 'unknown' ? EXIT.degraded : exitCodeFor([status]);

/**
 * `dbwatch summary --cluster`: the summary from the status the operator wrote, read with the caller's
 * kubeconfig. No database connection, no Secret. Exit 3 when the cluster cannot be read.
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
  const summary = summarizeCluster({ monitors: read.monitors, prerequisites: read.prerequisites, now });
  if (read.monitors.length + read.prerequisites.length === 0) {
    const where = read.namespace === undefined ? 'any namespace' : `namespace ${read.namespace}`;
    writeError(
      `No DatabaseMonitors or DatabasePrerequisites found in ${where}${scope.selector ? ` matching ${scope.selector}` : ''}.`,
    );
  }
  write(
    output === 'table'
      ? renderClusterSummary(summary, read.namespace === undefined ? {} : { namespace: read.namespace }, now)
      : renderData(summary, output),
  );
  return exitCodeForSummary(summary.overallStatus);
}
