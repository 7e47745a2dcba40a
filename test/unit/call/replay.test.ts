/**
 * Recorded calls in test/replay/ replay identically against the current flows and intent models; tampered logs
 * (the negative controls) must not: an altered event is reported at its record, a damaged record is refused, a
 * torn last record is left out, and a changed flow is caught where the call first goes differently.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { replayCall, type Divergence, type EventDivergence } from '../../../src/call/replay.ts';
import { Understanding } from '../../../src/call/understanding.ts';
import { describeDivergence } from '../../../src/cli/replay.ts';
import { isSwitchboardError } from '../../../src/errors.ts';
import { compileFlow, validateFlow, type CompiledFlow, type FlowFile } from '../../../src/flow/index.ts';
import { FLOW_TRAINING_OPTIONS, flowTrainingData } from '../../../src/flow/training-data.ts';
import { encodeRecord, parseJsonLines, type JournalRecord } from '../../../src/journal/records.ts';
import { ModelCache } from '../../../src/nlu/model-cache.ts';
import { IntentModel } from '../../../src/nlu/model-dir.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';

const REPLAY_DIR = new URL('../../replay/', import.meta.url).pathname;
const FLOWS_DIR = new URL('../../../flows/', import.meta.url).pathname;
const modelsDir = mkdtempSync(join(tmpdir(), 'sb-replay-models-'));
after(() => rmSync(modelsDir, { recursive: true, force: true }));

function flowFile(id: string): FlowFile {
  const result = validateFlow(JSON.parse(readFileSync(join(FLOWS_DIR, `${id}.json`), 'utf8')));
  assert.ok(result.ok, `flows/${id}.json is valid`);
  return result.flow;
}

const understandings = new Map<string, Promise<Understanding>>();
/** The flow's current intent model, trained as the server trains it. */
function understandingFor(flow: FlowFile): Promise<Understanding> {
  let u = understandings.get(flow.id);
  if (!u) {
    u = (async () => {
      const cached = await new ModelCache({ dir: modelsDir }).ensure(
        flow.id,
        flowTrainingData(flow),
        FLOW_TRAINING_OPTIONS,
      );
      return new Understanding(flow, {
        model: await IntentModel.load(cached.dir),
        logger: memoryLogger().logger,
      });
    })();
    understandings.set(flow.id, u);
  }
  return u;
}

function load(name: string): JournalRecord[] {
  const { records, tornTail } = parseJsonLines(readFileSync(join(REPLAY_DIR, name), 'utf8'));
  assert.equal(tornTail, false);
  return records;
}

async function replay(records: JournalRecord[], compiled?: CompiledFlow) {
  const start = records[0]!;
  assert.equal(start.kind, 'start');
  const flow = flowFile(start.kind === 'start' ? start.flow : '');
  return replayCall(compiled ?? compileFlow(flow), records, { understanding: await understandingFor(flow) });
}

const logs = readdirSync(REPLAY_DIR).filter((f) => f.endsWith('.jsonl'));

test('test/replay holds recorded calls: keypad, spoken, and one resumed after its server was killed', () => {
  assert.ok(logs.length >= 3, logs.join(', '));
  const resumed = logs.map(load).filter((r) => r.some((x) => x.kind === 'in' && x.event.type === 'resume'));
  assert.ok(resumed.length >= 1, 'a call that was resumed on a new stream');
  const spoken = logs.map(load).filter((r) => r.some((x) => x.kind === 'in' && x.event.type === 'utterance'));
  assert.ok(spoken.length >= 1, 'a call with spoken turns');
});

for (const name of logs) {
  test(`${name} replays identically against the current flow and model`, async () => {
    const report = await replay(load(name));
    assert.equal(report.divergence, null, JSON.stringify(report.divergence, null, 2));
    assert.ok(report.events > 5);
  });
}

/** Re-encode records after a change, so their checksums are valid and only the content differs. */
const reencode = (records: JournalRecord[]): JournalRecord[] =>
  parseJsonLines(records.map((r) => encodeRecord(r)).join('\n')).records;

