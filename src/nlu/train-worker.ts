/**
 * The body of a training worker thread: trains one model and writes its folder, then reports. Training is
 * seconds of dense arithmetic; on the main thread it would stall every live call's 20 ms audio.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isSwitchboardError } from '../errors.ts';
import { writeModelDir } from './model-dir.ts';
import { train, type TrainingData, type TrainingOptions } from './trainer.ts';

export interface TrainingJob {
  data: TrainingData;
  options: TrainingOptions;
  /** Folder to write the model to. */
  dir: string;
}

export type TrainingReport =
  | { ok: true; trainingMs: number }
  | { ok: false; code: string | null; message: string; data: Record<string, unknown> };

async function run(job: TrainingJob): Promise<TrainingReport> {
  try {
    const model = train(job.data, job.options);
    await writeModelDir(model, job.dir);
    return { ok: true, trainingMs: model.metrics.trainingMs };
  } catch (err) {
    if (isSwitchboardError(err))
      return { ok: false, code: err.code, message: err.message, data: { ...err.data } };
    return { ok: false, code: null, message: err instanceof Error ? err.message : String(err), data: {} };
  }
}

if (parentPort) parentPort.postMessage(await run(workerData as TrainingJob));
