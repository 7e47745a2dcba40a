/**
 * How well the example flows' trained models understand callers who do not say the examples: paraphrases the
 * flows never list, and talk no flow is about (none of it in the generic out-of-scope training sentences).
 * The floors sit below what the models reach, so a change that makes understanding clearly worse fails here;
 * the measured rates are printed as diagnostics.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Understanding } from '../../../src/call/understanding.ts';
import { checkFlowText, type FlowFile } from '../../../src/flow/index.ts';
import { FLOW_TRAINING_OPTIONS, flowTrainingData } from '../../../src/flow/training-data.ts';
import { ModelCache } from '../../../src/nlu/model-cache.ts';
import { IntentModel } from '../../../src/nlu/model-dir.ts';
import { GENERIC_OUT_OF_SCOPE } from '../../../src/nlu/out-of-scope.ts';
import { normalizeUtterance } from '../../../src/nlu/normalize.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';

const PARAPHRASES: Record<string, Record<string, string[]>> = {
  pizza: {
    order: [
      'I want a pizza',
      'can I get a pizza',
      "I'd like to order a pizza",
      'I want to place an order',
      "I'd like to get a pizza delivered",
      'one pizza please',
      "I'm calling to order",
      'ordering a pizza',
      'I wanna order',
      'could I order some pizza',
    ],
    operator: [
      'let me talk to someone',
      'can I speak to a person',
      'I want a real person',
      'put me through to a real person',
      'connect me to an agent',
      'speak to an operator',
      'I need to talk to a person',
      'get me a real person please',
    ],
    yes: ['yes I would', "yeah that's fine", 'yes please do', 'sure thing yes'],
    no: ['no not really', "nope that's not it", 'no thank you very much'],
    repeat: ['can you say that one more time', 'what did you just say', 'sorry could you repeat that'],
  },
  support: {
    billing: [
      'a question about my bill',
      'I want to pay my bill',
      'I need help with a payment',
      'billing question',
      'there is a problem with my bill',
      'my bill is wrong',
      "I'd like to make a payment",
      'question about billing',
    ],
    technical: [
      'my internet is not working',
      'the internet is down',
      'I need tech support',
      'my connection is not working',
      'a technical problem',
      'I need technical help',
      'it stopped working',
      'my internet keeps going down',
    ],
    operator: [
      'let me talk to a person',
      'can I speak to a representative',
      'I want an agent',
      'a real person please',
      'talk to an agent',
      'I need a person',
    ],
  },
};

const OUT_OF_SCOPE = [
  "what's the capital of spain",
  'do you sell running shoes',
  "my neighbour's dog keeps barking",
  'how tall is the eiffel tower',
  'book a taxi for me',
  'what is the share price of apple',
  'put the radio on',
  'what year did the war end',
  'can you recommend a good book',
  'my phone battery is almost empty',
  'the garden needs watering',
  'who is the best footballer ever',
  'how do I bake bread',
  'is it snowing in new york',
];

const root = await mkdtemp(join(tmpdir(), 'switchboard-understanding-'));
const understandings = new Map<string, Understanding>();
const models: IntentModel[] = [];

function flowOf(id: string): FlowFile {
  const result = checkFlowText(readFileSync(new URL(`../../../flows/${id}.json`, import.meta.url), 'utf8'));
  assert.ok(result.ok);
  return result.flow;
}

before(async () => {
  const cache = new ModelCache({ dir: root });
  for (const id of Object.keys(PARAPHRASES)) {
    const flow = flowOf(id);
    const cached = await cache.ensure(id, flowTrainingData(flow), FLOW_TRAINING_OPTIONS);
    const model = await IntentModel.load(cached.dir);
    models.push(model);
    understandings.set(id, new Understanding(flow, { model, logger: memoryLogger().logger }));
  }
});

after(async () => {
  await Promise.all(models.map((m) => m.release()));
  await rm(root, { recursive: true, force: true });
});

async function intentOf(flow: string, text: string): Promise<string | null> {
  return (await understandings.get(flow)!.interpret(text, '', 0, '2026-11-25')).intent;
}

test('the test sentences are new to the models: no paraphrase is an example, no out-of-scope one is trained', () => {
  for (const [id, intents] of Object.entries(PARAPHRASES)) {
    const data = flowTrainingData(flowOf(id));
    const trained = new Set(
      [...Object.values(data.intents).flat(), ...(data.outOfScope ?? [])].map(normalizeUtterance),
    );
    for (const text of [...Object.values(intents).flat(), ...OUT_OF_SCOPE])
      assert.ok(!trained.has(normalizeUtterance(text)), `${id}: "${text}"`);
  }
  assert.ok(GENERIC_OUT_OF_SCOPE.length > OUT_OF_SCOPE.length);
});

for (const [flow, intents] of Object.entries(PARAPHRASES)) {
  test(`${flow}: paraphrases the flow never lists reach their intent`, async (t) => {
    let right = 0;
    let total = 0;
    const wrong: string[] = [];
    for (const [intent, texts] of Object.entries(intents)) {
      for (const text of texts) {
        total++;
        const got = await intentOf(flow, text);
        if (got === intent) right++;
        else wrong.push(`"${text}": ${got ?? 'none'} (not ${intent})`);
      }
    }
    t.diagnostic(`${right}/${total} right; missed: ${wrong.join('; ') || 'none'}`);
    assert.ok(right / total >= 0.8, `${right}/${total}: ${wrong.join('; ')}`);
  });

  test(`${flow}: talk about other things is out of scope`, async (t) => {
    const guessed: string[] = [];
    for (const text of OUT_OF_SCOPE) {
      const got = await intentOf(flow, text);
      if (got !== null) guessed.push(`"${text}": ${got}`);
    }
    const rejected = OUT_OF_SCOPE.length - guessed.length;
    t.diagnostic(
      `${rejected}/${OUT_OF_SCOPE.length} rejected; taken as intents: ${guessed.join('; ') || 'none'}`,
    );
    assert.ok(rejected / OUT_OF_SCOPE.length >= 0.8, guessed.join('; '));
  });
}
