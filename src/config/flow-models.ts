/**
 * The intent model of each flow: trained from the flow's examples (cached by content, so an unchanged flow is
 * never retrained) or, when the flow names one, a model folder trained elsewhere (external-model.ts); loaded into
 * onnxruntime and shared by the calls that start while it is current, with the version that shadows it, if
 * any (NLU_SHADOW, nlu/shadow.ts), loaded in a worker thread beside it.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { isSwitchboardError } from '../errors.ts';
import type { FlowFile, ModelDef } from '../flow/index.ts';
import { FLOW_TRAINING_OPTIONS, flowTrainingData } from '../flow/training-data.ts';
import { modelVersion, type ModelCache } from '../nlu/model-cache.ts';
import { IntentModel, MODEL_JSON } from '../nlu/model-dir.ts';
import { readPromotion } from '../nlu/promotion.ts';
import { shadowVersion, NO_SHADOW, type ShadowSetting } from '../nlu/shadow.ts';
import { SharedIntentModel } from '../nlu/shared-model.ts';
import { WorkerIntentModel } from '../nlu/worker-model.ts';
import type { IntentClassifier } from '../nlu/intent-classifier.ts';
import type { TrainingOptions } from '../nlu/trainer.ts';
import type { Logger } from '../observability/logger.ts';
import { externalModelVersion, loadExternalModel } from './external-model.ts';

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );

export interface FlowModelsOptions {
  cache: ModelCache;
  logger: Logger;
  /** Default FLOW_TRAINING_OPTIONS; the CLI trains with those too, so both reach the same versions. */
  training?: TrainingOptions;
  /** Which version shadows each flow's live model (NLU_SHADOW); none unless given. */
  shadow?: ShadowSetting;
}

export class FlowModels {
  readonly cache: ModelCache;
  readonly #log: Logger;
  readonly #training: TrainingOptions;
  readonly #shadow: ShadowSetting;
  /** Shadows already reported missing, so a periodic check does not repeat itself. */
  readonly #shadowMissing = new Set<string>();
  /** Promotions already reported as set aside, so a periodic check does not repeat itself. */
  readonly #setAside = new Set<string>();

  constructor(options: FlowModelsOptions) {
    this.cache = options.cache;
    this.#log = options.logger;
    this.#training = options.training ?? FLOW_TRAINING_OPTIONS;
    this.#shadow = options.shadow ?? NO_SHADOW;
  }

