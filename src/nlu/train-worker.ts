/**
 * The body of a training worker thread: trains one model and writes its folder, then reports. Training is
 * seconds of dense arithmetic; on the main thread it would stall every live call's 20 ms audio.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { writeModelDir } from './model-dir.ts';
import { train, type TrainingData, type TrainingOptions } from './trainer.ts';
import { workerFailure, type WorkerFailure } from './worker-thread.ts';

export interface TrainingJob {
  data: TrainingData;
  options: TrainingOptions;
  /** Folder to write the model to. */
  dir: string;
}

export type TrainingReport = { ok: true; trainingMs: number } | ({ ok: false } & WorkerFailure);

async function run(job: TrainingJob): Promise<TrainingReport> {
  try {
    const model = train(job.data, job.options);
    await writeModelDir(model, job.dir);
    return { ok: true, trainingMs: model.metrics.trainingMs };
  } catch (err) {
    return { ok: false, ...workerFailure(err) };
  }
}

if (parentPort) parentPort.postMessage(await run(workerData as TrainingJob));
