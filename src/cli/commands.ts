// Runs one parsed command against a PerennialClient: writes what to print and returns the exit code. The clock
// and the sleep are injected (annotation values are timestamps; get --watch and status --for poll).
import { dump } from 'js-yaml';
import { type AnnotationPatch, annotationFor, championPin } from './annotate.js';
import type { Command, Output, Target } from './args.js';
import { usage } from './args.js';
import type { PerennialClient } from './client.js';
import { pausePatch, undoPatch } from './control.js';
import { conditionsTable, runsTable, statusTable, versionsTable } from './format.js';
import { deploymentTree, pipelineTree } from './tree.js';
import { waitExitCode, waitFor } from './wait.js';

export interface CommandContext {
  readonly client: PerennialClient;
  /** The namespace when -n is not given (the kubeconfig context's, else "default"). */
  readonly defaultNamespace: string;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** How often get --watch and status --for read the object. */
  readonly pollMs: number;
  /** get --watch: true when stdout is a terminal (the tree then replaces the previous one on screen). */
  readonly clearScreen: boolean;
}

function serialize(value: unknown, output: Exclude<Output, 'table'>): string {
  return output === 'json' ? JSON.stringify(value, null, 2) + '\n' : dump(value, { lineWidth: -1, noRefs: true });
}

async function readTarget(ctx: CommandContext, target: Target, namespace: string): Promise<string> {
  if (target.kind === 'ModelDeployment') return deploymentTree(await ctx.client.get('ModelDeployment', namespace, target.name));
  return pipelineTree(await ctx.client.get('TrainingPipeline', namespace, target.name));
}

/** get -w: the tree, then again each time it changes, until the process is interrupted. */
async function watchTree(ctx: CommandContext, target: Target, namespace: string): Promise<number> {
  let shown = '';
  for (;;) {
    const tree = await readTarget(ctx, target, namespace);
    if (tree !== shown) {
      ctx.out(ctx.clearScreen ? `\x1b[2J\x1b[H${tree}` : `${shown === '' ? '' : '\n'}[${ctx.now().toISOString()}]\n${tree}`);
      shown = tree;
    }
    await ctx.sleep(ctx.pollMs);
  }
}

async function targetCommand(command: Extract<Command, { kind: 'get' | 'status-of' | 'pause' | 'resume' }>, ctx: CommandContext): Promise<number> {
  const namespace = command.namespace ?? ctx.defaultNamespace;
  const { kind, name } = command.target;
  switch (command.kind) {
    case 'get':
      if (command.output !== 'table') ctx.out(serialize(await ctx.client.get(kind, namespace, name), command.output));
      else if (command.watch) return watchTree(ctx, command.target, namespace);
      else ctx.out(await readTarget(ctx, command.target, namespace));
      return 0;
    case 'status-of': {
      const wait = command.wait;
      if (wait) {
        const result = await waitFor(wait, {
          read: () => ctx.client.get(kind, namespace, name), now: () => ctx.now().getTime(), sleep: ctx.sleep,
          log: (line) => ctx.err(`${line}\n`), pollMs: ctx.pollMs,
        });
        const words = { met: 'condition met', failed: 'failed', timeout: `timed out after ${wait.timeoutMs / 1000}s` }[result.state];
        (result.state === 'met' ? ctx.out : ctx.err)(`${kind} ${namespace}/${name}: ${words}: ${result.why}\n`);
        return waitExitCode(result.state);
      }
      const obj = await ctx.client.get(kind, namespace, name);
      ctx.out(command.output === 'table' ? conditionsTable(obj) : serialize(obj.status ?? {}, command.output));
      return 0;
    }
    case 'pause':
    case 'resume': {
      await ctx.client.get(kind, namespace, name);
      const patch = pausePatch(kind, command.kind === 'pause');
      await ctx.client.mergePatch(kind, namespace, name, patch);
      const field = kind === 'ModelDeployment' ? 'spec.rollout.paused' : 'spec.suspend';
      ctx.out(`${kind} ${namespace}/${name}: set ${field}=${String(command.kind === 'pause')}${kind === 'ModelDeployment' ? '' : command.kind === 'pause' ? '; no new runs start (a running one finishes)' : ''}.\n`);
      return 0;
    }
  }
}

export async function runCommand(command: Command, ctx: CommandContext): Promise<number> {
  switch (command.kind) {
    case 'help':
      ctx.out(usage);
      return 0;
    case 'status': {
      const namespace = command.allNamespaces ? undefined : command.namespace ?? ctx.defaultNamespace;
      const [pipelines, deployments] = await Promise.all([
        ctx.client.list('TrainingPipeline', namespace),
        ctx.client.list('ModelDeployment', namespace),
      ]);
      ctx.out(command.output === 'table'
        ? statusTable(pipelines, deployments, command.allNamespaces)
        : serialize({ apiVersion: 'v1', kind: 'List', items: [...pipelines, ...deployments] }, command.output));
      return 0;
    }
    case 'get':
    case 'status-of':
    case 'pause':
    case 'resume':
      return targetCommand(command, ctx);
    case 'undo': {
      const namespace = command.namespace ?? ctx.defaultNamespace;
      const md = await ctx.client.get('ModelDeployment', namespace, command.name);
      const undo = undoPatch(md, ctx.now().getTime());
      await ctx.client.mergePatch('ModelDeployment', namespace, command.name, undo.patch);
      ctx.out(`ModelDeployment ${namespace}/${command.name}: set spec.model.version=${undo.version}; the operator switches back from ${undo.from} to the ${undo.version} pods it kept. Remove spec.model.version to follow the champion again.\n`);
      return 0;
    }
    case 'runs':
    case 'versions': {
      const tp = await ctx.client.get('TrainingPipeline', command.namespace ?? ctx.defaultNamespace, command.name);
      ctx.out(command.kind === 'runs' ? runsTable(tp) : versionsTable(tp));
      return 0;
    }
    case 'champion': {
      const namespace = command.namespace ?? ctx.defaultNamespace;
      const patch = championPin(command.version);
      await ctx.client.get(patch.kind, namespace, command.name);
      await ctx.client.annotate(patch.kind, namespace, command.name, patch.key, patch.value);
      ctx.out(patch.value === null
        ? `${patch.kind} ${namespace}/${command.name}: removed ${patch.key}; the champion stays where it is until the next blessing or rollback.\n`
        : `${patch.kind} ${namespace}/${command.name}: set ${patch.key}=${patch.value}; the champion is ${patch.value} while it is set (see kubectl perennial status).\n`);
      return 0;
    }
    case 'trigger':
    case 'abort':
    case 'retry':
    case 'promote': {
      const namespace = command.namespace ?? ctx.defaultNamespace;
      const patch = annotationFor(command.kind, ctx.now(), command.kind === 'promote' && command.full);
      // Read first: a clear "not found" for the wrong kind, and no annotation written on a missing object.
      await ctx.client.get(patch.kind, namespace, command.name);
      await ctx.client.annotate(patch.kind, namespace, command.name, patch.key, patch.value);
      ctx.out(done(patch, namespace, command.name));
      return 0;
    }
  }
}

function done(patch: AnnotationPatch, namespace: string, name: string): string {
  return `${patch.kind} ${namespace}/${name}: set ${patch.key}=${patch.value}; the operator acts on it at its next reconcile.\n`;
}
