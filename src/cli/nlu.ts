/**
 * `switchboard nlu --model DIR "text"`: what the trained intent model and the built-in entity extractors make
 * of an utterance, as JSON. With no text, one utterance per stdin line and one JSON line per utterance, so
 * a file of test phrases can be piped through it.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { isSwitchboardError } from '../errors.ts';
import { extractBuiltin, type BuiltinEntity } from '../nlu/entities/index.ts';
import { IntentModel } from '../nlu/model-dir.ts';

const HELP = `usage: switchboard nlu --model DIR ["text"]

Classifies the text with the intent model in DIR (written by "switchboard train") and extracts the built-in
entities. Prints one JSON object: { "intent": name or null, "confidence": 0..1, "entities": [{ "entity", "value" }] }.
With no text, reads one utterance per line from stdin and prints one JSON line for each.

  --model DIR   model folder (model.onnx + model.json); required for now
  -h, --help    show this help

Exit status: 0 on success, 1 when the model cannot be loaded, 2 for a usage error.`;

const ENTITIES: readonly BuiltinEntity[] = ['number', 'digits', 'date', 'time', 'phone_number', 'yes', 'no'];

export interface NluResult {
  intent: string | null;
  confidence: number;
  entities: { entity: BuiltinEntity; value: string }[];
}

/** Today's date in the local time zone, YYYY-MM-DD: relative dates ("tomorrow") count from it. */
function localToday(now = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

export async function understand(model: IntentModel, text: string, today = localToday()): Promise<NluResult> {
  const { intent, confidence } = await model.classify(text);
  const entities: NluResult['entities'] = [];
  for (const entity of ENTITIES) {
    const value = extractBuiltin(entity, text, { today });
    if (value !== null) entities.push({ entity, value });
  }
  return { intent, confidence: Math.round(confidence * 10_000) / 10_000, entities };
}

export async function main(args: string[], stdin: NodeJS.ReadableStream = process.stdin): Promise<number> {
  let values: { model?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { model: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    console.error(`switchboard nlu: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.model === undefined) {
    // A later form takes a flow file here; until then a bare positional is more likely that than text.
    console.error(
      `switchboard nlu: --model DIR is required for now (running against a flow is not supported yet)\n\n${HELP}`,
    );
    return 2;
  }

  let model: IntentModel;
  try {
    model = await IntentModel.load(values.model);
  } catch (err) {
    const message = isSwitchboardError(err) || err instanceof Error ? err.message : String(err);
    console.error(`switchboard nlu: ${values.model}: ${message}`);
    return 1;
  }
  try {
    if (positionals.length > 0) {
      console.log(JSON.stringify(await understand(model, positionals.join(' '))));
      return 0;
    }
    const today = localToday();
    for await (const line of createInterface({ input: stdin, crlfDelay: Infinity }))
      console.log(JSON.stringify(await understand(model, line, today)));
    return 0;
  } finally {
    await model.release();
  }
}
