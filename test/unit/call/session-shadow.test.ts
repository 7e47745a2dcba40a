/**
 * A candidate model shadowing the live one (NLU_SHADOW) on a spoken call: the call acts on the live model only,
 * the candidate's answer is compared off the turn's path, and a disagreement is journaled beside the turn,
 * counted in the metrics, logged without the words, and shown by `learn` and the calls page. Real models (trained
 * here, the shadow in a worker thread), the real session and journal; the energy VAD and a scripted speech
 * engine (test double) hear the caller.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { PacerClock } from '../../../src/audio/pacer.ts';
import { readJournal } from '../../../src/call/call-journal.ts';
import { MediaSession } from '../../../src/call/session.ts';
import { FlowModels } from '../../../src/config/flow-models.ts';
import { compileFlow, validateFlow, type FlowFile } from '../../../src/flow/index.ts';
import { FLOW_TRAINING_OPTIONS, flowTrainingData } from '../../../src/flow/training-data.ts';
import { MemoryStore } from '../../../src/journal/memory.ts';
import { callerTurns } from '../../../src/learning/turns.ts';
import { ModelCache } from '../../../src/nlu/model-cache.ts';
import { parseShadowSetting } from '../../../src/nlu/shadow.ts';
import type { SharedIntentModel } from '../../../src/nlu/shared-model.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';
import { createServerMetrics } from '../../../src/observability/metrics.ts';
import { openEnergyVad } from '../../../src/speech/vad/energy.ts';
import { FliteTts } from '../../../src/speech/tts/flite.ts';
import { PromptCache } from '../../../src/speech/tts/prompt-cache.ts';
import { InboundEncoder } from '../../../src/telephony/media-streams.ts';
import { buildTimeline } from '../../../src/web/calls/timeline.ts';
import { ManualClock } from '../../fakes/manual-clock.ts';
import { RecordingSocket } from '../../fakes/recording-socket.ts';
import { ScriptedStt } from '../../fakes/scripted-stt.ts';
import { ToneTts } from '../../fakes/tone-tts.ts';
import { streamParams, testJournals } from '../../fixtures/journals.ts';

const FLOW = {
  id: 'shop',
  version: 1,
  intents: {
    refill: {
      examples: ['refill my prescription', 'i need a refill', 'refill please', 'renew my medication'],
    },
    operator: { examples: ['talk to a pharmacist', 'a real person', 'speak to someone', 'operator'] },
  },
  start: 'ask',
  states: {
    ask: { say: 'hi', on: { refill: 'rx', operator: 'person' } },
    rx: { say: 'which', on: { refill: 'rx', operator: 'person' } },
    person: { say: 'hold', hangup: true },
  },
  policy: { noInputMs: 20_000, maxRetries: 5 },
};
/** Not an example: the live model hears a person asked for; the candidate was taught it as a refill. */
const DISPUTED = 'put me through to a person please';
const AGREED = 'i need my medication refilled';

let root: string;
let speech: Uint8Array;
let live: SharedIntentModel;
let candidate: string;
const { logger: modelLog, records: modelRecords } = memoryLogger('debug');

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'switchboard-shadow-'));
  const tts = new FliteTts({ voice: 'kal' });
  speech = (await tts.synthesize({ text: 'I want a refill' })).mulaw;
  await tts.close();
  const cache = new ModelCache({ dir: root });
  const flow = FLOW as unknown as FlowFile;
  const data = flowTrainingData(flow);
  data.intents['refill'] = [...data.intents['refill']!, DISPUTED];
  candidate = (await cache.ensure('shop', data, FLOW_TRAINING_OPTIONS)).version;
  const models = new FlowModels({ cache, logger: modelLog, shadow: parseShadowSetting(`shop=${candidate}`) });
  live = (await models.prepare(flow))!;
});

after(async () => {
  live?.retire();
  await live?.released;
  await rm(root, { recursive: true, force: true });
});

