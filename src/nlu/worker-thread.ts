/**
 * Starting a worker thread on one of this folder's TypeScript modules. Workers do not inherit the TypeScript
 * loader the main thread registered (bin/switchboard.js, `--import tsx`), so the worker registers tsx first and
 * then imports its module. Nothing of this process's own execArgv (an inspector port, say) is passed on.
 */
import { Worker } from 'node:worker_threads';
import { ErrorCodes, SwitchboardError, isSwitchboardError, type ErrorCode } from '../errors.ts';

/** A worker running `module` (a URL beside the caller's, e.g. `new URL('./x.ts', import.meta.url)`). */
export function startWorker(module: URL, workerData: unknown): Worker {
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const entry = JSON.stringify(module.href);
  const bootstrap = `import(${tsx}).then((tsx) => { tsx.register(); return import(${entry}); });`;
  return new Worker(bootstrap, { eval: true, execArgv: [], workerData });
}

/** An error as a worker reports it: a SwitchboardError's code, message and data, or a plain error's message. */
export interface WorkerFailure {
  code: string | null;
  message: string;
  data: Record<string, unknown>;
}

/** The failure of `err`, to post to the main thread. */
export function workerFailure(err: unknown): WorkerFailure {
  if (isSwitchboardError(err)) return { code: err.code, message: err.message, data: { ...err.data } };
  return { code: null, message: err instanceof Error ? err.message : String(err), data: {} };
}

/** The worker's typed error rebuilt with its own detail, or `otherwise` for a plain error. */
export function rebuiltError(failure: WorkerFailure, otherwise: ErrorCode): SwitchboardError {
  if (failure.code !== null && Object.hasOwn(ErrorCodes, failure.code)) {
    // Its message starts with the code's text, which the rebuilt error adds again.
    const code = failure.code as ErrorCode;
    const prefix = `${ErrorCodes[code]}: `;
    const detail = failure.message.startsWith(prefix) ? failure.message.slice(prefix.length) : undefined;
    return new SwitchboardError(code, detail, failure.data);
  }
  return new SwitchboardError(otherwise, failure.message, failure.data);
}
