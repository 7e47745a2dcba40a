/** Only the flows' own words reach the prompt cache's folder: a read-back of a caller's number never does. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixedTexts, shareablePrompts } from '../../../src/call/shareable-prompts.ts';
import { compileFlow, renderTemplate, type CompiledFlow, type FlowFile } from '../../../src/flow/index.ts';
import { splitSentences } from '../../../src/speech/tts/sentences.ts';
import { PromptCache } from '../../../src/speech/tts/prompt-cache.ts';
import { ToneTts } from '../../fakes/tone-tts.ts';

const demo = JSON.parse(
  readFileSync(new URL('../../../flows/demo.json', import.meta.url), 'utf8'),
) as FlowFile;
const READ_BACK = demo.states.confirm!.say!;
const SPOKEN = renderTemplate(READ_BACK, { callback: '5551234' });

test("a flow's fixed texts: placeholder-free templates and sentences, its apologies; never a slot's words", () => {
  const texts = fixedTexts(demo);
  assert.ok(texts.has(demo.states.menu!.say!), 'a whole fixed prompt');
  assert.ok(texts.has('If that is right, press 1.'), "a read-back's fixed sentence");
  assert.ok(texts.has('To enter it again, press 2.'));
  assert.ok(!texts.has(READ_BACK), 'a template with a placeholder is not fixed text');
  assert.ok(![...texts].some((t) => t.includes('{{')));
  assert.ok(texts.size >= 10, `${texts.size} texts`);
});

test('against the loaded flows, a read-back sentence is not shareable and its fixed neighbours are', () => {
  const flows = new Map<string, CompiledFlow>([['demo', compileFlow(demo)]]);
  const shareable = shareablePrompts(flows);
  const sentences = splitSentences(SPOKEN);
  assert.deepEqual(
    sentences.map((s) => shareable(s)),
    [false, true, true],
    JSON.stringify(sentences),
  );
  assert.equal(shareable(SPOKEN), false);
  // Flows are read at each test: a reloaded flow's new words count, and the removed ones no longer do.
  const edited = {
    ...demo,
    states: { ...demo.states, hours: { ...demo.states.hours!, say: 'Open all day.' } },
  };
  flows.set('demo', compileFlow(edited));
  assert.equal(shareable('Open all day.'), true);
  assert.equal(shareable(demo.states.hours!.say!), false);
});

test('the prompt cache writes the fixed sentences to its folder and keeps the number in memory only', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sb-shareable-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const flows = new Map<string, CompiledFlow>([['demo', compileFlow(demo)]]);
  const tts = new ToneTts();
  const cache = new PromptCache(tts, { dir, persist: shareablePrompts(flows) });
  const prompts = await Promise.all(splitSentences(SPOKEN).map((text) => cache.get({ text })));
  await cache.flush();
  assert.equal((await readdir(dir)).length, 2, 'the two fixed sentences');
  assert.equal(cache.stats.diskWrites, 2);

  // A second cache on the folder: the fixed sentences come from disk, the number is synthesized again.
  const again = new PromptCache(tts, { dir, persist: shareablePrompts(flows) });
  const before = tts.calls;
  const reread = await Promise.all(splitSentences(SPOKEN).map((text) => again.get({ text })));
  assert.equal(tts.calls - before, 1);
  assert.equal(again.stats.diskHits, 2);
  assert.deepEqual(reread[0]!.mulaw, prompts[0]!.mulaw);

  // Without a policy, a folder gets nothing at all.
  const none = new PromptCache(tts, { dir: join(dir, 'none') });
  await none.get({ text: 'If that is right, press 1.' });
  await none.flush();
  assert.deepEqual(await readdir(join(dir, 'none')), []);
});
