#!/usr/bin/env node
import { Command, Option } from 'commander';
import { checkCommand, summaryCommand } from './check-command.js';
import { EXIT } from './exit-codes.js';
import { clusterScopeOptions, parseSummaryFlags, type SummaryFlags } from './summary-cluster-flags.js';

const outputOption = () =>
  new Option('-o, --output <format>', 'output format').choices(['table', 'json', 'yaml']).default('table');

const FILES_HELP = `
Secrets referenced by the resources are read from Secret manifests in the same files, or from
environment variables DBWATCH_SECRET_<SECRET>_<KEY> (for Secret orders-db, key password:
DBWATCH_SECRET_ORDERS_DB_PASSWORD).

Exit codes: 0 all healthy/passed, 1 degraded/warning, 2 unhealthy/failed, 3 invalid input (nothing run).`;

const collect = (value: string, previous: string[]) => [...previous, value];

export function buildProgram(): Command {
  const program = new Command('dbwatch')
    .description(
      'Monitors PostgreSQL and SQL Server databases: health, connection utilization, query performance, migrations.\n' +
        'Runs as a Kubernetes operator (DatabaseMonitor / DatabasePrerequisite resources) or one-shot from YAML files.',
    )
    .showHelpAfterError()
    .exitOverride();

  program
    .command('check')
    .summary('run monitors and prerequisites from manifest files once, without a cluster')
    .description('Run DatabaseMonitors and DatabasePrerequisites from manifest files once, without a cluster.')
    .addHelpText('after', FILES_HELP)
    .requiredOption('-f, --filename <path>', 'manifest file or directory (repeatable)', collect, [])
    .addOption(outputOption())
    .action(async (opts: { filename: string[]; output: 'table' | 'json' | 'yaml' }) => {
      process.exitCode = await checkCommand({ files: opts.filename, output: opts.output });
    });

  const summary = program
    .command('summary')
    .summary('multi-database health summary: from manifest files (-f), or from the cluster (--cluster)')
    .description(
      'Multi-database health summary (worst case, breakdown, alerts, recommendations). With -f it runs the ' +
        'monitors in the files; with --cluster it reads the status the operator wrote, through your kubeconfig ' +
        '(list on databasemonitors and databaseprerequisites is all it needs; no database connection, no Secret).',
    )
    .addHelpText(
      'after',
      `${FILES_HELP}\nWith --cluster, exit 3 also means the cluster could not be read (the reason is printed).`,
    )
    .option('-f, --filename <path>', 'manifest file or directory (repeatable)', collect, [])
    .option('--cluster', 'read DatabaseMonitor and DatabasePrerequisite status from the cluster')
    .addOption(outputOption());
  for (const option of clusterScopeOptions()) summary.addOption(option);
  summary.action(async (opts: SummaryFlags & { output: 'table' | 'json' | 'yaml' }) => {
    const flags = parseSummaryFlags(opts);
    if (!flags.ok) {
      process.stderr.write(`error: ${flags.message}\n`);
      process.exitCode = EXIT.invalidInput;
    } else if (flags.source === 'files') {
      process.exitCode = await summaryCommand({ files: flags.files, output: opts.output });
    } else {
      const { summaryClusterCommand } = await import('./summary-cluster-command.js');
      process.exitCode = await summaryClusterCommand(flags.scope, opts.output);
    }
  });

  program
    .command('operator')
    .summary('run the Kubernetes operator')
    .description(
      'Run the operator: watch DatabaseMonitors, DatabasePrerequisites and their Secrets, run the checks, and\n' +
        'write status, Events and Prometheus metrics. Configuration comes from the environment:\n' +
        '  WATCH_NAMESPACES           comma-separated namespaces to watch (default: all)\n' +
        '  MAX_CONCURRENT_CHECKS      checks running at once (default 4)\n' +
        '  METRICS_PORT               port for /metrics, /healthz, /readyz (default 8080)\n' +
        '  LEADER_ELECT               true|false (default true)\n' +
        '  LEADER_ELECTION_NAMESPACE  namespace of the Lease (default: POD_NAMESPACE, else default)\n' +
        '  SHUTDOWN_GRACE_SECONDS     how long SIGTERM waits for in-flight checks (default 20)\n' +
        '  KUBECONFIG                 outside a cluster; in a Pod the ServiceAccount is used\n' +
        '  LOG_LEVEL                  pino level (default info)',
    )
    .action(async () => {
      const { runOperatorFromEnv } = await import('./operator-command.js');
      await runOperatorFromEnv(process.env);
    });

  program
    .command('wait')
    .summary('wait until a DatabasePrerequisite is Ready (for init containers)')
    .description(
      'Wait until the DatabasePrerequisite is Ready for its current generation. Waits through "not found" and API\n' +
        'errors. Exit 0 when ready, 1 on timeout (the last reason is printed).',
    )
    .argument('<name>', 'DatabasePrerequisite name')
    .option('-n, --namespace <namespace>', 'namespace (default: POD_NAMESPACE, else default)')
    .option('--timeout <duration>', 'give up after this long', '10m')
    .option('--kubeconfig <path>', 'kubeconfig file (default: in-cluster or KUBECONFIG)')
    .action(async (name: string, opts: { namespace?: string; timeout: string; kubeconfig?: string }) => {
      const { waitCommand } = await import('./wait-command.js');
      process.exitCode = await waitCommand(name, opts);
    });

  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    const code = (error as { code?: string; exitCode?: number }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') {
      process.exitCode = 0;
    } else if (typeof code === 'string' && code.startsWith('commander.')) {
      process.exitCode = EXIT.invalidInput;
    } else {
      throw error;
    }
  }
}

await main(process.argv);
