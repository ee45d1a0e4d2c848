// Runs one parsed command against a PerennialClient and returns what to print. The clock is injected (the
// annotation value is a timestamp).
import { type AnnotationPatch, annotationFor, championPin } from './annotate.js';
import type { Command } from './args.js';
import { usage } from './args.js';
import type { PerennialClient } from './client.js';
import { runsTable, statusTable, versionsTable } from './format.js';

export interface CommandContext {
  readonly client: PerennialClient;
  /** The namespace when -n is not given (the kubeconfig context's, else "default"). */
  readonly defaultNamespace: string;
  readonly now: () => Date;
}

export async function runCommand(command: Command, ctx: CommandContext): Promise<string> {
  switch (command.kind) {
    case 'help':
      return usage;
    case 'status': {
      const namespace = command.allNamespaces ? undefined : command.namespace ?? ctx.defaultNamespace;
      const [pipelines, deployments] = await Promise.all([
        ctx.client.list('TrainingPipeline', namespace),
        ctx.client.list('ModelDeployment', namespace),
      ]);
      return statusTable(pipelines, deployments, command.allNamespaces);
    }
    case 'runs':
    case 'versions': {
      const tp = await ctx.client.get('TrainingPipeline', command.namespace ?? ctx.defaultNamespace, command.name);
      return command.kind === 'runs' ? runsTable(tp) : versionsTable(tp);
    }
    case 'champion': {
      const namespace = command.namespace ?? ctx.defaultNamespace;
      const patch = championPin(command.version);
      await ctx.client.get(patch.kind, namespace, command.name);
      await ctx.client.annotate(patch.kind, namespace, command.name, patch.key, patch.value);
      return patch.value === null
        ? `${patch.kind} ${namespace}/${command.name}: removed ${patch.key}; the champion stays where it is until the next blessing or rollback.\n`
        : `${patch.kind} ${namespace}/${command.name}: set ${patch.key}=${patch.value}; the champion is ${patch.value} while it is set (see kubectl perennial status).\n`;
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
      return done(patch, namespace, command.name);
    }
  }
}

function done(patch: AnnotationPatch, namespace: string, name: string): string {
  return `${patch.kind} ${namespace}/${name}: set ${patch.key}=${patch.value}; the operator acts on it at its next reconcile.\n`;
}
