// The command line of `kubectl perennial` (kubectl runs a `kubectl-perennial` executable found on PATH as a
// plugin). Pure: argv in, a Command or a UsageError out, so every form is a table test. Flags are split by
// node:util parseArgs (-n ml, -nml, --namespace=ml, --, flags anywhere); the checks and messages are ours.
import { parseArgs as nodeParseArgs, type ParseArgsConfig } from 'node:util';

export const usage = `kubectl perennial: Perennial's models from the command line

Usage:
  kubectl perennial status [-n NAMESPACE | -A]           pipelines and deployments, one line each
  kubectl perennial runs PIPELINE [-n NAMESPACE]          a pipeline's latest runs
  kubectl perennial versions PIPELINE [-n NAMESPACE]      the model versions a pipeline published
  kubectl perennial trigger PIPELINE [-n NAMESPACE]       start a training run now
  kubectl perennial champion PIPELINE VERSION [-n NS]     pin the champion to a published version (a rollback
                                                         does not demote it, a blessing does not move it)
  kubectl perennial champion PIPELINE --unpin [-n NS]     remove the pin; the champion stays until the next
                                                         blessing or rollback
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
  | { readonly kind: 'promote'; readonly name: string; readonly namespace: string | undefined; readonly full: boolean }
  /** version undefined: --unpin. */
  | { readonly kind: 'champion'; readonly name: string; readonly namespace: string | undefined; readonly version: string | undefined };

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

const named = ['runs', 'versions', 'trigger', 'champion', 'promote', 'abort', 'retry'] as const;
type Named = (typeof named)[number];
const isNamed = (verb: string): verb is Named => (named as readonly string[]).includes(verb);

/** The flags, in node:util parseArgs' terms. */
const flags = {
  namespace: { type: 'string', short: 'n' },
  'all-namespaces': { type: 'boolean', short: 'A' },
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  full: { type: 'boolean' },
  unpin: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/**
 * Splits argv with node:util's parseArgs, in its lenient mode so that every mistake gets this plugin's own words
 * (strict mode throws its own messages): an unknown flag, a flag without its value, a value given to a switch.
 */
function readFlags(argv: readonly string[]): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  const { values, positionals, tokens } = nodeParseArgs({ args: [...argv], options: flags, strict: false, allowPositionals: true, tokens: true });
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    if (!Object.hasOwn(flags, t.name)) throw new UsageError(`unknown flag ${t.rawName}`);
    const type = flags[t.name as keyof typeof flags].type;
    if (type === 'string' && (t.value === undefined || t.value === '')) throw new UsageError(`${t.rawName} needs a value`);
    if (type === 'boolean' && t.value !== undefined) throw new UsageError(`${t.rawName} takes no value`);
  }
  return { values, positionals };
}

/** champion PIPELINE VERSION, or champion PIPELINE --unpin. */
function championCommand(name: string, rest: readonly string[], unpin: boolean, namespace: string | undefined): Command {
  const [version, ...extra] = rest;
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  if (version !== undefined && unpin) throw new UsageError('champion takes a VERSION or --unpin, not both');
  if (version === undefined && !unpin) throw new UsageError('champion needs a VERSION or --unpin');
  return { kind: 'champion', name, namespace, version };
}

export function parseArgs(argv: readonly string[]): Invocation {
  const { values, positionals } = readFlags(argv);
  const text = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
  const namespace = text(values['namespace']);
  const allNamespaces = values['all-namespaces'] === true;
  const full = values['full'] === true;
  const invocation = (command: Command): Invocation => ({ command, kubeconfig: text(values['kubeconfig']), context: text(values['context']) });
  const [verb, name, ...rest] = positionals;
  if (values['help'] === true || verb === undefined || verb === 'help') return invocation({ kind: 'help' });
  const unpin = values['unpin'] === true;
  if (full && verb !== 'promote') throw new UsageError('--full goes with promote only');
  if (unpin && verb !== 'champion') throw new UsageError('--unpin goes with champion only');
  if (allNamespaces && verb !== 'status') throw new UsageError('-A goes with status only');
  if (allNamespaces && namespace !== undefined) throw new UsageError('use -n or -A, not both');
  if (verb === 'status') {
    if (name !== undefined) throw new UsageError('status takes no name');
    return invocation({ kind: 'status', namespace, allNamespaces });
  }
  if (!isNamed(verb)) throw new UsageError(`unknown command "${verb}"`);
  if (name === undefined) throw new UsageError(`${verb} needs the name of a ${['runs', 'versions', 'trigger', 'champion'].includes(verb) ? 'TrainingPipeline' : 'ModelDeployment'}`);
  if (verb === 'champion') return invocation(championCommand(name, rest, unpin, namespace));
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  if (verb === 'promote') return invocation({ kind: 'promote', name, namespace, full });
  return invocation({ kind: verb, name, namespace });
}
