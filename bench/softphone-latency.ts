/**
 * Mouth-to-ear latency as the browser softphone sees it: headless Chromium's fake microphone plays a WAV of ten
 * short utterances into the page, and the page's own timeline (window.softphone.timing) gives, for each turn, the
 * send time of the caller's last loud frame and the time the agent's reply started playing. In process, like the
 * softphone test: the energy VAD finds the turns, a scripted transcript answers them, tones are the replies, so
 * what is measured is the pipeline (silence window, decision, pacing, the page's audio path), not an engine.
 * Also the server's own breakdown of each turn, from its 'turn latency' log.
 * Usage: node --import tsx bench/softphone-latency.ts
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEnergyVad } from '../src/speech/vad/energy.ts';
import { validateFlow } from '../src/flow/index.ts';
import { ScriptedStt } from '../test/fakes/scripted-stt.ts';
import { ToneTts } from '../test/fakes/tone-tts.ts';
import { callFromPage, CHROMIUM, haveChromium, launchWithMicrophone } from '../test/support/browser.ts';
import { startServer } from '../test/support/harness.ts';
import {
  mouthToEar,
  PING_PONG,
  turnsWav,
  UTTERANCES,
  type PageTiming,
} from '../test/support/mouth-to-ear.ts';
import { percentile } from './server-process.ts';

if (!haveChromium) throw new Error(`no Chromium at ${CHROMIUM}; set CHROMIUM_PATH`);

interface PageGlobal {
  softphone: { state: string; callSid: string | null; timing: PageTiming };
}

const dir = await mkdtemp(join(tmpdir(), 'switchboard-bench-softphone-'));
try {
  const checked = validateFlow(PING_PONG);
  if (!checked.ok) throw new Error(`the bench flow is invalid: ${JSON.stringify(checked)}`);
  const flowsDir = join(dir, 'flows');
  await mkdir(flowsDir);
  await writeFile(join(flowsDir, 'pingpong.json'), JSON.stringify(PING_PONG));
  const wav = await turnsWav(dir);

  const server = await startServer({
    softphone: true,
    flowsDir,
    defaultFlow: 'pingpong',
    tts: new ToneTts({ msPerChar: 20 }),
    hearing: { stt: new ScriptedStt(UTTERANCES.map(() => 'go')), openVad: openEnergyVad },
  });
  const browser = await launchWithMicrophone(wav);
  try {
    const page = await browser.newPage();
    await callFromPage(page, server.url, 'pingpong');
    const callSid = await page.evaluate(() => (globalThis as unknown as PageGlobal).softphone.callSid);
    const latencyLogs = () => server.records.filter((r) => r.msg === 'turn latency' && r.callId === callSid);
    const deadline = Date.now() + 90_000;
    while (latencyLogs().length < UTTERANCES.length && Date.now() < deadline) await sleep(200);
    await sleep(1000);
    const timing = await page.evaluate(() => (globalThis as unknown as PageGlobal).softphone.timing);
    await page.click('#hangup');

    const latencies = mouthToEar(timing).flatMap((t) => (t.latencyMs === null ? [] : [t.latencyMs]));
    const logs = latencyLogs();
    if (latencies.length !== UTTERANCES.length || logs.length !== UTTERANCES.length) {
      throw new Error(
        `measured ${latencies.length} turns in the page and ${logs.length} on the server, of ${UTTERANCES.length}`,
      );
    }
    const fmt = (xs: number[]): string =>
      `p50 ${percentile(xs, 50).toFixed(1)} ms, p90 ${percentile(xs, 90).toFixed(1)} ms, ` +
      `max ${Math.max(...xs).toFixed(1)} ms`;
    const field = (key: string): number[] => logs.map((r) => Number(r[key]));
    console.log(
      `softphone in headless Chromium, ${UTTERANCES.length} turns (energy VAD, scripted transcript, tone replies)`,
    );
    console.log(`  end of caller speech in the page -> first agent audio played: ${fmt(latencies)}`);
    console.log(`  per turn: ${latencies.map((ms) => Math.round(ms)).join(', ')} ms`);
    console.log(`  server 'turn latency' breakdown:`);
    console.log(`    silence window:                     ${fmt(field('silenceWindowMs'))}`);
    console.log(`    transcript:                         ${fmt(field('transcriptMs'))}`);
    console.log(`    decision:                           ${fmt(field('decisionMs'))}`);
    console.log(`    first audio sent:                   ${fmt(field('firstAudioMs'))}`);
    console.log(`    end of turn decided -> audio sent:  ${fmt(field('endOfTurnToAudioMs'))}`);
    console.log(`    speech end -> audio sent (server):  ${fmt(field('speechEndToAudioMs'))}`);
  } finally {
    await browser.close();
    await server.close();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
