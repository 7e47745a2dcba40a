/**
 * `switchboard nlu FLOW "text"` and `switchboard nlu --model DIR "text"`: what the trained intent model and the
 * entity extractors make of an utterance, as JSON. With no text, one utterance per stdin line and one JSON line
 * per utterance, so a file of test phrases can be piped through it.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { isSwitchboardError } from '../errors.ts';
import {
  extractBuiltin,
  extractCustom,
  type BuiltinEntity,
  type EntityValues,
} from '../nlu/entities/index.ts';
import { ExampleMatcher } from '../nlu/example-matcher.ts';
import type { IntentClassifier } from '../nlu/intent-classifier.ts';
import { localDate } from '../call/understanding.ts';
import { loadFlowArg } from './flow-arg.ts';
import { loadFlowModel, loadModelDir } from './flow-model.ts';

const HELP = `usage: switchboard nlu FLOW ["text"]
       switchboard nlu --model DIR ["text"]

Prints what the caller's text means as one JSON object:
  { "intent": name or null, "confidence": 0..1, "entities": [{ "entity", "value" }] }
intent null means out of scope: the flow would take its no-match path.
With no text, reads one utterance per line from stdin and prints one JSON line for each.

With FLOW (a .json file, or a flow id in $FLOWS_DIR) the answer is the one a call on that flow gets: a flow
example said exactly is that example's intent (confidence 1), anything else goes to the flow's model
(trained first, into $MODELS_DIR, if it is not there yet); entities are the built-ins and the flow's own.
With --model, DIR is a model folder written by "switchboard train --data", or a Hugging Face-style folder
(model.onnx, tokenizer.json, config.json) whose labels are the intents; entities are the built-ins. A flow can
name such a folder too (its "model"), and then FLOW is understood with it.

  --model DIR        model folder
  --threshold X      lowest confidence that counts (0 to 1) for a Hugging Face-style folder, default 0;
                     a folder from "train --data" has its own, and a flow's is calibrated on its examples
  -h, --help         show this help

Exit status: 0 on success, 1 when the flow or model cannot be loaded, 2 for a usage error.`;

const ENTITIES: readonly BuiltinEntity[] = ['number', 'digits', 'date', 'time', 'phone_number', 'yes', 'no'];

export interface NluResult {
  intent: string | null;
  confidence: number;
  entities: { entity: string; value: string }[];
}

/** What turns text into a result: a model, plus (for a flow) its exact examples and its own entities. */
export interface Interpreter {
  model: IntentClassifier;
  matcher?: ExampleMatcher;
  entities?: Readonly<Record<string, EntityValues>>;
}

/** Today's date in the local time zone, YYYY-MM-DD: relative dates ("tomorrow") count from it. */
const localToday = (): string => localDate(Date.now());

export async function understand(
  interpreter: Interpreter,
  text: string,
  today = localToday(),
): Promise<NluResult> {
  const { intent, confidence } = interpreter.matcher?.match(text) ?? (await interpreter.model.classify(text));
  const entities: NluResult['entities'] = [];
  for (const [entity, values] of Object.entries(interpreter.entities ?? {})) {
    const value = extractCustom(values, text, { fuzzy: true });
    if (value !== null) entities.push({ entity, value });
  }
  for (const entity of ENTITIES) {
    const value = extractBuiltin(entity, text, { today });
    if (value !== null) entities.push({ entity, value });
  }
  return { intent, confidence: Math.round(confidence * 10_000) / 10_000, entities };
}

async function loadInterpreter(
  model: string | undefined,
  threshold: number | undefined,
  flowArg: string | undefined,
): Promise<Interpreter> {
  if (model !== undefined) {
    try {
      return { model: await loadModelDir(model, threshold) };
    } catch (err) {
      throw new LoadError(`${model}: ${messageOf(err)}`);
    }
  }
  const loaded = await loadFlowArg(flowArg!);
  if (!loaded.ok) throw new LoadError(loaded.message);
  const flow = loaded.flow;
  try {
    const flowModel = await loadFlowModel(flow, loaded.path);
    if (flowModel.note !== null) console.error(`switchboard nlu: ${flowModel.note}`);
    return {
      model: flowModel.model,
      matcher: new ExampleMatcher(flow.intents ?? {}),
      entities: Object.fromEntries(
        Object.entries(flow.entities ?? {}).map(([name, def]) => [name, def.values]),
      ),
    };
  } catch (err) {
    throw new LoadError(`${flow.id}: ${messageOf(err)}`);
  }
}

class LoadError extends Error {}

function messageOf(err: unknown): string {
  return isSwitchboardError(err) || err instanceof Error ? err.message : String(err);
}

export async function main(args: string[], stdin: NodeJS.ReadableStream = process.stdin): Promise<number> {
  let values: { model?: string; threshold?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        model: { type: 'string' },
        threshold: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    console.error(`switchboard nlu: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const flowArg = values.model === undefined ? positionals.shift() : undefined;
  if (values.model === undefined && flowArg === undefined) {
    console.error(`switchboard nlu: FLOW or --model DIR is required\n\n${HELP}`);
    return 2;
  }

  let threshold: number | undefined;
  if (values.threshold !== undefined) {
    threshold = Number(values.threshold);
    if (values.model === undefined || values.threshold.trim() === '' || !(threshold >= 0 && threshold <= 1)) {
      console.error(`switchboard nlu: --threshold takes a number from 0 to 1, with --model\n\n${HELP}`);
      return 2;
    }
  }

  let interpreter: Interpreter;
  try {
    interpreter = await loadInterpreter(values.model, threshold, flowArg);
  } catch (err) {
    if (!(err instanceof LoadError)) throw err;
    console.error(err.message.includes('\n') ? err.message : `switchboard nlu: ${err.message}`);
    return 1;
  }
  try {
    if (positionals.length > 0) {
      console.log(JSON.stringify(await understand(interpreter, positionals.join(' '))));
      return 0;
    }
    const today = localToday();
    for await (const line of createInterface({ input: stdin, crlfDelay: Infinity }))
      console.log(JSON.stringify(await understand(interpreter, line, today)));
    return 0;
  } finally {
    await interpreter.model.release();
  }
}
