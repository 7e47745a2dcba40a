/**
 * Learning from calls: caller turns and what followed them read from journals, the review file ranked for a
 * person to label, and a candidate model trained from the labels (`switchboard learn`, `train --with`) against
 * a real SQLite journal store.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { main as evaluateMain } from '../../../src/cli/evaluate.ts';
import { main as learnMain, parseAge } from '../../../src/cli/learn.ts';
import { main as trainMain } from '../../../src/cli/train.ts';
import { openStore } from '../../../src/journal/open-store.ts';
import { encodeRecord, type JournalEntry, type JournalRecord } from '../../../src/journal/records.ts';
import { appendToSideJournal, beginSideJournal } from '../../../src/journal/side-journal.ts';
import { parseReview } from '../../../src/learning/review-file.ts';
import { reviewLines, type ReviewLine } from '../../../src/learning/review.ts';
import { callerTurns } from '../../../src/learning/turns.ts';
import { IntentModel } from '../../../src/nlu/model-dir.ts';
import { Logger } from '../../../src/observability/logger.ts';

const FLOW = new URL('../../../flows/pharmacy.json', import.meta.url).pathname;
const utter = (text: string, intent: string | null, confidence: number): JournalEntry => ({
  kind: 'in',
  event: { type: 'utterance', at: 0, text, intent, confidence, entities: {} },
});
const state = (inSeq: number, name: string): JournalEntry => ({ kind: 'state', in: inSeq, state: name });

/**
 * Three pharmacy calls, entries with the sequence numbers they will get (a start record is seq 1):
 * A: two no-matches in the greeting, then "pharmacist" and a transfer;
 * B: a no-match, the caller says it again, no-match, hangs up;
 * C: an exact example, straight to the prescription question.
 */
const CALLS: Record<string, JournalEntry[]> = {
  CAaaa: [
    state(1, 'greet'),
    utter('refill my meds please', null, 0.41),
    state(3, 'greet'),
    utter('i need my prescription refilled', null, 0.38),
    state(5, 'greet'),
    utter('pharmacist', 'operator', 1),
    { kind: 'eff', key: 'CAaaa:pharmacist.1', effect: { type: 'transfer', id: 't1', to: '+15555550100' } },
    state(7, 'pharmacist'),
    { kind: 'end', reason: 'transferred' },
  ],
  CAbbb: [
    state(1, 'greet'),
    utter('refill my meds', null, 0.45),
    state(3, 'greet'),
    utter('refill my meds please', null, 0.43),
    state(5, 'greet'),
    { kind: 'end', reason: 'caller hung up' },
  ],
  CAccc: [state(1, 'greet'), utter('i need a refill', 'refill', 1), state(3, 'rx')],
};

let root: string;
let storeUrl: string;
const saved = { STORE_URL: process.env.STORE_URL, MODELS_DIR: process.env.MODELS_DIR };

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'switchboard-learn-'));
  storeUrl = `sqlite:${join(root, 'journals.db')}`;
  const store = await openStore(storeUrl, { logger: new Logger({ level: 'error', sink: () => {} }) });
  const at = Date.now() - 60_000;
  for (const [id, entries] of Object.entries(CALLS)) {
    await beginSideJournal(
      store,
      'test',
      id,
      { kind: 'start', flow: 'pharmacy', flowVersion: 1, modelVersion: 'm1', params: {} },
      at,
    );
    await appendToSideJournal(store, 'test', id, () => entries, at);
  }
  await store.close();
  process.env.STORE_URL = storeUrl;
  process.env.MODELS_DIR = join(root, 'models');
});

after(async () => {
  for (const [key, value] of Object.entries(saved))
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  await rm(root, { recursive: true, force: true });
});

function records(id: string): JournalRecord[] {
  const entries = [
    { kind: 'start', flow: 'pharmacy', flowVersion: 1, modelVersion: 'm1', params: {} } as JournalEntry,
    ...CALLS[id]!,
  ];
  return entries.map((e, i) => ({ ...e, v: 1, callId: id, seq: i + 1, at: 1000 + i }));
}

function quiet(t: TestContext): { err: string[]; out: string[] } {
  const err: string[] = [];
  const out: string[] = [];
  t.mock.method(console, 'error', (...a: unknown[]) => void err.push(a.join(' ')));
  t.mock.method(console, 'log', (...a: unknown[]) => void out.push(a.join(' ')));
  return { err, out };
}

