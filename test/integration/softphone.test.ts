/**
 * The browser softphone end to end: headless Chromium loads the page, its fake microphone plays a WAV of a caller
 * speaking, and the call runs over the Media Streams protocol into the same session as a phone call. Speech is
 * found by the energy VAD and answered with a scripted transcript, so the conversation is deterministic.
 * Also: a page left open across a server restart, mouth-to-ear latency measured in the page over ten turns, and
 * the softphone's refusals: page token, Origin, unknown flow, and the switch that turns it off.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { WebSocket } from 'ws';
import { mulawToPcm } from '../../src/audio/mulaw.ts';
import { writeWavPcm16 } from '../../src/audio/wav.ts';
import { openEnergyVad } from '../../src/speech/vad/energy.ts';
import { validateFlow } from '../../src/flow/index.ts';
import { FliteTts } from '../../src/speech/tts/flite.ts';
import { ScriptedStt } from '../fakes/scripted-stt.ts';
import { ToneTts } from '../fakes/tone-tts.ts';
import { testJournals } from '../fixtures/journals.ts';
import {
  callFromPage,
  CHROMIUM,
  haveChromium,
  launchWithMicrophone,
  pageErrors,
} from '../support/browser.ts';
import { mouthToEar, PING_PONG, turnsWav, UTTERANCES, type PageTiming } from '../support/mouth-to-ear.ts';
import { RawStream, startServer, waitForLog, type TestServer } from '../support/harness.ts';

const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url).pathname;

/** The caller's line as a 16-bit 8 kHz WAV, with silence around it (the fake mic starts at getUserMedia). */
async function callerWav(dir: string): Promise<string> {
  const flite = new FliteTts();
  try {
    const speech = mulawToPcm((await flite.synthesize({ text: 'I would like to order a pizza.' })).mulaw);
    const pcm = new Int16Array(8000 * 1.5 + speech.length + 8000 * 2);
    pcm.set(speech, 8000 * 1.5);
    const path = join(dir, 'caller.wav');
    await writeFile(path, writeWavPcm16(pcm, 8000));
    return path;
  } finally {
    await flite.close();
  }
}

/** The page's live view of the call (`window.softphone.view`), built from the server's events. */
interface PageView {
  callSid: string | null;
  state: string | null;
  slots: Record<string, string>;
  turns: {
    via: 'speech' | 'keypad';
    text: string;
    final: boolean;
    intent: string | null;
    confidence: number | null;
    led: { state: string; slots: Record<string, string>; retry: boolean } | null;
  }[];
  prompts: {
    mark: string;
    text: string;
    heard: string | null;
    playedMs: number | null;
    promptMs: number | null;
  }[];
  latencies: { silenceMs: number; transcriptMs: number; decisionMs: number; firstAudioMs: number }[];
  ended: string | null;
}

interface PageStats {
  view: PageView;
  timing: PageTiming;
  state: string;
  callSid: string | null;
  framesSent: number;
  framesReceived: number;
  samplesPlayed: number;
  marksEchoed: number;
  clears: number;
  clickAt: number | null;
  firstAudioAt: number | null;
}

