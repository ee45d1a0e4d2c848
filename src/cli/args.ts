// The command line of `kubectl perennial` (kubectl runs a `kubectl-perennial` executable found on PATH as a
// plugin). Pure: argv in, a Command or a UsageError out, so every form is a table test. Flags are split by
// node:util parseArgs (-n ml, -nml, --namespace=ml, --, flags anywhere); the checks and messages are ours.
import { parseArgs as nodeParseArgs, type ParseArgsConfig } from 'node:util';
import { InvalidDurationError, parseDuration } from '../api/duration.js';

export const usage = `kubectl perennial: Perennial's models from the command line

Usage:
  kubectl perennial status [-n NAMESPACE | -A] [-o json|yaml]
                                                         pipelines and deployments, one line each
  kubectl perennial status KIND/NAME [-o json|yaml]       one object's conditions
  kubectl perennial status KIND/NAME --for condition=TYPE[=STATUS] [--timeout 5m]
                                                         wait until the condition holds (STATUS True unless
                                                         given); exit 0 met, 1 failed or aborted, 2 timed out
  kubectl perennial get KIND/NAME [-w] [-o json|yaml]     a deployment's revisions, weights and analyses, or a
                                                         pipeline's runs and versions, as a tree (-w: live)
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
  kubectl perennial pause KIND/NAME [-n NAMESPACE]        hold a deployment's rollout (spec.rollout.paused) or
                                                         stop a pipeline starting runs (spec.suspend)
  kubectl perennial resume KIND/NAME [-n NAMESPACE]       undo pause
  kubectl perennial undo DEPLOYMENT [-n NAMESPACE]        back to the previous stable version within the
                                                         rollback window (pins spec.model.version to it)

KIND is md (ModelDeployment) or tp (TrainingPipeline); the long names, plural or not, work too. A bare NAME is
a ModelDeployment for pause and resume.

Flags:
  -n, --namespace NAME   the namespace (default: the kubeconfig context's, else "default")
  -A, --all-namespaces   status: every namespace
  -o, --output FORMAT    status, get: json or yaml, the objects as the API server returns them
  -w, --watch            get: print the tree again whenever it changes, until interrupted
      --for CONDITION    status KIND/NAME: wait for condition=TYPE[=True|False|Unknown]
      --timeout DURATION status --for: how long to wait (e.g. 90s, 5m, 1h; default 5m)
      --kubeconfig FILE  the kubeconfig (default: $KUBECONFIG, then ~/.kube/config)
      --context NAME     the kubeconfig context
  -h, --help             this text

Exit codes: 0 done (or the condition is met), 1 the API server or the object refused (or status --for saw the
object fail: a rejected spec, a failed run, an aborted rollout), 2 bad usage or status --for timed out.
`;

export type Kind = 'TrainingPipeline' | 'ModelDeployment';
export interface Target { readonly kind: Kind; readonly name: string }
export type Output = 'table' | 'json' | 'yaml';
/** status --for condition=TYPE[=STATUS]. */
export interface WaitFor { readonly type: string; readonly status: 'True' | 'False' | 'Unknown'; readonly timeoutMs: number }

export type Command =
  | { readonly kind: 'help' }
  | { readonly kind: 'status'; readonly namespace: string | undefined; readonly allNamespaces: boolean; readonly output: Output }
  /** status KIND/NAME, with --for a wait. */
  | { readonly kind: 'status-of'; readonly target: Target; readonly namespace: string | undefined; readonly output: Output; readonly wait: WaitFor | undefined }
  | { readonly kind: 'get'; readonly target: Target; readonly namespace: string | undefined; readonly output: Output; readonly watch: boolean }
  | { readonly kind: 'pause' | 'resume'; readonly target: Target; readonly namespace: string | undefined }
  | { readonly kind: 'undo'; readonly name: string; readonly namespace: string | undefined }
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

const named = ['runs', 'versions', 'trigger', 'champion', 'promote', 'abort', 'retry', 'undo'] as const;
type Named = (typeof named)[number];
const isNamed = (verb: string): verb is Named => (named as readonly string[]).includes(verb);