test('negative control: a key changed in a recorded call is caught at its record', async () => {
  const records = load('pizza-keypad.jsonl');
  const index = records.findIndex((r) => r.kind === 'in' && r.event.type === 'dtmf' && r.event.digit === '3');
  assert.ok(index > 0, 'the call pressed 3 for a large pizza');
  const tampered = records.map((r, i) =>
    i === index && r.kind === 'in' ? { ...r, event: { ...r.event, digit: '2' } } : r,
  );
  const report = await replay(reencode(tampered));
  assert.ok(report.divergence, 'the tampered log must not replay identically');
  assert.equal(report.divergence.record, records[index]!.seq);
});

/** The divergence of a replay that must differ at one of the call's events. */
function atEvent(divergence: Divergence | null): EventDivergence {
  assert.ok(divergence && divergence.what !== 'flow', JSON.stringify(divergence));
  return divergence;
}

test('negative control: words changed in a spoken call are understood differently', async () => {
  const records = load('pizza-spoken.jsonl');
  const index = records.findIndex((r) => r.kind === 'in' && r.event.type === 'utterance');
  const tampered = records.map((r, i) =>
    i === index && r.kind === 'in' ? { ...r, event: { ...r.event, text: 'operator' } } : r,
  );
  const d = atEvent((await replay(reencode(tampered))).divergence);
  assert.equal(d.what, 'understanding');
  assert.equal(d.record, records[index]!.seq);
  // Said in the greeting, it led on to `size` on the call; understood now, it asks for a person.
  assert.equal(d.state, 'greet');
  assert.deepEqual(d.recordedPath, ['greet', 'size']);
  assert.deepEqual(d.replayedPath, ['greet', 'human']);
  const words = describeDivergence(d);
  assert.ok(words.startsWith(`at record ${d.record}: caller said “operator” in state \`greet\`\n`), words);
  assert.match(
    words,
    /understood: +recorded as intent order \(1\.00\)\n +now as intent operator \(\d\.\d\d\)\n/,
  );
  assert.match(words, /replayed effects: +timer t2 cancelled\n +said “Please hold while I connect you\.”/);
});

test('negative control: a changed flow is caught where the call first goes differently', async () => {
  const flow = flowFile('pizza');
  const changed = { ...flow, states: { ...flow.states, size: { ...flow.states.size!, next: 'confirm' } } };
  const report = await replay(load('pizza-keypad.jsonl'), compileFlow(changed));
  assert.equal(report.divergence?.what, 'state');
  assert.deepEqual([report.divergence.expected, report.divergence.got], ['count', 'confirm']);
});

test('a key that now leads elsewhere through a decision state: both paths, the state passed through shown', async () => {
  const flow = flowFile('pizza');
  const confirm = flow.states.confirm!;
  const changed: FlowFile = {
    ...flow,
    states: {
      ...flow.states,
      confirm: { ...confirm, on: { ...confirm.on, 'dtmf:1': 'big-order' } },
      'big-order': { next: [{ if: 'count >= 3', goto: 'human' }, { goto: 'place' }] },
    },
  };
  const records = load('pizza-keypad.jsonl');
  const d = atEvent((await replay(records, compileFlow(changed))).divergence);
  const pressed = records.find((r) => r.seq === d.record);
  assert.ok(pressed?.kind === 'in');
  assert.deepEqual(pressed.event, d.event);
  assert.deepEqual(d.event, { type: 'dtmf', at: d.event.at, digit: '1' });
  assert.equal(d.what, 'state');
  assert.equal(d.state, 'confirm');
  assert.deepEqual(d.recordedPath, ['confirm', 'place']);
  assert.deepEqual(d.replayedPath, ['confirm', 'big-order', 'human']);
  assert.deepEqual(
    d.replayedEffects.map((e) => e.type),
    ['timer.cancel', 'say'],
  );
  assert.deepEqual(
    d.recordedEffects.map((e) => e.type),
    ['timer.cancel', 'http'],
  );
  const words = describeDivergence(d);
  assert.ok(words.startsWith(`at record ${d.record}: caller pressed 1 in state \`confirm\`\n`), words);
  assert.match(words, /replayed path: +confirm → big-order → human$/m);
});

