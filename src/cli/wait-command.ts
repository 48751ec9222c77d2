import { DURATION_LIMITS, durationMs } from '../api/index.js';
import { waitForPrerequisite } from '../controller/prerequisite/wait.js';
import { EXIT } from './exit-codes.js';

export async function waitCommand(
  name: string,
  opts: { namespace?: string; timeout: string; kubeconfig?: string },
): Promise<number> {
  const namespace = opts.namespace ?? process.env.POD_NAMESPACE ?? 'default';
  const timeoutMs = durationMs(opts.timeout);
  // The same bounds as the specs' durations: a timer past ~24.8 days would fire at once.
  if (
    timeoutMs === undefined ||
    timeoutMs < durationMs(DURATION_LIMITS.min)! ||
    timeoutMs > durationMs(DURATION_LIMITS.max)!
  ) {
    process.stderr.write(
      `error: --timeout ${JSON.stringify(opts.timeout)}: must be a duration between ${DURATION_LIMITS.min} and ${DURATION_LIMITS.max}, such as 10m\n`,
    );
    return EXIT.invalidInput;
  }
  const result = await waitForPrerequisite({
    name,
    namespace,
    timeoutMs,
    ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}),
    onProgress: (message) => process.stderr.write(`waiting: ${message}\n`),
  });
  process.stdout.write(`${result.ready ? 'ready' : 'not ready'}: ${namespace}/${name}: ${result.message}\n`);
  return result.ready ? 0 : 1;
}