/** The flags, in node:util parseArgs' terms. */
const flags = {
  namespace: { type: 'string', short: 'n' },
  'all-namespaces': { type: 'boolean', short: 'A' },
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  full: { type: 'boolean' },
  output: { type: 'string', short: 'o' },
  watch: { type: 'boolean', short: 'w' },
  for: { type: 'string' },
  timeout: { type: 'string' },
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

const kindNames: Readonly<Record<string, Kind>> = {
  md: 'ModelDeployment', modeldeployment: 'ModelDeployment', modeldeployments: 'ModelDeployment',
  tp: 'TrainingPipeline', trainingpipeline: 'TrainingPipeline', trainingpipelines: 'TrainingPipeline',
};

/** KIND/NAME, KIND NAME, or (with a default kind) a bare NAME. Returns the target and the arguments left. */
export function parseTarget(verb: string, args: readonly string[], defaultKind?: Kind): { target: Target; rest: string[] } {
  const [first, second, ...more] = args;
  if (first === undefined) throw new UsageError(`${verb} needs KIND/NAME (md/NAME or tp/NAME)`);
  const slash = first.indexOf('/');
  if (slash >= 0) {
    const kind = kindNames[first.slice(0, slash).toLowerCase()];
    const name = first.slice(slash + 1);
    if (!kind) throw new UsageError(`unknown kind "${first.slice(0, slash)}" (md or tp)`);
    if (name === '') throw new UsageError(`${verb} needs a name after ${first}`);
    return { target: { kind, name }, rest: [second, ...more].filter((x): x is string => x !== undefined) };
  }
  const kind = kindNames[first.toLowerCase()];
  if (kind && second !== undefined) return { target: { kind, name: second }, rest: more };
  if (defaultKind) return { target: { kind: defaultKind, name: first }, rest: [second, ...more].filter((x): x is string => x !== undefined) };
  throw new UsageError(`${verb} needs KIND/NAME (md/NAME or tp/NAME), not "${first}"`);
}

function parseOutput(value: string | undefined): Output {
  if (value === undefined) return 'table';
  if (value === 'json' || value === 'yaml') return value;
  throw new UsageError(`-o takes json or yaml, not "${value}"`);
}

/** --for condition=TYPE[=STATUS] and --timeout. */
export function parseWaitFor(forValue: string, timeout: string | undefined): WaitFor {
  const m = /^condition=([A-Za-z]+)(?:=(true|false|unknown))?$/i.exec(forValue);
  if (!m) throw new UsageError(`--for takes condition=TYPE or condition=TYPE=True|False|Unknown, not "${forValue}"`);
  const word = (m[2] ?? 'true').toLowerCase();
  const status = word === 'true' ? 'True' : word === 'false' ? 'False' : 'Unknown';
  let timeoutMs = 5 * 60_000;
  if (timeout !== undefined) {
    try {
      timeoutMs = parseDuration(timeout);
    } catch (e: unknown) {
      if (e instanceof InvalidDurationError) throw new UsageError(`--timeout: ${e.message}`);
      throw e;
    }
  }
  return { type: m[1] ?? '', status, timeoutMs };
}

/** Which verbs take which of the flags that belong to some verbs only. */
function checkFlagPlacement(verb: string, values: Record<string, string | boolean | undefined>, named: boolean): void {
  const only: [string, boolean, string][] = [
    ['--full', verb === 'promote', 'promote only'],
    ['--unpin', verb === 'champion', 'champion only'],
    ['-A', verb === 'status', 'status only'],
    ['-o', verb === 'status' || verb === 'get', 'status and get only'],
    ['--watch', verb === 'get', 'get only'],
    ['--for', verb === 'status' && named, 'status KIND/NAME only'],
    ['--timeout', verb === 'status' && named && values['for'] !== undefined, 'status --for only'],
  ];
  const given: Record<string, boolean> = {
    '--full': values['full'] === true, '--unpin': values['unpin'] === true, '-A': values['all-namespaces'] === true,
    '-o': values['output'] !== undefined, '--watch': values['watch'] === true, '--for': values['for'] !== undefined,
    '--timeout': values['timeout'] !== undefined,
  };
  for (const [flag, allowed, where] of only) if (given[flag] && !allowed) throw new UsageError(`${flag} goes with ${where}`);
}

function noMore(rest: readonly string[]): void {
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
}

/** status, status KIND/NAME [--for ...], get KIND/NAME, pause/resume KIND/NAME: the verbs that take a target. */
function targetCommand(verb: 'status' | 'get' | 'pause' | 'resume', args: readonly string[], values: Record<string, string | boolean | undefined>, namespace: string | undefined): Command {
  const text = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
  const output = parseOutput(text(values['output']));
  if (verb === 'status' && args.length === 0) {
    const allNamespaces = values['all-namespaces'] === true;
    if (allNamespaces && namespace !== undefined) throw new UsageError('use -n or -A, not both');
    return { kind: 'status', namespace, allNamespaces, output };
  }
  if (values['all-namespaces'] === true) throw new UsageError('-A goes with status without a name');
  const { target, rest } = parseTarget(verb, args, verb === 'pause' || verb === 'resume' ? 'ModelDeployment' : undefined);
  noMore(rest);
  if (verb === 'get') return { kind: 'get', target, namespace, output, watch: values['watch'] === true };
  if (verb === 'status') {
    const forValue = text(values['for']);
    const wait = forValue === undefined ? undefined : parseWaitFor(forValue, text(values['timeout']));
    return { kind: 'status-of', target, namespace, output, wait };
  }
  return { kind: verb, target, namespace };
}

export function parseArgs(argv: readonly string[]): Invocation {
  const { values, positionals } = readFlags(argv);
  const text = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
  const namespace = text(values['namespace']);
  const invocation = (command: Command): Invocation => ({ command, kubeconfig: text(values['kubeconfig']), context: text(values['context']) });
  const [verb, ...args] = positionals;
  if (values['help'] === true || verb === undefined || verb === 'help') return invocation({ kind: 'help' });
  checkFlagPlacement(verb, values, args.length > 0);
  if (verb === 'status' || verb === 'get' || verb === 'pause' || verb === 'resume') return invocation(targetCommand(verb, args, values, namespace));
  if (!isNamed(verb)) throw new UsageError(`unknown command "${verb}"`);
  const [name, ...rest] = args;
  if (name === undefined) throw new UsageError(`${verb} needs the name of a ${['runs', 'versions', 'trigger', 'champion'].includes(verb) ? 'TrainingPipeline' : 'ModelDeployment'}`);
  if (verb === 'champion') return invocation(championCommand(name, rest, values['unpin'] === true, namespace));
  noMore(rest);
  if (verb === 'promote') return invocation({ kind: 'promote', name, namespace, full: values['full'] === true });
  return invocation({ kind: verb, name, namespace });
}