async function call(script: string[]) {
  const socket = new RecordingSocket();
  const store = new MemoryStore();
  const journals = await testJournals(store);
  const { logger, records } = memoryLogger('debug');
  const metrics = createServerMetrics();
  const time = new ManualClock();
  const result = validateFlow(FLOW);
  assert.ok(result.ok);
  const s = new MediaSession(socket, {
    flows: new Map([['shop', compileFlow(result.flow)]]),
    models: new Map([['shop', live]]),
    journals,
    defaultFlow: 'shop',
    prompts: new PromptCache(new ToneTts()),
    pacerClock: new PacerClock({ clock: time }),
    clock: time,
    metrics,
    logger,
    hearing: { stt: new ScriptedStt(script), openVad: openEnergyVad },
  });
  const enc = new InboundEncoder({ streamSid: 'MZ1', callSid: 'CA1', accountSid: 'AC1' });
  let timestamp = 0;
  const send = (mulaw: Uint8Array): void => {
    for (let at = 0; at < mulaw.length; at += 160) {
      s.handleMessage(enc.media(Buffer.from(mulaw.subarray(at, at + 160)).toString('base64'), timestamp));
      timestamp += 20;
    }
  };
  const until = async (what: string, pred: () => boolean, ms = 8000) => {
    for (let waited = 0; !pred(); waited += 20) {
      if (waited > ms) throw new Error(`timed out waiting until ${what}`);
      await time.tick(20);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  /** The caller answers the prompt just sent once it has played. */
  const answer = async (): Promise<void> => {
    const marks = socket.marks();
    s.handleMessage(enc.mark(marks.at(-1)!));
    send(new Uint8Array(400 * 8).fill(0xff));
    send(speech);
    send(new Uint8Array(1200 * 8).fill(0xff));
  };
  s.handleMessage(enc.connected());
  s.handleMessage(enc.start(await streamParams(journals, 'CA1', 'shop')));
  return { s, socket, store, records, metrics, until, answer };
}

const shadowCount = (metrics: ReturnType<typeof createServerMetrics>, outcome: string): number =>
  metrics.shadowTurns.get({ outcome });

test('the shadow is loaded in a worker beside the live model, which keeps its own version', () => {
  assert.ok(live.shadow, 'the live model carries its shadow');
  assert.equal(live.shadow.version, candidate);
  assert.notEqual(live.version, candidate);
  assert.ok(
    modelRecords.some((r) => r.msg === 'shadow intent model loaded' && r['shadowVersion'] === candidate),
  );
});

test('a disagreement is journaled beside the turn, counted and logged; the call follows the live model', async () => {
  const c = await call([AGREED, DISPUTED]);
  await c.until('the first prompt is sent', () => c.socket.marks().length === 1);
  await c.answer();
  await c.until('the flow takes the refill', () => c.s.flowState === 'rx');
  await c.until('the shadow agreed', () => shadowCount(c.metrics, 'agree') === 1);
  await c.until('the second prompt is sent', () => c.socket.marks().length === 2);
  await c.answer();
  await c.until('the live model sends the caller to a person', () => c.s.flowState === 'person');
  await c.until('the shadow disagreed', () => shadowCount(c.metrics, 'disagree') === 1);
  await c.s.settled();
  c.s.handleClose(1000);
  await c.s.closed;

  const journal = await readJournal(c.store, 'CA1');
  const shadows = journal.filter((r) => r.kind === 'shadow');
  assert.equal(shadows.length, 1, 'only the disagreement is journaled');
  const record = shadows[0]!;
  assert.ok(record.kind === 'shadow');
  assert.equal(record.version, candidate);
  assert.equal(record.intent, 'refill');
  const disputed = journal.find(
    (r) => r.kind === 'in' && r.event.type === 'utterance' && r.event['text'] === DISPUTED,
  );
  assert.ok(disputed?.kind === 'in');
  assert.equal(disputed.event['intent'], 'operator', 'the call acted on the live model');
  assert.equal(record.turn, disputed.event['at'], 'the record names the turn it is about');
  assert.ok(record.seq > disputed.seq);

  const line = c.records.find((r) => r.msg === 'shadow model understood the turn differently');
  assert.ok(line, 'the disagreement is logged');
  assert.equal(line['intent'], 'operator');
  assert.equal(line['shadowIntent'], 'refill');
  assert.equal(line['shadowVersion'], candidate);
  assert.equal(JSON.stringify(line).includes(DISPUTED), false, 'the words are not in the log line');

  // Learning from calls sees it, and so does the calls page.
  const turns = callerTurns(journal);
  assert.deepEqual(
    turns.map((t) => t.shadow?.intent ?? null),
    [null, 'refill'],
  );
  const timeline = buildTimeline(journal);
  assert.ok(
    timeline.rows.some((r) => r.detail?.includes(`shadow model ${candidate} understood refill`)),
    JSON.stringify(timeline.rows.map((r) => [r.title, r.detail])),
  );
});