test(
  haveChromium
    ? 'softphone: a call from the browser is heard, answers keys, plays the agent and echoes marks'
    : `SKIPPED: softphone in a browser (no Chromium at ${CHROMIUM}; set CHROMIUM_PATH)`,
  { skip: !haveChromium, timeout: 90_000 },
  async (ctx) => {
    const dir = await mkdtemp(join(tmpdir(), 'switchboard-softphone-'));
    const wav = await callerWav(dir);
    const stt = new ScriptedStt(['order']);
    const server = await startServer({
      softphone: true,
      defaultFlow: 'pizza',
      tts: new ToneTts({ msPerChar: 10 }),
      hearing: { stt, openVad: openEnergyVad },
    });
    const browser = await launchWithMicrophone(wav);
    ctx.after(async () => {
      await browser.close();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    });
    const page = await browser.newPage();
    const consoleErrors = pageErrors(page);
    await callFromPage(page, server.url, 'pizza');
    const stats = (): Promise<PageStats> =>
      page.evaluate(() => (globalThis as unknown as { softphone: PageStats }).softphone);
    const callSid = (await stats()).callSid!;
    const ofCall = (msg: string) => (r: { msg: string; callId?: unknown }) =>
      r.msg === msg && r.callId === callSid;

    // By speech: the VAD hears the WAV's line and the scripted transcript moves greet -> size.
    const heard = await waitForLog(server.records, ofCall('caller heard'), 20_000);
    assert.equal(heard.intent, 'order');
    // The size prompt plays in the page and its mark comes back: the server hears the prompt was heard.
    await waitForLog(server.records, (r) => ofCall('prompt heard')(r), 15_000);
    await page.waitForFunction(
      () => (globalThis as unknown as { softphone: PageStats }).softphone.marksEchoed >= 1,
    );
    // By the keypad: 2 is medium, which moves size -> count.
    await page.click('#keypad button[data-digit="2"]');
    await waitForLog(server.records, ofCall('dtmf received'));
    // The live view beside the phone followed: the transcript, its intent, the state the key led to.
    await page.waitForFunction(
      () => (globalThis as unknown as { softphone: PageStats }).softphone.view.state === 'count',
      undefined,
      { timeout: 10_000 },
    );
    const view = (await stats()).view;
    assert.equal(view.callSid, callSid);
    const turn = view.turns.find((t) => t.final);
    assert.ok(turn, 'the view shows the caller turn');
    assert.equal(turn.text, 'order');
    assert.equal(turn.intent, 'order');
    // The key is a caller turn too, with where it led.
    await page.waitForFunction(() =>
      (globalThis as unknown as { softphone: PageStats }).softphone.view.turns.some(
        (t) => t.via === 'keypad' && t.final,
      ),
    );
    const keyed = (await stats()).view.turns.find((t) => t.via === 'keypad')!;
    assert.equal(keyed.text, '2');
    assert.deepEqual(keyed.led, { state: 'count', slots: { size: 'medium' }, retry: false });
    assert.ok(view.prompts.length >= 2, `the view shows ${view.prompts.length} prompts`);
    assert.ok(view.latencies.length >= 1, 'the view shows the turn latency');
    assert.ok(view.latencies[0]!.silenceMs > 0);
    assert.equal((await page.textContent('#view-state'))?.trim(), 'count');
    const log = (await page.textContent('#view-log')) ?? '';
    assert.match(log, /Caller\s*order/, 'the transcript is on the page');
    assert.match(
      log,
      /Caller keyed\s*2\s*→ count · size=medium/,
      'the key is on the page, with where it led',
    );
    assert.equal(await page.locator('#view-log .latency').count(), 1, 'one latency bar for one spoken turn');
    await page.waitForTimeout(1500);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'softphone.png') });

    await page.click('#hangup');
    const ended = await waitForLog(server.records, ofCall('call ended'));
    assert.equal(ended.state, 'count', 'the call was in the count state when it ended');
    await page.waitForFunction(
      () => (globalThis as unknown as { softphone: PageStats }).softphone.state === 'ended',
    );
    const final = await stats();
    // The stream was the whole call: its journal is closed, so nothing tries to resume it.
    await waitUntil(async () => (await server.journals.afterStream(callSid)).kind === 'ended');
    assert.equal(await page.textContent('#status'), 'Call ended.');
    await page.waitForFunction(
      () => (globalThis as unknown as { softphone: PageStats }).softphone.view.ended !== null,
    );
    assert.ok(final.framesSent > 100, `page sent ${final.framesSent} frames`);
    assert.ok(final.framesReceived > 0, 'page received agent audio');
    assert.ok(final.samplesPlayed > 0, 'page played agent audio');
    assert.ok(final.marksEchoed >= 2, `page echoed ${final.marksEchoed} marks`);
    assert.ok(Number(ended.framesIn) > 100, 'server received the page audio');
    assert.ok(stt.streams.length >= 1 && stt.streams[0]!.samples.length > 0, 'STT was fed the speech');
    assert.deepEqual(consoleErrors, []);
    const firstAudio = final.firstAudioAt! - final.clickAt!;
    ctx.diagnostic(
      `click -> first agent audio played: ${Math.round(firstAudio)} ms; frames sent ${final.framesSent}, ` +
        `received ${final.framesReceived}; marks echoed ${final.marksEchoed}; clears ${final.clears}`,
    );
    ctx.diagnostic(`screenshot: ${join(ARTIFACTS, 'softphone.png')}`);
  },
);

