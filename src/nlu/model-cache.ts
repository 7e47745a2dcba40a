/**
 * Trained models on disk, keyed by what they were trained from: the data, the options and the training code
 * itself. Asking for a model that exists costs a stat; anything else trains it once, in a worker thread, and
 * moves the finished folder into place in one rename, so several processes sharing the folder never see half a
 * model and at worst train the same one twice.
 *
 * Layout: `<root>/<name>/<version>/{model.onnx,model.json}`, version being 16 hex digits of the key's SHA-256.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SwitchboardError, isSwitchboardError } from '../errors.ts';
import { MODEL_FORMAT_VERSION, MODEL_JSON, MODEL_ONNX } from './model-dir.ts';
import type { TrainingJob, TrainingReport } from './train-worker.ts';
import type { TrainingData, TrainingOptions } from './trainer.ts';
import { rebuiltError, startWorker } from './worker-thread.ts';

/** Trains `job` and writes its folder; the default runs {@link trainInWorker}. */
export type Trainer = (job: TrainingJob) => Promise<void>;

export interface ModelCacheOptions {
  /** Root folder of the cache, created when first needed. */
  dir: string;
  trainer?: Trainer;
}

export interface CachedModel {
  /** The model folder, ready for IntentModel.load. */
  dir: string;
  version: string;
  /** True when this call trained it, false when it was already there. */
  trained: boolean;
}

// The modules whose source decides what a data set trains to. Their text is part of the key, so a changed
// trainer or featurizer retrains every model instead of serving one made by older code under the same key.
const TRAINING_CODE = [
  'trainer.ts',
  'featurizer.ts',
  'mlp.ts',
  'normalize.ts',
  'random.ts',
  'onnx-writer.ts',
  'protobuf.ts',
];
let codeDigest: string | undefined;

function trainingCodeDigest(): string {
  if (codeDigest === undefined) {
    const hash = createHash('sha256');
    for (const file of TRAINING_CODE) hash.update(file).update(readFileSync(new URL(file, import.meta.url)));
    codeDigest = hash.digest('hex');
  }
  return codeDigest;
}

/** JSON with object keys sorted, so the same content always hashes the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The version a model trained from `data` with `options` gets: 16 hex digits. */
export function modelVersion(data: TrainingData, options: TrainingOptions = {}): string {
  const key = canonical({ format: MODEL_FORMAT_VERSION, code: trainingCodeDigest(), data, options });
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/** Names become folder names: anything but letters, digits, `-` and `_` is replaced. */
function safeName(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
  return safe === '' ? '_' : safe;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export class ModelCache {
  readonly root: string;
  readonly #trainer: Trainer;
  /** Trainings run one at a time: the other core stays free for live calls. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: ModelCacheOptions) {
    this.root = options.dir;
    this.#trainer = options.trainer ?? trainInWorker;
  }

  /** Where the model for `name` at `version` lives (or would). */
  folder(name: string, version: string): string {
    return join(this.root, safeName(name), version);
  }

  /** The cached model for `name` trained from `data`, training it first when missing. */
  async ensure(name: string, data: TrainingData, options: TrainingOptions = {}): Promise<CachedModel> {
    const version = modelVersion(data, options);
    const dir = this.folder(name, version);
    if (await complete(dir)) return { dir, version, trained: false };
    const job = this.#queue.then(() => this.#build(dir, data, options));
    this.#queue = job.catch(() => undefined);
    return { dir, version, trained: await job };
  }

  /** Removes a cached model (one found corrupt, say) so the next ensure trains it again. */
  async discard(name: string, version: string): Promise<void> {
    await rm(this.folder(name, version), { recursive: true, force: true });
  }

  /** Trains into a temporary folder beside the target and renames it into place. */
  async #build(dir: string, data: TrainingData, options: TrainingOptions): Promise<boolean> {
    if (await complete(dir)) return false; // another request, or another process, got there first
    const parent = join(dir, '..');
    await mkdir(parent, { recursive: true });
    const temp = `${dir}.tmp-${process.pid}-${Date.now()}`;
    try {
      await this.#trainer({ data, options, dir: temp });
      try {
        await rename(temp, dir);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // Another process renamed the same model into place first; theirs is as good as ours.
        if ((code === 'ENOTEMPTY' || code === 'EEXIST') && (await complete(dir))) return false;
        throw err;
      }
      return true;
    } catch (err) {
      if (isSwitchboardError(err)) throw err;
      throw new SwitchboardError(
        'NLU_TRAINING_FAILED',
        `could not write the model to ${parent}: ${(err as Error).message}`,
        {},
        { cause: err },
      );
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
  }
}

async function complete(dir: string): Promise<boolean> {
  return (await exists(join(dir, MODEL_JSON))) && (await exists(join(dir, MODEL_ONNX)));
}

/** Trains in a fresh worker thread, which exits when done; a crashed worker is NLU_TRAINING_FAILED. */
export function trainInWorker(job: TrainingJob): Promise<void> {
  return new Promise((resolve, reject) => {
    let report: TrainingReport | undefined;
    const worker = startWorker(new URL('./train-worker.ts', import.meta.url), job);
    worker.once('message', (message: TrainingReport) => {
      report = message;
    });
    worker.once('error', (err) => {
      report ??= { ok: false, code: null, message: err.message, data: {} };
    });
    worker.once('exit', (exitCode) => {
      if (report?.ok) return resolve();
      if (report) return reject(rebuiltError(report, 'NLU_TRAINING_FAILED'));
      reject(
        new SwitchboardError('NLU_TRAINING_FAILED', `the training worker exited with code ${exitCode}`, {
          exitCode,
        }),
      );
    });
  });
}
