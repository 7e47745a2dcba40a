/**
 * The body of a classifying worker thread (worker-model.ts): it loads one model folder and answers requests to
 * classify text, one at a time, until it is told to release the model.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { IntentModel } from './model-dir.ts';
import { workerFailure, type WorkerFailure } from './worker-thread.ts';

export interface ClassifyJob {
  /** The model folder (model-dir.ts). */
  dir: string;
}

export type ToWorker = { type: 'classify'; id: number; text: string } | { type: 'release' };

export type FromWorker =
  | { type: 'ready'; labels: string[]; threshold: number }
  | { type: 'failed'; failure: WorkerFailure }
  | { type: 'released' }
  | { type: 'classified'; id: number; intent: string | null; confidence: number }
  | { type: 'error'; id: number; failure: WorkerFailure };

const port = parentPort;
if (port) {
  const send = (message: FromWorker): void => port.postMessage(message);
  let model: IntentModel;
  try {
    model = await IntentModel.load((workerData as ClassifyJob).dir);
  } catch (err) {
    send({ type: 'failed', failure: workerFailure(err) });
    process.exit(0);
  }
  // Requests run in order: onnxruntime's session is not shared between concurrent runs here.
  let chain = Promise.resolve();
  port.on('message', (message: ToWorker) => {
    chain = chain.then(async () => {
      if (message.type === 'release') {
        await model.release();
        send({ type: 'released' });
        return;
      }
      try {
        const { intent, confidence } = await model.classify(message.text);
        send({ type: 'classified', id: message.id, intent, confidence });
      } catch (err) {
        send({ type: 'error', id: message.id, failure: workerFailure(err) });
      }
    });
  });
  send({ type: 'ready', labels: [...model.labels], threshold: model.threshold });
}