test(
  haveChromium
    ? 'softphone: speaking over a long prompt stops its playback in the page, and the view shows what was heard'
    : `SKIPPED: softphone barge-in in a browser (no Chromium at ${CHROMIUM}; set CHROMIUM_PATH)`,
  { skip: !haveChromium, timeout: 90_000 },
  async (ctx) => {
    const dir = await mkdtemp(join(tmpdir(), 'switchboard-softphone-'));
    // Speech starts 1.5 s into the microphone; the greeting, at 100 ms a character, lasts far longer.
    const wav = await callerWav(dir);
    const stt = new ScriptedStt(['order']);
    const server = await startServer({
      softphone: true,
      defaultFlow: 'pizza',
      tts: new ToneTts({ msPerChar: 100 }),
      hearing: { stt, openVad: openEnergyVad },
    });
    const browser = await launchWithMicrophone(wav);
    ctx.after(async () => {
      await browser.close();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    });
    const page = await browser.newPage();
    const consoleErrors = pageErrors(page);
    await callFromPage(page, server.url, 'pizza');
    const stats = (): Promise<PageStats> =>
      page.evaluate(() => (globalThis as unknown as { softphone: PageStats }).softphone);
    const callSid = (await stats()).callSid!;
    await page.waitForFunction(
      () => (globalThis as unknown as { softphone: PageStats }).softphone.clears > 0,
      undefined,
      { timeout: 15_000 },
    );
    const bargeIn = await waitForLog(
      server.records,
      (r) => r.msg === 'barge-in: the caller spoke over the prompt' && r.callId === callSid,
    );
    assert.equal(bargeIn.state, 'greet');
    // Reports already on their way from the playback worklet land first; then nothing plays while the caller talks.
    await page.waitForTimeout(200);
    const atClear = (await stats()).samplesPlayed;
    await page.waitForTimeout(500);
    const later = await stats();
    assert.ok(atClear > 0, 'the greeting had started playing');
    assert.equal(later.samplesPlayed, atClear, 'playback stopped while the caller spoke');
    assert.equal(later.framesReceived > 0, true);

    // The view marks the greeting as cut, with the part heard, then shows the turn the caller took.
    await page.waitForFunction(() =>
      (globalThis as unknown as { softphone: PageStats }).softphone.view.prompts.some(
        (p) => p.heard !== null,
      ),
    );
    const cut = (await stats()).view.prompts.find((p) => p.heard !== null)!;
    assert.ok(
      cut.playedMs! > 0 && cut.playedMs! < cut.promptMs!,
      `played ${cut.playedMs} of ${cut.promptMs} ms`,
    );
    assert.equal(await page.locator('#view-log .prompt.cut mark.heard').count(), 1);
    await page.waitForFunction(
      () => (globalThis as unknown as { softphone: PageStats }).softphone.view.state === 'size',
      undefined,
      { timeout: 15_000 },
    );
    const turn = (await stats()).view.turns.find((t) => t.final);
    assert.equal(turn?.intent, 'order');
    await page.click('#hangup');
    await waitForLog(server.records, (r) => r.msg === 'call ended' && r.callId === callSid);
    assert.deepEqual(consoleErrors, []);
    ctx.diagnostic(`greeting cut after ${cut.playedMs} of ${cut.promptMs} ms; heard "${cut.heard}"`);
  },
);

test('softphone live view: a placed call streams its events as SSE until it ends; a late page gets them all', async (ctx) => {
  const server = await startServer({ softphone: true, tts: new ToneTts({ msPerChar: 10 }) });
  ctx.after(() => server.close());
  const token = await pageToken(server);
  const placed = (await (
    await fetch(server.url + '/softphone/calls', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-softphone-token': token },
      body: JSON.stringify({ flow: 'demo' }),
    })
  ).json()) as { callSid: string; viewToken: string; params: Record<string, string> };
  const viewUrl = `${server.url}/softphone/calls/${placed.callSid}/events?token=${encodeURIComponent(placed.viewToken)}`;
  const live = await fetch(viewUrl);
  assert.equal(live.status, 200);
  // The whole body: it ends when the server closes the stream after 'ended'.
  const liveText = live.text();

  const ws = server.url.replace(/^http/, 'ws') + `/softphone/media?token=${encodeURIComponent(token)}`;
  const stream = new RawStream(ws, placed.callSid, { origin: server.url });
  await stream.opened;
  stream.send(stream.enc.connected());
  stream.send(stream.enc.start(placed.params));
  await stream.waitFor((m) => m.includes('"event":"mark"'));
  stream.send(stream.enc.stop());
  await stream.closed;

  const parse = (text: string) =>
    text
      .split('\n\n')
      .filter((chunk) => chunk.startsWith('data: '))
      .map(
        (chunk) => JSON.parse(chunk.slice('data: '.length)) as { type: string; at: number; state?: string },
      );
  const events = parse(await liveText);
  assert.equal(events[0]?.type, 'state');
  assert.equal(events[0]?.state, 'menu');
  assert.ok(events.some((e) => e.type === 'prompt'));
  assert.equal(events.at(-1)?.type, 'ended');
  assert.ok(events.every((e) => typeof e.at === 'number'));
  // A page that connects after the call ended gets the history, and the stream closes after it.
  const late = await fetch(viewUrl);
  assert.deepEqual(parse(await late.text()), events);
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Try a websocket upgrade; resolves with the HTTP status of a refusal, or 101. */
function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', reject);
  });
}

