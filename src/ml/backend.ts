// TensorFlow.js backend selection. The fallback order is fixed by the design: the native CUDA build
// (tfjs-node-gpu), the native CPU build (tfjs-node, built by scripts/native-tfjs.sh), the WASM backend, then the
// pure-JS CPU backend. The native packages are loaded by dynamic import because they are optional (a machine or an
// image may lack them) and cannot be bundled (they carry a native addon); they resolve from node_modules, next to
// @tensorflow/tfjs, because they must register their backend in that same copy of tfjs.
//
// A caller that knows its workload passes it: below nativeMinMultiplyAdds per batch the native backends lose to
// WASM, so WASM goes first and the native ones stay as fallbacks. An elementwise op costs about the same on both
// (22-26 µs here), but TensorFlow's CPU matrix product on small operands costs twice WASM's (82 µs against 39 µs for
// 32×64 · 64×32: it goes through oneDNN and a thread pool), and only larger products repay that
// (bench/trainer-throughput.ts).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

export const backendOrder = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof backendOrder)[number];

export function isBackendName(s: string): s is BackendName {
  return (backendOrder as readonly string[]).includes(s);
}

/** The npm package that provides a native backend; both register the "tensorflow" backend on import. */
const nativePackage: Partial<Record<BackendName, string>> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};

/** The work of one training step, for the choice of backend: multiply-adds of one batch's forward pass. */
export interface Workload {
  readonly multiplyAddsPerBatch: number;
}

/**
 * Forward multiply-adds per batch of an MLP: the sum of each dense layer's inputs × units, times the batch. The
 * backward pass costs about twice as much on every backend alike, so the forward count is enough to compare.
 */
export function mlpMultiplyAdds(inputWidth: number, hiddenUnits: readonly number[], outputs: number, batchSize: number): number {
  const widths = [inputWidth, ...hiddenUnits, outputs];
  let perRow = 0;
  for (let i = 1; i < widths.length; i++) perRow += (widths[i - 1] ?? 0) * (widths[i] ?? 0);
  return perRow * batchSize;
}

/**
 * From this much work per batch the native backend trains faster than WASM (bench/trainer-throughput.ts on 2 shared
 * cores, 16 inputs, 5 classes): the 64-32 MLP at batch 128 (0.41M) ran 25.5k rows/s native against 52.8k on WASM,
 * at batch 512 (1.65M) they tied (89.9k, 90.9k), and the 512-256 MLP at batch 32 (4.5M) ran 4.4k against 2.4k.
 */
export const nativeMinMultiplyAdds = 2_000_000;

/** The order to try the backends in: a forced one alone; a small workload puts WASM first; otherwise backendOrder. */
export function candidateOrder(forced?: BackendName, workload?: Workload): readonly BackendName[] {
  if (forced !== undefined) return [forced];
  if (workload !== undefined && workload.multiplyAddsPerBatch < nativeMinMultiplyAdds) return ['wasm', 'tensorflow-gpu', 'tensorflow', 'cpu'];
  return backendOrder;
}

export interface BackendAttempt {
  readonly backend: BackendName;
  readonly ok: boolean;
  readonly reason?: string;
}

export interface BackendChoice {
  readonly backend: BackendName;
  readonly attempts: readonly BackendAttempt[];
}

/**
 * Folder holding the tfjs-backend-wasm .wasm files: the package's own dist/ (the bundles keep the package
 * external, so it is in node_modules in development and in the images alike).
 */
export function wasmDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';
}

async function tryBackend(name: BackendName): Promise<string | undefined> {
  const pkg = nativePackage[name];
  if (pkg !== undefined) {
    // Either native package registers "tensorflow"; the GPU package also runs on CPU when no GPU is visible,
    // so the "tensorflow" step reuses it if the GPU step already loaded it.
    if (tf.findBackendFactory('tensorflow') === null) {
      try {
        // A variable specifier keeps bundlers and the type checker from resolving the optional package.
        await import(pkg);
      } catch (e: unknown) {
        const hint = name === 'tensorflow' ? ' (make native-tfjs builds it)' : '';
        return `${pkg} not loadable${hint}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`;
      }
    }
    // tfjs-node-gpu registers "tensorflow" even without a GPU; only a visible GPU makes it the GPU choice.
    if (name === 'tensorflow-gpu' && !(await hasCudaDevice())) return 'no CUDA device visible';
    if (!(await tf.setBackend('tensorflow'))) return 'tensorflow backend failed to initialise';
    return undefined;
  }
  if (name === 'wasm') setWasmPaths(wasmDir());
  try {
    if (!(await tf.setBackend(name))) return `${name} backend failed to initialise`;
  } catch (e: unknown) {
    return `${name} backend failed: ${e instanceof Error ? e.message : String(e)}`;
  }
  return undefined;
}

async function hasCudaDevice(): Promise<boolean> {
  const { existsSync } = await import('node:fs');
  return existsSync('/dev/nvidia0') || existsSync('/dev/nvidiactl');
}

/**
 * Picks the first backend that initialises, in candidateOrder (a forced backend is tried alone). Returns the choice
 * and why each earlier one was skipped, for the log and the lineage.
 */
export async function selectBackend(forced?: BackendName, workload?: Workload): Promise<BackendChoice> {
  const candidates = candidateOrder(forced, workload);
  const attempts: BackendAttempt[] = [];
  for (const name of candidates) {
    const reason = await tryBackend(name);
    attempts.push(reason === undefined ? { backend: name, ok: true } : { backend: name, ok: false, reason });
    if (reason === undefined) {
      await tf.ready();
      return { backend: name, attempts };
    }
  }
  throw new Error(`no TensorFlow.js backend available: ${attempts.map((a) => `${a.backend}: ${a.reason ?? 'ok'}`).join('; ')}`);
}
