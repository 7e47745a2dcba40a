/**
 * `switchboard models list FLOW | promote FLOW VERSION | rollback FLOW`: a flow's model versions in the model
 * cache (its own, the live one, candidates from `train --with`) with their figures, and which one new calls get.
 * A running server picks a promotion or a rollback up within seconds; calls under way keep the model they
 * started with.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { FlowFile } from '../flow/index.ts';
import { FLOW_TRAINING_OPTIONS, flowTrainingData } from '../flow/training-data.ts';
import { ModelCache, modelVersion } from '../nlu/model-cache.ts';
import { IntentModel, MODEL_JSON, MODEL_ONNX, type ModelManifest } from '../nlu/model-dir.ts';
import { cachedVersions, readPromotion, writePromotion, type Promotion } from '../nlu/promotion.ts';
import { parseShadowSetting, shadowVersion } from '../nlu/shadow.ts';
import { loadFlowArg } from './flow-arg.ts';
import { modelsDir } from './flow-model.ts';
import { CommandFailure, describeFailure } from './store-env.ts';

const HELP = `usage: switchboard models list FLOW
       switchboard models promote FLOW VERSION
       switchboard models rollback FLOW

  list      the flow's model versions in $MODELS_DIR (./data/models): which is live for new calls, which is
            the flow's own (trained from its examples), which shadows the live one (NLU_SHADOW), and
            candidates (switchboard train FLOW --with), each with its examples, accuracy on them,
            threshold, size and when it was trained
  promote   make VERSION live for new calls; calls under way keep theirs. It holds until the flow's examples
            change: then the flow's own model is live again
  rollback  go back to the version live before the last promotion (the flow's own, in the end)

A running server checks every 2 seconds and gives new calls the live version. To try a candidate on live
calls first, serve with NLU_SHADOW=VERSION (or FLOW=VERSION,...): it understands every turn beside the live
model without the call acting on it, and its disagreements are journaled and counted in /metrics.
Exit status: 0 on success; 1 when the flow or a version cannot be used, or there is nothing to roll back; 2 for a
usage error.`;

const NAME = 'switchboard models';

interface Versions {
  cache: ModelCache;
  own: string;
  promotion: Promotion | null;
  /** The promotion, when it still applies. */
  live: string;
  versions: string[];
}

async function versionsOf(flow: FlowFile): Promise<Versions> {
  const cache = new ModelCache({ dir: modelsDir() });
  const own = modelVersion(flowTrainingData(flow), FLOW_TRAINING_OPTIONS);
  const versions = await cachedVersions(cache, flow.id);
  const promotion = await readPromotion(cache, flow.id);
  const applies = promotion !== null && promotion.over === own && versions.includes(promotion.version);
  return {
    cache,
    own,
    promotion: applies ? promotion : null,
    live: applies ? promotion.version : own,
    versions,
  };
}

async function list(flow: FlowFile): Promise<void> {
  const v = await versionsOf(flow);
  const shadow = shadowVersion(parseShadowSetting(process.env.NLU_SHADOW), flow.id);
  if (flow.model) {
    console.log(
      `${flow.id} is understood by its own model folder (${flow.model.path}): nothing is cached for it`,
    );
    return;
  }
  console.log(`${flow.id}: ${v.versions.length} versions in ${modelsDir()}`);
  if (!v.versions.includes(v.own)) console.log(`  ${v.own}  own (not trained yet: serve or train trains it)`);
  for (const version of v.versions) {
    const dir = v.cache.folder(flow.id, version);
    const manifest = JSON.parse(await readFile(join(dir, MODEL_JSON), 'utf8')) as ModelManifest;
    const info = await stat(join(dir, MODEL_ONNX));
    const roles = [
      version === v.live ? 'live' : null,
      version === v.own ? 'own' : null,
      v.promotion?.previous.includes(version) ? 'rollback target' : null,
      version === shadow && version !== v.live ? 'shadow (NLU_SHADOW)' : null,
    ].filter((r) => r !== null);
    const m = manifest.metrics;
    console.log(
      `  ${version}  ${(roles.length ? roles.join(', ') : 'candidate').padEnd(15)}  ${m.examples} examples, ` +
        `${(m.validationAccuracy * 100).toFixed(1)}% right on them, threshold ${manifest.threshold.toFixed(3)}, ` +
        `${info.size} bytes, trained ${info.mtime.toISOString()}`,
    );
  }
}

async function promote(flow: FlowFile, version: string): Promise<void> {
  const v = await versionsOf(flow);
  if (!v.versions.includes(version))
    throw new CommandFailure(
      `no model version ${version} of ${flow.id} in ${modelsDir()} (switchboard models list ${flow.id})`,
    );
  const model = await IntentModel.load(v.cache.folder(flow.id, version));
  const labels = [...model.labels];
  await model.release();
  const wanted = Object.keys(flowTrainingData(flow).intents).sort();
  if (labels.join() !== wanted.join())
    throw new CommandFailure(
      `version ${version} answers ${labels.join(', ')}; ${flow.id} has ${wanted.join(', ')}: it was trained for other intents`,
    );
  if (version === v.live) {
    console.log(`${version} is already live for ${flow.id}`);
    return;
  }
  const previous = v.promotion ? [...v.promotion.previous, v.promotion.version] : [];
  await writePromotion(
    v.cache,
    flow.id,
    version === v.own ? null : { version, over: v.own, at: new Date().toISOString(), previous },
  );
  console.log(`${version} is live for new calls of ${flow.id} (was ${v.live}); calls under way keep theirs`);
}

async function rollback(flow: FlowFile): Promise<void> {
  const v = await versionsOf(flow);
  if (v.promotion === null)
    throw new CommandFailure(`nothing to roll back: ${flow.id}'s own model ${v.own} is live`);
  const previous = v.promotion.previous.filter((p) => v.versions.includes(p));
  const back = previous.pop();
  await writePromotion(
    v.cache,
    flow.id,
    back === undefined || back === v.own
      ? null
      : { ...v.promotion, version: back, previous, at: new Date().toISOString() },
  );
  console.log(`${back ?? v.own} is live for new calls of ${flow.id} (was ${v.promotion.version})`);
}

export async function main(args: string[]): Promise<number> {
  let positionals: string[];
  let help: boolean | undefined;
  try {
    ({
      positionals,
      values: { help },
    } = parseArgs({ args, allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } }));
  } catch (err) {
    console.error(`${NAME}: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (help) {
    console.log(HELP);
    return 0;
  }
  const [command, flowArg, version, ...rest] = positionals;
  const arity = command === 'promote' ? 3 : 2;
  if (
    !['list', 'promote', 'rollback'].includes(command ?? '') ||
    positionals.length !== arity ||
    rest.length > 0
  ) {
    console.error(`${NAME}: expected "list FLOW", "promote FLOW VERSION" or "rollback FLOW"\n\n${HELP}`);
    return 2;
  }
  const loaded = await loadFlowArg(flowArg!);
  if (!loaded.ok) {
    console.error(loaded.message.includes('\n') ? loaded.message : `${NAME}: ${loaded.message}`);
    return 1;
  }
  try {
    if (command === 'list') await list(loaded.flow);
    else if (loaded.flow.model)
      throw new CommandFailure(
        `${loaded.flow.id} is understood by its own model folder: edit the flow's "model" instead`,
      );
    else if (command === 'promote') await promote(loaded.flow, version!);
    else await rollback(loaded.flow);
    return 0;
  } catch (err) {
    console.error(`${NAME}: ${describeFailure(err)}`);
    return 1;
  }
}