async function pageToken(server: TestServer): Promise<string> {
  const res = await fetch(server.url + '/');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('cache-control'), 'no-cache');
  const html = await res.text();
  const m = /name="softphone-token" content="([^"]+)"/.exec(html);
  assert.ok(m, 'the page embeds a token');
  return m[1]!;
}

test('softphone refuses: missing or wrong tokens, a foreign Origin, unknown flows; off means no page', async (ctx) => {
  const server = await startServer({ softphone: true });
  const off = await startServer();
  ctx.after(async () => {
    await server.close();
    await off.close();
  });
  const token = await pageToken(server);
  const wsBase = server.url.replace(/^http/, 'ws') + '/softphone/media';
  const origin = server.url;

  for (const [name, type] of [
    ['app.js', 'text/javascript; charset=utf-8'],
    ['capture-worklet.js', 'text/javascript; charset=utf-8'],
    ['playback-worklet.js', 'text/javascript; charset=utf-8'],
    ['style.css', 'text/css; charset=utf-8'],
  ] as const) {
    const res = await fetch(`${server.url}/softphone/${name}`);
    assert.equal(res.status, 200, name);
    assert.equal(res.headers.get('content-type'), type, name);
    assert.equal(res.headers.get('cache-control'), 'no-cache', name);
  }

  assert.equal(await upgradeStatus(wsBase, { origin }), 403, 'no token');
  assert.equal(await upgradeStatus(`${wsBase}?token=1.abc`, { origin }), 403, 'wrong token');
  const forged = token.replace(/\.(.)/, (_m, c: string) => '.' + (c === 'A' ? 'B' : 'A'));
  assert.equal(await upgradeStatus(`${wsBase}?token=${forged}`, { origin }), 403, 'tampered token');
  const withToken = `${wsBase}?token=${encodeURIComponent(token)}`;
  assert.equal(await upgradeStatus(withToken, { origin: 'http://evil.example' }), 403, 'foreign Origin');
  assert.equal(await upgradeStatus(withToken, {}), 403, 'no Origin');
  assert.equal(await upgradeStatus(withToken, { origin }), 101, 'token and own Origin');

  const post = (headers: Record<string, string>, body: unknown) =>
    fetch(server.url + '/softphone/calls', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const noToken = await post({}, { flow: 'demo' });
  assert.equal(noToken.status, 403);
  assert.equal(((await noToken.json()) as { error: string }).error, 'HTTP_TOKEN_INVALID');
  const unknown = await post({ 'x-softphone-token': token }, { flow: 'no-such-flow' });
  assert.equal(unknown.status, 404);
  assert.equal(((await unknown.json()) as { error: string }).error, 'FLOW_NOT_FOUND');
  const placed = await post({ 'x-softphone-token': token }, { flow: 'demo' });
  assert.equal(placed.status, 200);
  const body = (await placed.json()) as {
    callSid: string;
    streamSid: string;
    viewToken: string;
    params: Record<string, string>;
  };
  assert.match(body.callSid, /^CA[0-9a-f]{32}$/);
  assert.equal(body.params.flow, 'demo');
  assert.equal(body.params.callId, body.callSid);
  assert.ok(body.params.lease && body.params.token, 'the stream ticket is given');

  // The live view of a call: its own view token, given to the page that placed it, and only a call placed here.
  const events = (callSid: string, query: string) =>
    fetch(`${server.url}/softphone/calls/${callSid}/events${query}`);
  const noTokenView = await events(body.callSid, '');
  assert.equal(noTokenView.status, 403);
  assert.equal(((await noTokenView.json()) as { error: string }).error, 'HTTP_TOKEN_INVALID');
  assert.equal((await events(body.callSid, '?token=1.abc')).status, 403, 'wrong token');
  assert.equal(
    (await events(body.callSid, `?token=${encodeURIComponent(token)}`)).status,
    403,
    'a page token, valid as it is, does not open a call it did not place',
  );
  const withViewToken = `?token=${encodeURIComponent(body.viewToken)}`;
  const otherView = await events('CA' + '0'.repeat(32), withViewToken);
  assert.equal(otherView.status, 403, "one call's view token opens no other call");
  assert.equal((await events('not-a-sid', withViewToken)).status, 403);
  const phoneSid = 'CA' + 'f'.repeat(32);
  await server.journals.admit(phoneSid);
  assert.equal((await events(phoneSid, withViewToken)).status, 403, 'a phone call is never viewable');
  const abort = new AbortController();
  const view = await fetch(`${server.url}/softphone/calls/${body.callSid}/events${withViewToken}`, {
    signal: abort.signal,
  });
  assert.equal(view.status, 200);
  assert.equal(view.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  assert.equal(view.headers.get('cache-control'), 'no-cache');
  abort.abort();
  await view.body?.cancel().catch(() => {});
  assert.equal(
    (await fetch(`${server.url}/softphone/calls/${body.callSid}/events${withViewToken}`, { method: 'POST' }))
      .status,
    405,
  );

  const flows = await fetch(server.url + '/softphone/flows', { headers: { 'x-softphone-token': token } });
  assert.deepEqual(((await flows.json()) as { defaultFlow: string }).defaultFlow, 'demo');
  assert.equal((await fetch(server.url + '/softphone/flows')).status, 403);

  // A page token is no way around the Twilio signature on Twilio's own stream.
  const signed = await startServer({ softphone: true, authToken: 'twilio-secret' });
  ctx.after(() => signed.close());
  const signedToken = await pageToken(signed);
  const twilioWs =
    signed.url.replace(/^http/, 'ws') +
    `/twilio/media/${'a'.repeat(43)}?token=${encodeURIComponent(signedToken)}`;
  assert.equal(
    await upgradeStatus(twilioWs, { origin: signed.url }),
    403,
    'Twilio stream still needs a signature',
  );

  assert.equal((await fetch(off.url + '/')).status, 404, 'SOFTPHONE off: no page');
  assert.equal((await fetch(off.url + '/softphone/app.js')).status, 404);
  const offWs = off.url.replace(/^http/, 'ws') + `/softphone/media?token=${encodeURIComponent(token)}`;
  assert.equal(await upgradeStatus(offWs, { origin: off.url }), 404);
});

test(
  haveChromium
    ? 'softphone: a page left open across a server restart says its call ended, then calls the new server'
    : `SKIPPED: softphone across a restart (no Chromium at ${CHROMIUM}; set CHROMIUM_PATH)`,
  { skip: !haveChromium, timeout: 90_000 },
  async (ctx) => {
    const dir = await mkdtemp(join(tmpdir(), 'switchboard-softphone-'));
    const wav = await callerWav(dir);
    // One journal store, as a restarted server (or another instance) shares it: its secret keys the page token.
    const journals = await testJournals();
    const first = await startServer({ softphone: true, tts: new ToneTts({ msPerChar: 10 }), journals });
    let firstOpen = true;
    let second: TestServer | null = null;
    const browser = await launchWithMicrophone(wav);
    ctx.after(async () => {
      await browser.close();
      if (firstOpen) await first.close();
      await second?.close();
      await rm(dir, { recursive: true, force: true });
    });
    const page = await browser.newPage();
    const uncaught: string[] = [];
    page.on('pageerror', (err) => uncaught.push(String(err)));
    await page.goto(first.url + '/');
    await page.locator('#flow option').first().waitFor({ state: 'attached' });
    await page.uncheck('#echo');
    const stats = (): Promise<PageStats> =>
      page.evaluate(() => (globalThis as unknown as { softphone: PageStats }).softphone);
    /** The call is live and its first prompt is playing; a refused call fails with what the page said. */
    const live = async (): Promise<void> => {
      await page.waitForFunction(
        () => {
          const s = (globalThis as unknown as { softphone: PageStats }).softphone;
          return (s.state === 'live' && s.firstAudioAt !== null) || s.state === 'ended';
        },
        undefined,
        { timeout: 15_000 },
      );
      assert.equal((await stats()).state, 'live', (await page.textContent('#status')) ?? '');
    };

    await page.click('#call');
    await live();
    const before = (await stats()).callSid!;
    await waitForLog(first.records, (r) => r.msg === 'softphone call placed' && r.callId === before);

    // The server goes away mid-call; the page says so and is ready for another call.
    await first.close();
    firstOpen = false;
    await page.waitForFunction(
      () => (globalThis as unknown as { softphone: PageStats }).softphone.state === 'ended',
    );
    assert.equal(await page.textContent('#status'), 'Connection lost — call ended.');
    assert.equal(await page.isEnabled('#call'), true, 'Call is usable again');

    // The restarted server: same port, same journal store, a new process's state otherwise.
    const port = Number(new URL(first.url).port);
    second = await startServer({
      softphone: true,
      tts: new ToneTts({ msPerChar: 10 }),
      journals: await testJournals(journals.store),
      port,
    });
    assert.equal(second.url, first.url);
    // The same page, not reloaded: its token still works, so Call places a call on the new server.
    await page.click('#call');
    await live();
    const after = (await stats()).callSid!;
    assert.notEqual(after, before);
    await waitForLog(second.records, (r) => r.msg === 'softphone call placed' && r.callId === after);
    await page.waitForTimeout(500);
    await page.click('#hangup');
    const ended = await waitForLog(second.records, (r) => r.msg === 'call ended' && r.callId === after);
    assert.ok(Number(ended.framesIn) > 0, `the new server heard ${String(ended.framesIn)} frames`);
    await page.waitForFunction(
      () => (globalThis as unknown as { softphone: PageStats }).softphone.state === 'ended',
    );
    assert.equal(await page.textContent('#status'), 'Call ended.');
    assert.deepEqual(uncaught, []);
  },
);

function percentileOf(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

test(
  haveChromium
    ? 'softphone: mouth-to-ear latency in the page, end of the caller speech to first agent audio, over 10 turns'
    : `SKIPPED: softphone latency in a browser (no Chromium at ${CHROMIUM}; set CHROMIUM_PATH)`,
  { skip: !haveChromium, timeout: 120_000 },
  async (ctx) => {
    const dir = await mkdtemp(join(tmpdir(), 'switchboard-softphone-'));
    const wav = await turnsWav(dir);
    const checked = validateFlow(PING_PONG);
    assert.ok(checked.ok, JSON.stringify(checked));
    const flowsDir = join(dir, 'flows');
    await mkdir(flowsDir);
    await writeFile(join(flowsDir, 'pingpong.json'), JSON.stringify(PING_PONG));
    const stt = new ScriptedStt(UTTERANCES.map(() => 'go'));
    const server = await startServer({
      softphone: true,
      flowsDir,
      defaultFlow: 'pingpong',
      tts: new ToneTts({ msPerChar: 20 }),
      hearing: { stt, openVad: openEnergyVad },
    });
    const browser = await launchWithMicrophone(wav);
    ctx.after(async () => {
      await browser.close();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    });
    const page = await browser.newPage();
    const errors = pageErrors(page);
    await callFromPage(page, server.url, 'pingpong');
    const callSid = (await page.evaluate(
      () => (globalThis as unknown as { softphone: PageStats }).softphone.callSid,
    ))!;
    const latencyLogs = () => server.records.filter((r) => r.msg === 'turn latency' && r.callId === callSid);
    const deadline = Date.now() + 90_000;
    while (latencyLogs().length < UTTERANCES.length && Date.now() < deadline) await sleep(200);
    assert.equal(latencyLogs().length, UTTERANCES.length, 'the server answered every turn');
    // The last reply's first audio reaches the page, and the quiet after the last utterance is captured.
    await sleep(1000);
    const timing = await page.evaluate(
      () => (globalThis as unknown as { softphone: PageStats }).softphone.timing,
    );
    await page.click('#hangup');
    await waitForLog(server.records, (r) => r.msg === 'call ended' && r.callId === callSid);

    const turns = mouthToEar(timing);
    assert.equal(turns.length, UTTERANCES.length, `${turns.length} caller turns found in the page's frames`);
    const latencies = turns.map((t, i) => {
      assert.ok(t.latencyMs !== null, `turn ${i + 1}: agent audio played after it`);
      assert.ok(t.latencyMs > 0 && t.latencyMs < 5000, `turn ${i + 1}: ${t.latencyMs} ms`);
      return t.latencyMs;
    });
    assert.deepEqual(errors, []);
    const sorted = [...latencies].sort((a, b) => a - b);
    ctx.diagnostic(
      `mouth-to-ear (end of caller speech -> first agent audio played) over ${sorted.length} turns: ` +
        `p50 ${Math.round(percentileOf(sorted, 50))} ms, p90 ${Math.round(percentileOf(sorted, 90))} ms, ` +
        `max ${Math.round(sorted.at(-1)!)} ms`,
    );
  },
);

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
