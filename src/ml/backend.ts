// TensorFlow.js backend selection. The fallback order is fixed by the design: the native CUDA build
// (tfjs-node-gpu, only in the trainer image), the native CPU build (tfjs-node), the WASM backend, then the
// pure-JS CPU backend. The native packages are loaded by dynamic import because they are optional: they are not
// installed in development and cannot be bundled (they carry a native addon).
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
        return `${pkg} not loadable: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`;
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
 * Picks the first backend that initialises, starting at `from` when given (a forced backend is tried alone).
 * Returns the choice and why each earlier one was skipped, for the log and the lineage.
 */
export async function selectBackend(forced?: BackendName): Promise<BackendChoice> {
  const candidates = forced !== undefined ? [forced] : backendOrder;
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
