import { Command, type Help, Option } from 'commander';
import { EXIT } from './exit-codes.js';
import { clusterScopeOptions, parseSummaryFlags, type SummaryFlags } from './summary-cluster-flags.js';

/**
 * `kubectl-dbwatch`: kubectl runs any `kubectl-<name>` on PATH as `kubectl <name>` and passes its environment
 * (KUBECONFIG included), so this is dbwatch's cluster summary under kubectl's conventions and help layout.
 */

const EXAMPLES: Record<string, string[]> = {
  'kubectl dbwatch': [
    '# Health summary of the databases in every namespace you can read',
    'kubectl dbwatch summary -A',
  ],
  'kubectl dbwatch summary': [
    '# Health summary of the databases in every namespace',
    'kubectl dbwatch summary -A',
    '',
    '# One namespace, as JSON for a dashboard or a script',
    'kubectl dbwatch summary -n shop -o json',
    '',
    '# Only the databases labelled team=payments, in the current namespace',
    'kubectl dbwatch summary -l team=payments',
  ],
};

const USAGE: Record<string, string> = {
  'kubectl dbwatch': 'kubectl dbwatch [command] [options]',
  'kubectl dbwatch summary': 'kubectl dbwatch summary [-n NAMESPACE | -A] [-l SELECTOR] [-o table|json|yaml] [options]',
};

const fullName = (cmd: Command): string => (cmd.parent ? `${fullName(cmd.parent)} ${cmd.name()}` : cmd.name());

/** kubectl's flag line: `-n, --namespace='':` with the default after `=`, as `kubectl get --help` prints it. */
function flagLine(option: Option): string {
  const fallback = option.defaultValue ?? (option.required || option.optional ? '' : false);
  const value = typeof fallback === 'string' ? `'${fallback}'` : String(fallback);
  return `    ${option.short ? `${option.short}, ` : ''}${option.long}=${value}:`;
}

const sentence = (text: string) => `${text.charAt(0).toUpperCase()}${text.slice(1)}${text.endsWith('.') ? '' : '.'}`;

/** Help in kubectl's layout: description, Examples:, Options:, Usage:, then the pointer to more help. */
function kubectlHelp(cmd: Command, helper: Help): string {
  const name = fullName(cmd);
  const lines = [helper.commandDescription(cmd), ''];
  const examples = EXAMPLES[name];
  if (examples) lines.push('Examples:', ...examples.map((e) => (e ? `  ${e}` : '')), '');
  const commands = helper.visibleCommands(cmd).filter((c) => c.name() !== 'help');
  if (commands.length > 0) {
    lines.push('Available Commands:', ...commands.map((c) => `  ${c.name().padEnd(10)}  ${c.summary()}`), '');
  }
  const options = helper.visibleOptions(cmd);
  if (options.length > 0) {
    lines.push('Options:');
    for (const option of options) lines.push(flagLine(option), `\t${sentence(option.description)}`, '');
  }
  lines.push('Usage:', `  ${USAGE[name] ?? `${name} [options]`}`, '');
  lines.push(
    commands.length > 0
      ? `Use "${name} <command> --help" for more information about a given command.`
      : 'Exit codes: 0 healthy; 1 degraded, a monitor stale or stalled, or nothing checked yet; 2 unhealthy;\n' +
          '3 bad flags or the cluster could not be read (the reason is printed).',
  );
  return `${lines.join('\n')}\n`;
}

export function buildPlugin(): Command {
  const program = new Command('kubectl dbwatch')
    .description('Reads the health of the databases dbwatch monitors from the cluster, as the operator measured it.')
    .configureHelp({ formatHelp: kubectlHelp })
    .helpOption('-h, --help', 'help for this command')
    .exitOverride();

  const summary = program
    .command('summary')
    .summary('Multi-database health summary from DatabaseMonitor and DatabasePrerequisite status')
    .description(
      'Print the multi-database health summary from the status dbwatch wrote: overall status (worst case), the\n' +
        'breakdown healthy/degraded/unhealthy/unknown, unhealthy and degraded databases first with reason and age,\n' +
        'stale and stalled monitors, alerts and recommendations. Reads with your kubeconfig (list on\n' +
        'databasemonitors and databaseprerequisites); opens no database connection and reads no Secret.',
    )
    .showHelpAfterError("See 'kubectl dbwatch summary --help' for usage.")
    .addOption(
      new Option('-o, --output <format>', 'Output format: table, json or yaml.')
        .choices(['table', 'json', 'yaml'])
        .default('table'),
    )
    .exitOverride();
  for (const option of clusterScopeOptions()) summary.addOption(option);
  summary.action(async (opts: SummaryFlags & { output: 'table' | 'json' | 'yaml' }) => {
    const flags = parseSummaryFlags({ ...opts, cluster: true });
    if (!flags.ok || flags.source !== 'cluster') {
      process.stderr.write(`error: ${flags.ok ? 'internal: not a cluster summary' : flags.message}\n`);
      process.exitCode = EXIT.invalidInput;
      return;
    }
    const { summaryClusterCommand } = await import('./summary-cluster-command.js');
    process.exitCode = await summaryClusterCommand(flags.scope, opts.output);
  });
  return program;
}