test('each caller turn says what followed it: no-match, the caller again, a transfer, a hang-up', () => {
  const a = callerTurns(records('CAaaa'));
  assert.deepEqual(
    a.map((t) => [t.heard, t.state, t.next, t.signals]),
    [
      ['refill my meds please', 'greet', 'greet', ['no-match']],
      ['i need my prescription refilled', 'greet', 'greet', ['no-match', 'transferred']],
      ['pharmacist', 'greet', 'pharmacist', ['transferred']],
    ],
  );
  const b = callerTurns(records('CAbbb'));
  assert.deepEqual(
    b.map((t) => t.signals),
    [
      ['no-match', 'repeated'],
      ['no-match', 'hung up'],
    ],
  );
  assert.deepEqual(
    callerTurns(records('CAccc')).map((t) => t.signals),
    [[]],
  );
});

test('the review file puts the phrasing with the most trouble first and groups turns phrased alike', () => {
  const lines = reviewLines(['CAaaa', 'CAbbb', 'CAccc'].flatMap((id) => callerTurns(records(id))));
  assert.equal(lines.length, 6);
  const first = lines.filter((l) => l.group === 1).map((l) => l.heard);
  assert.deepEqual(first.sort(), ['refill my meds', 'refill my meds please', 'refill my meds please']);
  assert.equal(lines[0]!.repeats, 2, '"refill my meds please" was heard twice');
  assert.equal(lines.at(-1)!.heard, 'i need a refill', 'an exact example with nothing after it comes last');
  assert.ok(lines.every((l) => l.label === null));
});

