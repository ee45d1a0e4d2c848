// The server's last resort for an error nothing else handled (uncaughtException, unhandledRejection): a controlled
// crash, never a silent continue. It logs the error, puts what the inference logs hold in memory into the spill
// folder (replayed by the next start, which the kubelet's restart policy brings), tries the store for what is left
// of a short deadline, and exits non-zero (70, internal error) whether or not the flush finished.
import { exitCodes } from '../shared/pod-contract.js';

export interface FatalOptions {
  readonly log: (message: string, meta: Readonly<Record<string, unknown>>) => void;
  /** Saves what can be saved; the crash waits for it at most deadlineMs. */
  readonly flush: (deadlineMs: number) => Promise<unknown>;
  readonly exit: (code: number) => void;
  readonly deadlineMs: number;
}

/** Returns the handler to install for both events; the first fatal error decides, later ones are only logged. */
export function fatalHandler(o: FatalOptions): (kind: string, error: unknown) => void {
  let crashing = false;
  return (kind, error) => {
    const meta = { kind, error: error instanceof Error ? error.message : String(error), stack: error instanceof Error ? error.stack : undefined };
    if (crashing) {
      o.log('another unexpected error while crashing', meta);
      return;
    }
    crashing = true;
    o.log('unexpected error: saving the inference logs and exiting', meta);
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      o.exit(exitCodes.internalError);
    };
    const timer = setTimeout(finish, o.deadlineMs);
    let flushing: Promise<unknown>;
    try {
      flushing = o.flush(o.deadlineMs);
    } catch (e: unknown) {
      flushing = Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    flushing
      .catch((e: unknown) => o.log('saving the inference logs failed', { error: e instanceof Error ? e.message : String(e) }))
      .finally(() => {
        clearTimeout(timer);
        finish();
      });
  };
}
