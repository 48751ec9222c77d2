/** The `dbwatch` command line: commands, options and help, without running anything until parsed. */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { checkCommand, summaryCommand } from './check-command.js';
import { EXIT } from './exit-codes.js';
import { renderSettingsHelp } from './operator-settings.js';
import { clusterScopeOptions, parseSummaryFlags, type SummaryFlags } from './summary-cluster-flags.js';

const outputOption = () =>
  new Option('-o, --output <format>', 'output format').choices(['table', 'json', 'yaml']).default('table');

const FILES_HELP = `
Secrets referenced by the resources are read from Secret manifests in the same files (in the
resource's namespace). An environment variable DBWATCH_SECRET_<SECRET>_<KEY> supplies one key, over
the file's: DBWATCH_SECRET_ORDERS_DB_PASSWORD is key password of Secret orders-db, so a Secret
manifest can leave the password out.

Exit codes: 0 all healthy/passed, 1 degraded/warning, 2 unhealthy/failed, 3 invalid input (nothing run).
JSON/YAML output: one envelope, apiVersion cli.dbwatch.dev/v1 (docs/cli-output.md).`;

const collect = (value: string, previous: string[]) => [...previous, value];

/** package.json sits two levels up from src/cli and from dist/cli alike (the image keeps it in /app). */
function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
    .version;
}

export function buildProgram(): Command {
  const program = new Command('dbwatch')
    .description(
      'Monitors PostgreSQL and SQL Server databases: health, connection utilization, query performance, migrations.\n' +
        'Runs as a Kubernetes operator (DatabaseMonitor / DatabasePrerequisite resources) or one-shot from YAML files.',
    )
    .version(`dbwatch ${packageVersion()}`, '-V, --version', 'print the version')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('check')
    .summary('run monitors and prerequisites from manifest files once, without a cluster')
    .description('Run DatabaseMonitors and DatabasePrerequisites from manifest files once, without a cluster.')
    .addHelpText('after', FILES_HELP)
    .option('-f, --filename <path>', 'manifest file or directory (repeatable)', collect, [])
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
      'Run the operator: watch DatabaseMonitors, DatabasePrerequisites and their Secrets, run the checks, and ' +
        'write status, Events and Prometheus metrics. It is configured by the environment variables below.',
    )
    .addHelpText(
      'after',
      `\n${renderSettingsHelp()}\n\n` +
        'Exit codes: 0 stopped by SIGTERM/SIGINT; 1 lost leadership or a failed shutdown; 3 not started (a bad setting,\n' +
        'no kubeconfig, the metrics port taken, the API server unreachable or without the CRDs: the reason is printed).',
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
