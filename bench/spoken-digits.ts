/**
 * Spoken digit strings, per flite caller voice: a prescription number (7 digits) and a ZIP code (5 digits) said
 * digit by digit to the states of flows/pharmacy.json that collect them, heard by pocketsphinx with those states'
 * listen contexts and understood as on a call. An entry is right when the digits collected are exactly those said.
 * Usage: node --import tsx bench/spoken-digits.ts [voices=kal,slt,rms,awb] [entries per length=20]
 */
import { readFile } from 'node:fs/promises';
import { mulawToPcm } from '../src/audio/mulaw.ts';
import { listenContext } from '../src/call/listen-context.ts';
import { Understanding } from '../src/call/understanding.ts';
import { checkFlowText } from '../src/flow/index.ts';
import { Rng } from '../src/nlu/random.ts';
import { Logger } from '../src/observability/logger.ts';
import { PocketsphinxStt } from '../src/speech/stt/pocketsphinx.ts';
import { FliteTts } from '../src/speech/tts/flite.ts';
import { recognize } from './recognize.ts';

const voices = (process.argv[2] ?? 'kal,slt,rms,awb').split(',');
const perLength = Number(process.argv[3] ?? 20);
const ENTRIES = [
  { state: 'rx', length: 7 },
  { state: 'zip', length: 5 },
] as const;
const WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];

const checked = checkFlowText(await readFile(new URL('../flows/pharmacy.json', import.meta.url), 'utf8'));
if (!checked.ok) throw new Error('flows/pharmacy.json does not validate');
const flow = checked.flow;
const understanding = new Understanding(flow, { logger: new Logger({ level: 'error', sink: () => {} }) });

/** Digit strings as callers say them: digit by digit, a zero as "oh" or "zero", a pair as "double". */
function entries(length: number, rng: Rng): { digits: string; said: string }[] {
  const out: { digits: string; said: string }[] = [];
  for (let n = 0; n < perLength; n++) {
    let digits = '';
    for (let i = 0; i < length; i++) digits += String(rng.int(10));
    const words: string[] = [];
    for (let i = 0; i < digits.length; i++) {
      const d = Number(digits[i]);
      if (digits[i + 1] === digits[i] && n % 2 === 1) {
        words.push('double', WORDS[d]!);
        i++;
      } else words.push(d === 0 && n % 3 !== 0 ? 'oh' : WORDS[d]!);
    }
    out.push({ digits, said: words.join(' ') });
  }
  return out;
}

const agent = new FliteTts({ voice: 'rms' });
const warmUpAudio = mulawToPcm(
  (await agent.synthesize({ text: 'Please say or type the seven digit number on your prescription label.' }))
    .mulaw,
);
await agent.close();
const engine = await PocketsphinxStt.open({ decoders: 1, warmUpAudio });
const today = '2026-12-06';
console.log(`spoken digit entries to flows/pharmacy.json, ${perLength} per length and voice (right / tried)`);
for (const voice of voices) {
  const tts = new FliteTts({ voice });
  const cells: string[] = [];
  const misses: string[] = [];
  for (const { state, length } of ENTRIES) {
    const context = listenContext(flow, state);
    let right = 0;
    const list = entries(length, new Rng(length * 7919));
    for (const { digits, said } of list) {
      const pcm = mulawToPcm((await tts.synthesize({ text: said })).mulaw);
      const heard = await recognize(engine, context, pcm);
      const event = await understanding.interpret(heard.text, state, 0, today);
      if (event.entities.digits === digits) right += 1;
      else if (misses.length < 4) misses.push(`"${said}" heard "${heard.text}"`);
    }
    cells.push(`${length} digits ${right}/${list.length}`);
  }
  await tts.close();
  console.log(
    `${voice.padEnd(4)} ${cells.join(', ')}${misses.length ? `; missed e.g. ${misses.join('; ')}` : ''}`,
  );
}
await engine.close();
