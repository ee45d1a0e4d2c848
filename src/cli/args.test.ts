import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArgs, UsageError, type Command } from './args.js';

describe('parseArgs', () => {
  const ok: [string, string[], Command][] = [
    ['no arguments show the help', [], { kind: 'help' }],
    ['-h anywhere shows the help', ['runs', 'x', '-h'], { kind: 'help' }],
    ['status in the context namespace', ['status'], { kind: 'status', namespace: undefined, allNamespaces: false, output: 'table' }],
    ['status in a namespace', ['status', '-n', 'ml'], { kind: 'status', namespace: 'ml', allNamespaces: false, output: 'table' }],
    ['status everywhere', ['status', '-A'], { kind: 'status', namespace: undefined, allNamespaces: true, output: 'table' }],
    ['--namespace=x form', ['runs', 'churn', '--namespace=ml'], { kind: 'runs', name: 'churn', namespace: 'ml' }],
    ['flags before the command', ['-n', 'ml', 'versions', 'churn'], { kind: 'versions', name: 'churn', namespace: 'ml' }],
    ['trigger', ['trigger', 'churn'], { kind: 'trigger', name: 'churn', namespace: undefined }],
    ['promote one step', ['promote', 'web'], { kind: 'promote', name: 'web', namespace: undefined, full: false }],
    ['promote all the way', ['promote', 'web', '--full'], { kind: 'promote', name: 'web', namespace: undefined, full: true }],
    ['abort', ['abort', 'web', '-n', 'ml'], { kind: 'abort', name: 'web', namespace: 'ml' }],
    ['retry', ['retry', 'web'], { kind: 'retry', name: 'web', namespace: undefined }],
    ['-n joined to its value', ['-nml', 'status'], { kind: 'status', namespace: 'ml', allNamespaces: false, output: 'table' }],
    ['--all-namespaces', ['status', '--all-namespaces'], { kind: 'status', namespace: undefined, allNamespaces: true, output: 'table' }],
    ['-- ends the flags', ['runs', '-n', 'ml', '--', 'churn'], { kind: 'runs', name: 'churn', namespace: 'ml' }],
    ['champion pins a version', ['champion', 'churn', 'v3', '-n', 'ml'], { kind: 'champion', name: 'churn', namespace: 'ml', version: 'v3' }],
    ['champion --unpin removes the pin', ['champion', 'churn', '--unpin'], { kind: 'champion', name: 'churn', namespace: undefined, version: undefined }],
    ['status -o json', ['status', '-o', 'json'], { kind: 'status', namespace: undefined, allNamespaces: false, output: 'json' }],
    ['status of one object', ['status', 'md/web'], { kind: 'status-of', target: { kind: 'ModelDeployment', name: 'web' }, namespace: undefined, output: 'table', wait: undefined }],
    ['status --for a condition, True by default, 5m by default', ['status', 'tp/churn', '--for', 'condition=Ready'],
      { kind: 'status-of', target: { kind: 'TrainingPipeline', name: 'churn' }, namespace: undefined, output: 'table', wait: { type: 'Ready', status: 'True', timeoutMs: 300_000 } }],
    ['status --for condition=X=false --timeout', ['status', 'modeldeployments/web', '--for=condition=Progressing=false', '--timeout', '90s'],
      { kind: 'status-of', target: { kind: 'ModelDeployment', name: 'web' }, namespace: undefined, output: 'table', wait: { type: 'Progressing', status: 'False', timeoutMs: 90_000 } }],
    ['get KIND/NAME', ['get', 'md/web'], { kind: 'get', target: { kind: 'ModelDeployment', name: 'web' }, namespace: undefined, output: 'table', watch: false }],
    ['get KIND NAME -w', ['get', 'TrainingPipeline', 'churn', '-w'], { kind: 'get', target: { kind: 'TrainingPipeline', name: 'churn' }, namespace: undefined, output: 'table', watch: true }],
    ['get -o yaml', ['get', 'tp/churn', '-o', 'yaml', '-n', 'ml'], { kind: 'get', target: { kind: 'TrainingPipeline', name: 'churn' }, namespace: 'ml', output: 'yaml', watch: false }],
    ['pause a deployment by its bare name', ['pause', 'web'], { kind: 'pause', target: { kind: 'ModelDeployment', name: 'web' }, namespace: undefined }],
    ['resume a pipeline', ['resume', 'tp/churn'], { kind: 'resume', target: { kind: 'TrainingPipeline', name: 'churn' }, namespace: undefined }],
    ['undo', ['undo', 'web'], { kind: 'undo', name: 'web', namespace: undefined }],
  ];
  for (const [name, argv, want] of ok) {
    it(name, () => assert.deepEqual(parseArgs(argv).command, want));
  }

  it('keeps --kubeconfig and --context', () => {
    const inv = parseArgs(['status', '--kubeconfig', '/k', '--context=c']);
    assert.equal(inv.kubeconfig, '/k');
    assert.equal(inv.context, 'c');
  });

  const bad: [string, string[], RegExp][] = [
    ['an unknown command', ['deploy', 'x'], /unknown command "deploy"/],
    ['a command without its name', ['promote'], /promote needs the name of a ModelDeployment/],
    ['runs without a pipeline', ['runs'], /runs needs the name of a TrainingPipeline/],
    ['an unknown flag', ['status', '--follow'], /unknown flag --follow/],
    ['-n without a value', ['status', '-n'], /-n needs a value/],
    ['--full on another command', ['abort', 'web', '--full'], /--full goes with promote only/],
    ['-A on another command', ['runs', 'x', '-A'], /-A goes with status/],
    ['-n and -A together', ['status', '-A', '-n', 'x'], /not both/],
    ['extra arguments', ['abort', 'a', 'b'], /unexpected arguments: b/],
    ['a bare name after status', ['status', 'x'], /status needs KIND\/NAME/],
    ['an unknown kind', ['get', 'deploy/x'], /unknown kind "deploy"/],
    ['get without a target', ['get'], /get needs KIND\/NAME/],
    ['-o with another format', ['get', 'md/x', '-o', 'wide'], /-o takes json or yaml/],
    ['-o on another command', ['runs', 'x', '-o', 'json'], /-o goes with status and get only/],
    ['--watch on status', ['status', 'md/x', '-w'], /--watch goes with get only/],
    ['--for on the status list', ['status', '--for', 'condition=Ready'], /--for goes with status KIND\/NAME only/],
    ['--for without condition=', ['status', 'md/x', '--for', 'Ready'], /--for takes condition=TYPE/],
    ['--timeout without --for', ['status', 'md/x', '--timeout', '5m'], /--timeout goes with status --for only/],
    ['a bad --timeout', ['status', 'md/x', '--for', 'condition=Ready', '--timeout', '5 minutes'], /--timeout: "5 minutes" is not a duration/],
    ['undo without a deployment', ['undo'], /undo needs the name of a ModelDeployment/],
    ['an empty --namespace=', ['status', '--namespace='], /--namespace needs a value/],
    ['a value given to a switch', ['promote', 'web', '--full=yes'], /--full takes no value/],
    ['an unknown short flag', ['status', '-x'], /unknown flag -x/],
    ['champion without a version or --unpin', ['champion', 'churn'], /champion needs a VERSION or --unpin/],
    ['champion with a version and --unpin', ['champion', 'churn', 'v3', '--unpin'], /a VERSION or --unpin, not both/],
    ['--unpin on another command', ['runs', 'churn', '--unpin'], /--unpin goes with champion only/],
    ['champion without a pipeline', ['champion'], /champion needs the name of a TrainingPipeline/],
  ];
  for (const [name, argv, message] of bad) {
    it(`rejects ${name}`, () => assert.throws(() => parseArgs(argv), (e: unknown) => e instanceof UsageError && message.test(e.message)));
  }
});