test('effects changed behind a decision state: the record, the path through it, and the effects in words', async () => {
  const flow = flowFile('pizza');
  const changed: FlowFile = {
    ...flow,
    states: { ...flow.states, discount: { ...flow.states.discount!, say: 'Ten percent off today.' } },
  };
  const d = atEvent((await replay(load('pizza-keypad.jsonl'), compileFlow(changed))).divergence);
  assert.equal(d.what, 'effects');
  assert.equal(d.event.type, 'http.done');
  // The call journaled only where it stopped; the replay shows the decision state it passed.
  assert.deepEqual(d.recordedPath, ['place', 'discount']);
  assert.deepEqual(d.replayedPath, ['place', 'deal', 'discount']);
  const words = describeDivergence(d);
  assert.ok(
    words.startsWith(`at record ${d.record}: web request place.10 answered 200 in state \`place\``),
    words,
  );
  assert.match(words, /recorded effects: +said “Good news: orders of three or more get ten percent off\.”$/m);
  assert.match(words, /replayed effects: +said “Ten percent off today\.”$/m);
});

test('effects that read the same in words are shown as they are, the first differing pair', async () => {
  // The order sent to the pizzeria's service differs only in its body, which the words leave out.
  const records = load('pizza-keypad.jsonl');
  const tampered = records.map((r) =>
    r.kind === 'eff' && r.effect.type === 'http'
      ? { ...r, effect: { ...r.effect, body: { size: 'large', count: '5' } } }
      : r,
  );
  const d = atEvent((await replay(reencode(tampered))).divergence);
  assert.equal(d.what, 'effects');
  const words = describeDivergence(d);
  assert.ok(words.startsWith(`at record ${d.record}: caller pressed 1 in state \`confirm\`\n`), words);
  assert.match(words, /recorded effect: +\{"type":"http",.*"body":\{"size":"large","count":"5"\}/);
  assert.match(words, /replayed effect: +\{"type":"http",.*"body":\{"size":"large","count":"4"\}/);
});

test('negative control: a record altered without its checksum is refused as damaged, naming it', () => {
  const lines = readFileSync(join(REPLAY_DIR, 'pizza-keypad.jsonl'), 'utf8').split('\n');
  lines[5] = lines[5]!.replace('"at":', '"at":1');
  assert.throws(
    () => parseJsonLines(lines.join('\n')),
    (err: unknown) => isSwitchboardError(err, 'JOURNAL_CORRUPT') && err.data.record === 6,
  );
});

test('a torn last record is left out and the rest replays', async () => {
  const text = readFileSync(join(REPLAY_DIR, 'pizza-keypad.jsonl'), 'utf8').trimEnd();
  const torn = text.slice(0, text.length - 25);
  const { records, tornTail } = parseJsonLines(torn);
  assert.equal(tornTail, true);
  assert.equal(records.length, text.split('\n').length - 1);
  const report = await replay(records);
  assert.equal(report.divergence, null);
});

test('a log with a gap in its sequence numbers, or from a newer format, is refused with a typed error', () => {
  const lines = readFileSync(join(REPLAY_DIR, 'pizza-keypad.jsonl'), 'utf8').trimEnd().split('\n');
  assert.throws(
    () => parseJsonLines([...lines.slice(0, 4), ...lines.slice(5)].join('\n')),
    (err: unknown) => isSwitchboardError(err, 'JOURNAL_GAP') && err.data.expected === 5,
  );
  const newer = parseJsonLines(lines.join('\n')).records.map((r, i) => (i === 2 ? { ...r, v: 3 } : r));
  assert.throws(
    () => parseJsonLines(newer.map((r) => encodeRecord(r)).join('\n')),
    (err: unknown) => isSwitchboardError(err, 'JOURNAL_VERSION_UNSUPPORTED'),
  );
});
