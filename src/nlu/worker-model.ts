/**
 * An intent model run in a worker thread of its own. onnxruntime runs a graph on the thread that asks, so a
 * model on the main thread takes its inference time from every call's 20 ms audio and every turn. A model that
 * is not on any caller's path (a shadow candidate, shadow.ts) runs here instead: the main thread only posts the
 * text and reads the answer. Requests wait in a bounded queue; past it they are refused at once (NLU_BUSY).
 */
import type { Worker } from 'node:worker_threads';
import { SwitchboardError } from '../errors.ts';
import type { ClassifyJob, FromWorker, ToWorker } from './classify-worker.ts';
import type { IntentClassifier } from './intent-classifier.ts';
import { rebuiltError, startWorker } from './worker-thread.ts';

/** Requests waiting for the worker, by default, before more are refused. */
export const DEFAULT_MAX_PENDING = 64;

interface Pending {
  resolve: (result: { intent: string | null; confidence: number }) => void;
  reject: (err: Error) => void;
}

export class WorkerIntentModel implements IntentClassifier {
  readonly labels: readonly string[];
  readonly threshold: number;
  readonly #worker: Worker;
  readonly #maxPending: number;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  /** Why requests are refused: released, or the worker died; null while it serves. */
  #gone: SwitchboardError | null = null;
  #exited: Promise<void>;

  private constructor(worker: Worker, labels: string[], threshold: number, maxPending: number) {
    this.#worker = worker;
    this.labels = Object.freeze(labels);
    this.threshold = threshold;
    this.#maxPending = maxPending;
    this.#exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (message: FromWorker) => this.#answered(message));
    worker.once('error', (err) => this.#stop(`the worker failed: ${err.message}`));
    worker.once('exit', (code) => this.#stop(`the worker exited with code ${code}`));
    // A model nobody released must not keep the process alive; one with requests waiting does (#post).
    worker.unref();
  }

  /**
   * Loads the model folder (model-dir.ts) at `dir` in a new worker thread. Rejects as IntentModel.load does
   * (NLU_MODEL_INVALID naming what is wrong) when the folder cannot serve.
   */
  static load(dir: string, options: { maxPending?: number } = {}): Promise<WorkerIntentModel> {
    const job: ClassifyJob = { dir };
    const worker = startWorker(new URL('./classify-worker.ts', import.meta.url), job);
    return new Promise((resolve, reject) => {
      const settle = (): void => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      const failed = (err: Error): void => {
        settle();
        void worker.terminate();
        reject(err);
      };
      const onMessage = (message: FromWorker): void => {
        if (message.type === 'failed') return failed(rebuiltError(message.failure, 'NLU_MODEL_INVALID'));
        if (message.type !== 'ready')
          return failed(
            new SwitchboardError('NLU_MODEL_INVALID', `unexpected ${message.type} from the worker`),
          );
        settle();
        const maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
        resolve(new WorkerIntentModel(worker, message.labels, message.threshold, maxPending));
      };
      const onError = (err: Error): void =>
        failed(new SwitchboardError('NLU_MODEL_INVALID', `the model worker failed: ${err.message}`, { dir }));
      const onExit = (code: number): void =>
        failed(
          new SwitchboardError('NLU_MODEL_INVALID', `the model worker exited with code ${code}`, { dir }),
        );
      worker.on('message', onMessage);
      worker.once('error', onError);
      worker.once('exit', onExit);
    });
  }

  /** Requests posted and not yet answered. */
  get pending(): number {
    return this.#pending.size;
  }

  classify(text: string): Promise<{ intent: string | null; confidence: number }> {
    if (this.#gone) return Promise.reject(this.#gone);
    if (this.#pending.size >= this.#maxPending)
      return Promise.reject(
        new SwitchboardError('NLU_BUSY', `${this.#pending.size} requests are waiting`, {
          pending: this.#pending.size,
        }),
      );
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(id, { resolve, reject });
      this.#post({ type: 'classify', id, text });
    });
  }

  /** Frees the model's session in the worker, then ends the worker; requests waiting are refused. */
  async release(): Promise<void> {
    if (this.#gone === null) {
      this.#stop('the model was released');
      this.#worker.ref();
      const released = new Promise<void>((resolve) =>
        this.#worker.on('message', (message: FromWorker) => message.type === 'released' && resolve()),
      );
      this.#post({ type: 'release' });
      await Promise.race([released, this.#exited]);
      await this.#worker.terminate();
    }
    await this.#exited;
  }

  #post(message: ToWorker): void {
    this.#worker.postMessage(message);
  }

  #answered(message: FromWorker): void {
    if (message.type !== 'classified' && message.type !== 'error') return;
    const pending = this.#pending.get(message.id);
    if (!pending) return;
    this.#pending.delete(message.id);
    if (this.#pending.size === 0) this.#worker.unref();
    if (message.type === 'classified')
      pending.resolve({ intent: message.intent, confidence: message.confidence });
    else pending.reject(rebuiltError(message.failure, 'NLU_INFERENCE_FAILED'));
  }

  /** No more requests: those waiting are refused with why. */
  #stop(why: string): void {
    this.#gone ??= new SwitchboardError('NLU_INFERENCE_FAILED', why);
    for (const pending of this.#pending.values()) pending.reject(this.#gone);
    this.#pending.clear();
    this.#worker.unref();
  }
}
