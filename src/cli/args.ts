// The command line of `kubectl perennial` (kubectl runs a `kubectl-perennial` executable found on PATH as a
// plugin). Pure: argv in, a Command or a UsageError out, so every form is a table test.

export const usage = `kubectl perennial: Perennial's models from the command line

Usage:
  kubectl perennial status [-n NAMESPACE | -A]           pipelines and deployments, one line each
  kubectl perennial runs PIPELINE [-n NAMESPACE]          a pipeline's latest runs
  kubectl perennial versions PIPELINE [-n NAMESPACE]      the model versions a pipeline published
  kubectl perennial trigger PIPELINE [-n NAMESPACE]       start a training run now
  kubectl perennial promote DEPLOYMENT [--full] [-n NS]   move the canary past its step (--full: all the way)
  kubectl perennial abort DEPLOYMENT [-n NAMESPACE]       abort the rollout; all traffic back to stable
  kubectl perennial retry DEPLOYMENT [-n NAMESPACE]       retry the aborted candidate

Flags:
  -n, --namespace NAME   the namespace (default: the kubeconfig context's, else "default")
  -A, --all-namespaces   status: every namespace
      --kubeconfig FILE  the kubeconfig (default: $KUBECONFIG, then ~/.kube/config)
      --context NAME     the kubeconfig context
  -h, --help             this text
`;

export type Command =
  | { readonly kind: 'help' }
  | { readonly kind: 'status'; readonly namespace: string | undefined; readonly allNamespaces: boolean }
  | { readonly kind: 'runs' | 'versions' | 'trigger' | 'abort' | 'retry'; readonly name: string; readonly namespace: string | undefined }
  | { readonly kind: 'promote'; readonly name: string; readonly namespace: string | undefined; readonly full: boolean };

export interface Invocation {
  readonly command: Command;
  readonly kubeconfig: string | undefined;
  readonly context: string | undefined;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const named = ['runs', 'versions', 'trigger', 'promote', 'abort', 'retry'] as const;
type Named = (typeof named)[number];
const isNamed = (verb: string): verb is Named => (named as readonly string[]).includes(verb);

export function parseArgs(argv: readonly string[]): Invocation {
  const positional: string[] = [];
  let namespace: string | undefined;
  let kubeconfig: string | undefined;
  let context: string | undefined;
  let allNamespaces = false;
  let full = false;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '-n': case '--namespace': namespace = value(); break;
      case '--kubeconfig': kubeconfig = value(); break;
      case '--context': context = value(); break;
      case '-A': case '--all-namespaces': allNamespaces = true; break;
      case '--full': full = true; break;
      case '-h': case '--help': help = true; break;
      default:
        if (flag.startsWith('-')) throw new UsageError(`unknown flag ${flag}`);
        positional.push(arg);
    }
  }
  const invocation = (command: Command): Invocation => ({ command, kubeconfig, context });
  const [verb, name, ...rest] = positional;
  if (help || verb === undefined || verb === 'help') return invocation({ kind: 'help' });
  if (full && verb !== 'promote') throw new UsageError('--full goes with promote only');
  if (allNamespaces && verb !== 'status') throw new UsageError('-A goes with status only');
  if (allNamespaces && namespace !== undefined) throw new UsageError('use -n or -A, not both');
  if (verb === 'status') {
    if (name !== undefined) throw new UsageError('status takes no name');
    return invocation({ kind: 'status', namespace, allNamespaces });
  }
  if (!isNamed(verb)) throw new UsageError(`unknown command "${verb}"`);
  if (name === undefined) throw new UsageError(`${verb} needs the name of a ${verb === 'runs' || verb === 'versions' || verb === 'trigger' ? 'TrainingPipeline' : 'ModelDeployment'}`);
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  if (verb === 'promote') return invocation({ kind: 'promote', name, namespace, full });
  return invocation({ kind: verb, name, namespace });
}