  /** The version `flow`'s model has (or will have once trained). */
  version(flow: FlowFile): string {
    return modelVersion(flowTrainingData(flow), this.#training);
  }

  /**
   * The flow's model, trained first if the cache lacks it; `current` is reused when it is the same version.
   * `flowDir` is the folder of the flow's file, which a flow's `model.path` is relative to. Null when training or
   * loading fails: the flow then understands exact examples only, which is logged.
   */
  async prepare(
    flow: FlowFile,
    current?: SharedIntentModel,
    flowDir = '.',
  ): Promise<SharedIntentModel | null> {
    if (flow.model) return this.#prepareExternal(flow, flow.model, current, flowDir);
    const fields = { flow: flow.id, version: flow.version };
    const started = performance.now();
    try {
      const data = flowTrainingData(flow);
      let cached = await this.cache.ensure(flow.id, data, this.#training);
      const promoted = await this.#promoted(flow, cached.version);
      if (promoted !== null) {
        if (current?.version === promoted) return current;
        const model = await IntentModel.load(this.cache.folder(flow.id, promoted));
        this.#log.info('promoted intent model loaded', {
          ...fields,
          modelVersion: promoted,
          ownVersion: cached.version,
        });
        return this.#shared(flow, model, promoted);
      }
      if (current?.version === cached.version) return current;
      let model: IntentModel;
      try {
        model = await IntentModel.load(cached.dir);
      } catch (err) {
        if (cached.trained || !isSwitchboardError(err, 'NLU_MODEL_INVALID')) throw err;
        // A cached model damaged on disk (a truncated file, say) is rebuilt rather than given up on.
        this.#log.warn('cached intent model is unreadable; training it again', {
          ...fields,
          modelVersion: cached.version,
          code: err.code,
          err,
        });
        await this.cache.discard(flow.id, cached.version);
        cached = await this.cache.ensure(flow.id, data, this.#training);
        model = await IntentModel.load(cached.dir);
      }
      const ms = Math.round(performance.now() - started);
      const details = { ...fields, modelVersion: cached.version, ms };
      if (cached.trained) this.#log.info('intent model trained', details);
      else this.#log.info('intent model loaded from cache', details);
      return this.#shared(flow, model, cached.version);
    } catch (err) {
      this.#log.error('intent model unavailable; the flow matches exact examples only', {
        ...fields,
        code: isSwitchboardError(err) ? err.code : 'NLU_TRAINING_FAILED',
        err,
      });
      return null;
    }
  }

  /**
   * For a periodic check: the model new calls of `flow` should get now that a promotion may have been made or
   * rolled back, or `current` when that is still it. Never trains: a version not in the cache keeps `current`.
   */
  async refresh(flow: FlowFile, current: SharedIntentModel): Promise<SharedIntentModel> {
    if (flow.model) return current;
    const own = modelVersion(flowTrainingData(flow), this.#training);
    const version = (await this.#promoted(flow, own)) ?? own;
    if (version === current.version) return current;
    const dir = this.cache.folder(flow.id, version);
    if (!(await exists(join(dir, MODEL_JSON)))) return current;
    try {
      const model = await this.#shared(flow, await IntentModel.load(dir), version);
      this.#log.info('intent model loaded', {
        flow: flow.id,
        version: flow.version,
        modelVersion: version,
        ownVersion: own,
      });
      return model;
    } catch (err) {
      this.#log.error('intent model unreadable; new calls keep the current one', {
        flow: flow.id,
        modelVersion: version,
        code: isSwitchboardError(err) ? err.code : 'NLU_MODEL_INVALID',
        err,
      });
      return current;
    }
  }

  /** The live model shared, with the version that shadows it for this flow when there is one. */
  async #shared(flow: FlowFile, model: IntentClassifier, version: string): Promise<SharedIntentModel> {
    return new SharedIntentModel(model, version, await this.#loadShadow(flow, version));
  }

  /**
   * The flow's shadow, loaded in a worker thread; null when none is set, it is the live version itself, or it
   * cannot load (reported: the flow is served without one).
   */
  async #loadShadow(flow: FlowFile, live: string): Promise<SharedIntentModel | null> {
    const version = shadowVersion(this.#shadow, flow.id);
    if (version === null || version === live) return null;
    const fields = { flow: flow.id, modelVersion: live, shadowVersion: version };
    const dir = this.cache.folder(flow.id, version);
    if (!(await exists(join(dir, MODEL_JSON)))) {
      // A version named for every flow is only in the cache of the flow it was trained for: no news elsewhere.
      const key = `${flow.id}:${version}`;
      if (this.#shadow.flows.has(flow.id) && !this.#shadowMissing.has(key))
        this.#log.warn('shadow intent model is not in the model cache; the flow runs without one', fields);
      this.#shadowMissing.add(key);
      return null;
    }
    try {
      const shadow = new SharedIntentModel(await WorkerIntentModel.load(dir), version);
      this.#log.info('shadow intent model loaded', fields);
      return shadow;
    } catch (err) {
      this.#log.error('shadow intent model unreadable; the flow runs without one', {
        ...fields,
        code: isSwitchboardError(err) ? err.code : 'NLU_MODEL_INVALID',
        err,
      });
      return null;
    }
  }

  /**
   * The version promoted over the flow's own (`own`), or null when there is none, or it no longer applies (the
   * flow's examples changed since, or its folder is gone), which is logged once per promotion.
   */
  async #promoted(flow: FlowFile, own: string): Promise<string | null> {
    let promotion;
    try {
      promotion = await readPromotion(this.cache, flow.id);
    } catch (err) {
      if (!this.#setAside.has(`${flow.id}:unreadable`))
        this.#log.error("promotion record unreadable; the flow's own model serves", { flow: flow.id, err });
      this.#setAside.add(`${flow.id}:unreadable`);
      return null;
    }
    if (promotion === null) return null;
    if (
      promotion.over === own &&
      (await exists(join(this.cache.folder(flow.id, promotion.version), MODEL_JSON)))
    )
      return promotion.version;
    const key = `${flow.id}:${promotion.version}:${own}`;
    if (!this.#setAside.has(key)) {
      this.#setAside.add(key);
      this.#log.warn("promoted intent model set aside: the flow's examples changed since, or it is gone", {
        flow: flow.id,
        modelVersion: promotion.version,
        promotedOver: promotion.over,
        ownVersion: own,
      });
    }
    return null;
  }

  async #prepareExternal(
    flow: FlowFile,
    def: ModelDef,
    current: SharedIntentModel | undefined,
    flowDir: string,
  ): Promise<SharedIntentModel | null> {
    const fields = { flow: flow.id, version: flow.version, path: def.path };
    const started = performance.now();
    try {
      const version = await externalModelVersion(def, flowDir);
      if (current?.version === version) return current;
      const model = await loadExternalModel(flow, def, flowDir);
      this.#log.info('intent model loaded from its folder', {
        ...fields,
        modelVersion: version,
        threshold: Math.round(model.threshold * 1000) / 1000,
        calibrated: model.calibrated,
        ms: Math.round(performance.now() - started),
      });
      return this.#shared(flow, model, version);
    } catch (err) {
      this.#log.error("the flow's model folder cannot serve it; the flow matches exact examples only", {
        ...fields,
        code: isSwitchboardError(err) ? err.code : 'NLU_MODEL_INVALID',
        err,
      });
      return null;
    }
  }
}
