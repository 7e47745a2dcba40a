import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AgentTranscriber } from '../../../src/simulator/agent-transcriber.ts';
import { FliteTts } from '../../../src/speech/tts/flite.ts';

let transcriber: AgentTranscriber | { unavailable: string };
let tts: FliteTts;

before(async () => {
  tts = new FliteTts({ voice: 'rms' });
  transcriber = await AgentTranscriber.open();
});

after(async () => {
  if (transcriber instanceof AgentTranscriber) await transcriber.close();
  await tts.close();
});

/** Words of `expected`, in order, that `heard` has too (a longest common subsequence), over all of them. */
function wordRecall(expected: string, heard: string): number {
  const a = expected.split(' ');
  const b = heard.split(' ');
  const row = new Array<number>(b.length + 1).fill(0);
  for (const word of a) {
    let diagonal = 0;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = word === b[j - 1] ? diagonal + 1 : Math.max(row[j]!, row[j - 1]!);
      diagonal = above;
    }
  }
  return row[b.length]! / a.length;
}

test('the agent is transcribed from its audio as the caller heard it, with no knowledge of the flow', async (t) => {
  if (!(transcriber instanceof AgentTranscriber))
    return t.skip(`pocketsphinx unavailable: ${transcriber.unavailable}`);
  const prompts = [
    'what size would you like small medium or large',
    'your order is placed it will be ready in fifteen minutes goodbye',
    'sorry i did not catch that please say it again',
  ];
  for (const text of prompts) {
    const heard = await transcriber.transcribe((await tts.synthesize({ text })).mulaw);
    assert.ok(wordRecall(text, heard) >= 0.8, `"${text}" transcribed as "${heard}"`);
  }
});

test('silence transcribes as no words', async (t) => {
  if (!(transcriber instanceof AgentTranscriber))
    return t.skip(`pocketsphinx unavailable: ${transcriber.unavailable}`);
  assert.equal(await transcriber.transcribe(new Uint8Array(16000).fill(0xff)), '');
  assert.equal(await transcriber.transcribe(new Uint8Array(0)), '');
});