test('switchboard learn writes the review file; train --with trains a candidate that is not the live model', async (t) => {
  const io = quiet(t);
  const review = join(root, 'review.jsonl');
  assert.equal(await learnMain([FLOW, '--since', '7d', '--out', review]), 0, io.err.join('\n'));
  assert.match(
    io.err.at(-1)!,
    /6 caller turns \(5 with trouble after them\) in \d+ groups, from 3 calls of pharmacy/,
  );
  const lines = (await readFile(review, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as ReviewLine);
  assert.equal(lines.length, 6);
  assert.ok(!io.err.join('\n').includes('refill my meds'), 'the words are in the file, not in the messages');

  // Nothing recent enough: an empty file, not an error.
  assert.equal(await learnMain([FLOW, '--since', '1m', '--out', join(root, 'empty.jsonl')]), 0);
  assert.equal(await readFile(join(root, 'empty.jsonl'), 'utf8'), '');
  assert.equal(await learnMain([FLOW, '--since', 'a week']), 2);

  // A person labels the file: the no-matches are refills, the rest skipped.
  const labeled = lines.map((l) => ({
    ...l,
    label: l.intent === null ? 'refill' : 'skip',
  }));
  await writeFile(review, labeled.map((l) => JSON.stringify(l)).join('\n') + '\n');
  assert.equal(await trainMain([FLOW, '--with', review]), 0, io.err.join('\n'));
  const summary = io.out.join('\n');
  assert.match(summary, /labeled turns added: 3 \(0 unlabeled, 2 skipped\)/);
  const candidate = /candidate version:\s+(\S+) \(trained now; not live\)/.exec(summary)?.[1];
  const live = /live version:\s+(\S+)/.exec(summary)?.[1];
  assert.ok(candidate && live && candidate !== live, summary);
  const folder = /folder:\s+(\S+)/.exec(summary)![1]!;
  const model = await IntentModel.load(folder);
  t.after(() => model.release());
  assert.equal((await model.classify('refill my meds please')).intent, 'refill');
});

test('a review file with unknown labels or broken lines is reported line by line, and nothing is trained', async (t) => {
  const io = quiet(t);
  const file = join(root, 'bad.jsonl');
  await writeFile(
    file,
    [
      JSON.stringify({ heard: 'refill my meds', label: 'refil' }),
      '{ not json',
      JSON.stringify({ heard: 'talk to a pharmacist', label: 'refill' }),
      JSON.stringify({ heard: 'get my pills', label: 'refill' }),
      JSON.stringify({ heard: 'get my pills', label: 'oos' }),
    ].join('\n'),
  );
  assert.equal(await trainMain([FLOW, '--with', file]), 1);
  const messages = io.err.join('\n');
  assert.match(
    messages,
    /bad\.jsonl:1: unknown label "refil": use an intent of the flow \(refill, operator, cancel/,
  );
  assert.match(messages, /bad\.jsonl:2: not a JSON object/);
  assert.match(messages, /bad\.jsonl:3: labeled "refill", but the words are an example of intent "operator"/);
  assert.match(messages, /bad\.jsonl:5: labeled "oos", but line 4 labels the same words "refill"/);
  assert.match(messages, /4 lines to fix in .*bad\.jsonl; nothing was trained/);

  const parsed = parseReview('{"heard":"x y","label":null}\n{"heard":"a b","label":"skip"}\n', ['refill']);
  assert.deepEqual([parsed.unlabeled, parsed.skipped, parsed.labeled.length], [1, 1, 0]);
  assert.deepEqual(
    [parseAge('30m'), parseAge('2h'), parseAge('7d'), parseAge('all'), parseAge('7')],
    [1_800_000, 7_200_000, 604_800_000, null, undefined],
  );
});

/** Trains a candidate from labeled lines with `train --with`; resolves with its version. */
async function candidate(t: TestContext, name: string, lines: object[]): Promise<string> {
  const io = quiet(t);
  const file = join(root, `${name}.jsonl`);
  await writeFile(file, lines.map((l) => JSON.stringify(l)).join('\n'));
  assert.equal(await trainMain([FLOW, '--with', file]), 0, io.err.join('\n'));
  t.mock.restoreAll();
  return /candidate version:\s+(\S+)/.exec(io.out.join('\n'))![1]!;
}

test('evaluate: a candidate that fixes labeled turns passes; one with a planted mislabel regresses and exits 1', async (t) => {
  const truth = join(root, 'truth.jsonl');
  await writeFile(
    truth,
    [
      { heard: 'refill my meds please', state: 'greet', label: 'refill' },
      { heard: 'put me through to the pharmacist', state: 'greet', label: 'operator' },
      { heard: 'what is the capital of australia', state: 'greet', label: 'oos' },
      { heard: 'refill my meds', state: 'greet', label: 'skip' },
    ]
      .map((l) => JSON.stringify(l))
      .join('\n'),
  );
  const good = await candidate(t, 'good', [
    { heard: 'get my pills topped up', state: 'greet', label: 'refill' },
  ]);
  const planted = await candidate(t, 'planted', [
    { heard: 'put me through to the pharmacist', state: 'greet', label: 'cancel' },
  ]);

  let io = quiet(t);
  assert.equal(
    await evaluateMain([FLOW, '--model', good, '--since', 'all', '--labels', truth]),
    0,
    io.err.join('\n'),
  );
  let out = io.out.join('\n');
  assert.match(out, /recorded calls: 6 caller turns from 3 calls; /);
  assert.match(
    out,
    /labeled turns \(.*truth\.jsonl\): 3; live right 3 \(100\.0%\), candidate right 3 \(100\.0%\); fixed 0, regressions 0/,
  );
  assert.match(out, /judged 9 turns with both models in \d+ ms \(\d+ turns per second\)/);
  t.mock.restoreAll();

  io = quiet(t);
  assert.equal(await evaluateMain([FLOW, '--model', planted, '--since', 'all', '--labels', truth]), 1);
  out = io.out.join('\n');
  assert.match(out, /candidate right 2 \(66\.7%\); fixed 0, regressions 1/);
  assert.match(
    out,
    /REGRESSION greet: "put me through to the pharmacist" \[label operator\]: operator 0\.\d\d -> cancel 0\.\d\d; path goto pharmacist -> check cancel/,
  );
  assert.match(out, /1 labeled turns regress/);
  t.mock.restoreAll();

  // From a journal file instead of the store; the same call as CAaaa.
  const file = join(root, 'CAaaa.jsonl');
  await writeFile(
    file,
    records('CAaaa')
      .map((r) => encodeRecord(r) + '\n')
      .join(''),
  );
  io = quiet(t);
  assert.equal(await evaluateMain([FLOW, '--model', planted, file]), 0, io.err.join('\n'));
  assert.match(io.out.join('\n'), /recorded calls: 3 caller turns from 1 calls/);
  t.mock.restoreAll();

  io = quiet(t);
  assert.equal(await evaluateMain([FLOW, '--model', 'nope']), 1);
  assert.match(io.err.join('\n'), /no model version nope of pharmacy/);
  assert.equal(await evaluateMain([FLOW]), 2);
});
