// Synchronous last-resort cleanup for the harness: runs on normal exit and on SIGINT/SIGTERM/SIGHUP
// (Ctrl-C, a killed test runner), so a run never leaves server processes or temp folders behind.
const hooks = new Set<() => void>();
let installed = false;

const signalNumbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

function runAll(): void {
  for (const hook of [...hooks].reverse()) {
    try {
      hook();
    } catch {
      // keep going: the other hooks still matter
    }
  }
  hooks.clear();
}

/** Registers fn to run synchronously at exit; returns a function that unregisters it. */
export function onExit(fn: () => void): () => void {
  if (!installed) {
    installed = true;
    process.on('exit', runAll);
    for (const signal of Object.keys(signalNumbers) as NodeJS.Signals[]) {
      process.once(signal, () => {
        // A caller with its own graceful handler (the cluster CLI) registers it first and exits itself;
        // this one only runs when nobody else handles the signal.
        if (process.listenerCount(signal) > 0) return;
        runAll();
        process.exit(128 + (signalNumbers[signal] ?? 1));
      });
    }
  }
  hooks.add(fn);
  return () => hooks.delete(fn);
}
