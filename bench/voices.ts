/**
 * The example flows driven by voice alone against a real `switchboard serve`, once per flite caller voice: how
 * many spoken turns get the intent they should, how many calls end in the right state, and the word accuracy
 * of what the server heard (from its "caller heard" log, personal data shown for the purpose).
 * Usage: node --import tsx bench/voices.ts [voices=rms,kal,slt]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { placeCall, type CallerInput } from '../src/simulator/caller.ts';
import { FliteTts } from '../src/speech/tts/flite.ts';
import { phraseWords } from '../src/speech/stt/words.ts';
import { SPOKEN_CALLS, startFlowServices } from '../test/fixtures/spoken-calls.ts';
import { startServerProcess } from './server-process.ts';
import { wordErrors } from './word-errors.ts';

const voices = (process.argv[2] ?? 'rms,kal,slt').split(',');

const { url: servicesUrl, server: services } = await startFlowServices();
const models = await mkdtemp(join(tmpdir(), 'switchboard-bench-voices-'));
const server = await startServerProcess({
  MODELS_DIR: models,
  ORDERS_URL: servicesUrl,
  BILLING_URL: servicesUrl,
  // The flows' services are local doubles: loopback is refused unless allowed.
  HTTP_ALLOW_HOSTS: '127.0.0.1',
  LOG_LEVEL: 'info',
  LOG_PII: 'show',
});
const url = server.url;
server.child.once('exit', (code, signal) => {
  if (code !== 0) console.error(`the server exited: code ${code}, signal ${signal}`);
});
const logs = (): Record<string, unknown>[] => server.logs();
if (!/STT pocketsphinx/.test(server.output()))
  throw new Error('the server has no speech recognition: install pocketsphinx');

console.log('example flows by voice alone (pizza, support, appointment; 10 turns) against switchboard serve');
for (const voice of voices) {
  const tts = new FliteTts({ voice });
  let right = 0;
  let turns = 0;
  let ends = 0;
  let words = 0;
  let errors = 0;
  const misses: string[] = [];
  for (const call of SPOKEN_CALLS) {
    const inputs: CallerInput[] = [];
    for (const text of call.lines)
      inputs.push({ kind: 'speech', text, audio: (await tts.synthesize({ text })).mulaw });
    const result = await placeCall({
      url,
      flow: call.flow,
      inputs,
      idleHangupMs: 2500,
      maxDurationMs: 180_000,
    });
    const ofCall = logs().filter((r) => r.callId === result.callSid);
    const heard = ofCall.filter((r) => r.msg === 'caller heard');
    turns += call.lines.length;
    call.lines.forEach((line, i) => {
      const said = phraseWords(line).join(' ');
      words += said.split(' ').length;
      const text = (heard[i]?.pii as { text?: string } | undefined)?.text ?? '';
      errors += wordErrors(said, phraseWords(text).join(' '));
    });
    right += call.intents.filter((intent, i) => heard[i] !== undefined && heard[i].intent === intent).length;
    call.intents.forEach((intent, i) => {
      if (heard[i]?.intent === intent) return;
      const text = (heard[i]?.pii as { text?: string } | undefined)?.text;
      misses.push(
        `    ${call.flow}: "${call.lines[i]}" heard as ${text === undefined ? 'nothing' : `"${text}"`}, intent ${String(heard[i]?.intent)} (meant ${String(intent)})`,
      );
    });
    if (ofCall.find((r) => r.msg === 'call ended')?.state === call.end) ends++;
  }
  await tts.close();
  console.log(
    `  caller voice ${voice.padEnd(4)}: ${right}/${turns} turns understood as meant, ${ends}/${SPOKEN_CALLS.length} calls ended where they should, word accuracy ${(100 * (1 - errors / words)).toFixed(1)}% (${words} words)`,
  );
  for (const miss of misses) console.log(miss);
}

await server.stop();
services.close();
await rm(models, { recursive: true, force: true });
