#!/usr/bin/env node
// kubectl-perennial: Perennial's kubectl plugin (put it on PATH; `kubectl perennial ...` runs it). Exit codes:
// 0 done, 1 the API server or the object refused, 2 bad usage.
import { KubeConfig } from '@kubernetes/client-node';
import { parseArgs, UsageError, usage } from './args.js';
import { KubePerennialClient } from './client.js';
import { runCommand } from './commands.js';

async function main(argv: readonly string[]): Promise<number> {
  let invocation;
  try {
    invocation = parseArgs(argv);
  } catch (e: unknown) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`error: ${e.message}\n\n${usage}`);
    return 2;
  }
  const kubeConfig = new KubeConfig();
  if (invocation.kubeconfig) kubeConfig.loadFromFile(invocation.kubeconfig);
  else kubeConfig.loadFromDefault();
  if (invocation.context) kubeConfig.setCurrentContext(invocation.context);
  const contextNamespace = kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace;
  try {
    const out = await runCommand(invocation.command, {
      client: new KubePerennialClient(kubeConfig),
      defaultNamespace: contextNamespace ?? 'default',
      now: () => new Date(),
    });
    process.stdout.write(out);
    return 0;
  } catch (e: unknown) {
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: unknown) => {
  process.stderr.write(`error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exitCode = 1;
});
