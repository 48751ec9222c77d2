import { parseDuration } from '../api/index.js';
import { waitForPrerequisite } from '../controller/wait-for-prerequisite.js';

export async function waitCommand(
  name: string,
  opts: { namespace?: string; timeout: string; kubeconfig?: string },
): Promise<number> {
  const namespace = opts.namespace ?? process.env.POD_NAMESPACE ?? 'default';
  const result = await waitForPrerequisite({
    name,
    namespace,
    timeoutMs: parseDuration(opts.timeout),
    ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}),
    onProgress: (message) => process.stderr.write(`waiting: ${message}\n`),
  });
  process.stdout.write(`${result.ready ? 'ready' : 'not ready'}: ${namespace}/${name}: ${result.message}\n`);
  return result.ready ? 0 : 1;
}
