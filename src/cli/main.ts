#!/usr/bin/env node
// kubectl-perennial: Perennial's kubectl plugin (put it on PATH; `kubectl perennial ...` runs it). Exit codes:
// 0 done (status --for: the condition is met), 1 the API server or the object refused (status --for: the object
// failed), 2 bad usage (status --for: timed out).
import { KubeConfig } from '@kubernetes/client-node';
import { parseArgs, UsageError, usage } from './args.js';
import { KubePerennialClient } from './client.js';
import { runCommand } from './commands.js';

/** How often get --watch and status --for read the object: 2 s, or KUBECTL_PERENNIAL_POLL_MS (at least 100). */
function pollMs(env: string | undefined): number {
  const n = Number(env);
  return env !== undefined && Number.isFinite(n) && n >= 100 ? n : 2000;
}

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
    return await runCommand(invocation.command, {
      client: new KubePerennialClient(kubeConfig),
      defaultNamespace: contextNamespace ?? 'default',
      now: () => new Date(),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      out: (text) => process.stdout.write(text),
      err: (text) => process.stderr.write(text),
      pollMs: pollMs(process.env['KUBECTL_PERENNIAL_POLL_MS']),
      clearScreen: process.stdout.isTTY,
    });
  } catch (e: unknown) {
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: unknown) => {
  process.stderr.write(`error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exitCode = 1;
});
