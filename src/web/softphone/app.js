// The softphone page: places a call with the server, then speaks the Twilio Media Streams protocol over a
// websocket exactly as Twilio would (connected, start, media every 20 ms, dtmf, mark echoes, stop), so the call
// runs through the same session as a phone call. Audio runs in an 8 kHz AudioContext, Twilio's own rate.

const token = document.querySelector('meta[name="softphone-token"]').content;
const ACCOUNT_SID = 'AC' + '0'.repeat(32);
const $ = (id) => document.getElementById(id);
const ui = {
  flow: $('flow'),
  echo: $('echo'),
  call: $('call'),
  hangup: $('hangup'),
  level: $('level'),
  keypad: $('keypad'),
  status: $('status'),
  viewState: $('view-state'),
  viewSlots: document.querySelector('#view-slots tbody'),
  viewLog: $('view-log'),
};

/** Counters and state, for people and tests alike. */
const stats = {
  state: 'idle',
  callSid: null,
  framesSent: 0,
  framesReceived: 0,
  samplesPlayed: 0,
  marksEchoed: 0,
  clears: 0,
  /** performance.now() of the Call click and of the first agent audio heard. */
  clickAt: null,
  firstAudioAt: null,
  /**
   * The current call's timeline, for measuring mouth-to-ear latency (performance.now() ms): each captured frame's
   * send time and peak level, and each time agent audio started playing after silence. Bounded: past its cap an
   * array drops its older half, so a long call keeps only its last few minutes.
   */
  timing: emptyTiming(),
};
window.softphone = stats;

/** Frames kept: over two minutes at 50 a second. */
const MAX_TIMED_FRAMES = 8192;
/** Playback starts kept. */
const MAX_TIMED_STARTS = 1024;

function emptyTiming() {
  return { frameAt: [], framePeak: [], audioStartAt: [] };
}

/** Append to a capped array; past `cap`, drop its older half at once (amortised O(1) a push). */
function pushCapped(list, value, cap) {
  list.push(value);
  if (list.length > cap) list.splice(0, list.length - (cap >> 1));
}

/** The live view of the current call, as its events built it (also for tests). */
function emptyView() {
  return { callSid: null, state: null, slots: {}, turns: [], prompts: [], latencies: [], ended: null };
}
stats.view = emptyView();

/** The live call, or null. */
let call = null;

// ---- mu-law decoding (encoding happens in the capture worklet) -------------------------------------------------
const MULAW_TO_FLOAT = new Float32Array(256);
for (let u = 0; u < 256; u++) {
  const x = ~u & 0xff;
  const exponent = (x >> 4) & 7;
  const magnitude = ((((x & 0x0f) << 3) + 0x84) << exponent) - 0x84;
  MULAW_TO_FLOAT[u] = (x & 0x80 ? -magnitude : magnitude) / 32768;
}

function toBase64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return btoa(s);
}

function decodePayload(payload) {
  const s = atob(payload);
  const out = new Float32Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = MULAW_TO_FLOAT[s.charCodeAt(i)];
  return out;
}

// ---- UI ----------------------------------------------------------------------------------------------------------
function setState(state, message) {
  stats.state = state;
  ui.status.textContent = message;
  const idle = state === 'idle' || state === 'ended';
  ui.call.disabled = !idle;
  ui.hangup.disabled = idle;
  ui.flow.disabled = !idle;
  ui.echo.disabled = !idle;
  for (const key of ui.keypad.querySelectorAll('button')) key.disabled = state !== 'live';
  if (idle) ui.level.style.width = '0';
}

async function api(path, init = {}) {
  const res = await fetch(path, {
    ...init,
    headers: { 'x-softphone-token': token, 'content-type': 'application/json', ...init.headers },
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.message || `HTTP ${res.status}`);
  return body;
}

async function loadFlows() {
  try {
    const { flows, defaultFlow } = await api('/softphone/flows');
    for (const name of flows) ui.flow.add(new Option(name, name, false, name === defaultFlow));
  } catch (err) {
    setState('idle', `Could not list the flows: ${err.message}`);
  }
}

// ---- the call ----------------------------------------------------------------------------------------------------
async function startCall() {
  stats.clickAt = performance.now();
  stats.firstAudioAt = null;
  stats.timing = emptyTiming();
  setState('connecting', 'Calling…');
  // Created in the click handler, so the browser lets it start.
  const ctx = new AudioContext({ sampleRate: 8000 });
  const current = { ctx, ws: null, mic: null, stream: null, seq: 0, chunk: 0, hangingUp: false };
  call = current;
  try {
    const ec = ui.echo.checked;
    current.mic = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: ec, noiseSuppression: ec, autoGainControl: ec, channelCount: 1 },
    });
    await ctx.audioWorklet.addModule('/softphone/capture-worklet.js');
    await ctx.audioWorklet.addModule('/softphone/playback-worklet.js');
    if (ctx.state !== 'running') await ctx.resume();

    const placed = await api('/softphone/calls', {
      method: 'POST',
      body: JSON.stringify({ flow: ui.flow.value || undefined }),
    });
    current.stream = placed;
    stats.callSid = placed.callSid;
    openView(placed.callSid, placed.viewToken);
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(
      `${scheme}://${location.host}/softphone/media?token=${encodeURIComponent(token)}`,
    );
    current.ws = ws;
    ws.onclose = (e) => endCall(current, e.code);
    ws.onmessage = (e) => onServerMessage(current, e.data);
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error('the media connection was refused'));
    });
    if (call !== current) return;
    ws.onerror = null;
    startStream(current);
    setState('live', `In call with ${placed.params.flow}. Speak, or use the keypad.`);
  } catch (err) {
    teardown(current);
    setState('ended', `Call failed: ${err.message}`);
  }
}

/** What Twilio sends first: `connected` then `start`, then the audio. */
function startStream(c) {
  const { callSid, streamSid, params } = c.stream;
  send(c, { event: 'connected', protocol: 'Call', version: '1.0.0' });
  send(c, {
    event: 'start',
    sequenceNumber: String(++c.seq),
    streamSid,
    start: {
      streamSid,
      accountSid: ACCOUNT_SID,
      callSid,
      tracks: ['inbound'],
      customParameters: params,
      mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
    },
  });

  const capture = new AudioWorkletNode(c.ctx, 'softphone-capture', {
    numberOfInputs: 1,
    numberOfOutputs: 0,
    channelCount: 1,
    channelCountMode: 'explicit',
  });
  capture.port.onmessage = (e) => {
    const { frame, peak } = e.data;
    c.chunk += 1;
    send(c, {
      event: 'media',
      sequenceNumber: String(++c.seq),
      streamSid,
      // Counters are strings, as Twilio sends them; the timestamp is ms since the stream started.
      media: {
        track: 'inbound',
        chunk: String(c.chunk),
        timestamp: String((c.chunk - 1) * 20),
        payload: toBase64(frame),
      },
    });
    stats.framesSent += 1;
    // Both arrays are always the same length, so they are trimmed in step.
    pushCapped(stats.timing.frameAt, performance.now(), MAX_TIMED_FRAMES);
    pushCapped(stats.timing.framePeak, peak, MAX_TIMED_FRAMES);
    ui.level.style.width = `${Math.min(100, Math.round(Math.sqrt(peak) * 100))}%`;
  };
  c.source = c.ctx.createMediaStreamSource(c.mic);
  c.source.connect(capture);

  c.playback = new AudioWorkletNode(c.ctx, 'softphone-playback', {
    numberOfInputs: 0,
    numberOfOutputs: 1,
    outputChannelCount: [1],
  });
  c.playback.port.onmessage = (e) => {
    const msg = e.data;
    if (msg.played !== undefined) {
      stats.samplesPlayed = msg.played;
      if (msg.played > 0 && stats.firstAudioAt === null) stats.firstAudioAt = performance.now();
    }
    if (msg.type === 'started') pushCapped(stats.timing.audioStartAt, performance.now(), MAX_TIMED_STARTS);
    else if (msg.type === 'mark') echoMark(c, msg.name);
    else if (msg.type === 'cleared') for (const name of msg.marks) echoMark(c, name);
  };
  c.playback.connect(c.ctx.destination);
}

function onServerMessage(c, data) {
  let msg;
  try {
    msg = JSON.parse(data);
  } catch {
    return;
  }
  if (!c.playback) return;
  if (msg.event === 'media') {
    stats.framesReceived += 1;
    const samples = decodePayload(msg.media.payload);
    c.playback.port.postMessage(samples, [samples.buffer]);
  } else if (msg.event === 'mark') {
    c.playback.port.postMessage({ mark: msg.mark.name });
  } else if (msg.event === 'clear') {
    stats.clears += 1;
    c.playback.port.postMessage({ clear: true });
  }
}

function echoMark(c, name) {
  stats.marksEchoed += 1;
  send(c, { event: 'mark', sequenceNumber: String(++c.seq), streamSid: c.stream.streamSid, mark: { name } });
}

function send(c, msg) {
  if (c.ws && c.ws.readyState === WebSocket.OPEN) c.ws.send(JSON.stringify(msg));
}

function sendDigit(digit) {
  if (!call || stats.state !== 'live') return;
  send(call, {
    event: 'dtmf',
    sequenceNumber: String(++call.seq),
    streamSid: call.stream.streamSid,
    dtmf: { track: 'inbound_track', digit },
  });
  ui.status.textContent = `Sent key ${digit}.`;
}

function hangUp() {
  const c = call;
  if (!c || !c.ws) return;
  c.hangingUp = true;
  setState('ending', 'Hanging up…');
  send(c, {
    event: 'stop',
    sequenceNumber: String(++c.seq),
    streamSid: c.stream.streamSid,
    stop: { accountSid: ACCOUNT_SID, callSid: c.stream.callSid },
  });
  // The server closes the socket after `stop`; if it does not, do not leave the page waiting.
  setTimeout(() => c.ws.readyState !== WebSocket.CLOSED && c.ws.close(1000, 'hung up'), 2000);
}

function endCall(c, code) {
  if (call !== c) return;
  teardown(c);
  const normal = code === 1000 || code === 1005 || c.hangingUp;
  // The server went away (a restart, a crash): its view will never end, and retrying it would find nothing.
  if (!normal) {
    viewSource?.close();
    viewSource = null;
  }
  setState('ended', normal ? 'Call ended.' : 'Connection lost — call ended.');
}

function teardown(c) {
  if (call === c) call = null;
  if (c.ws && c.ws.readyState <= WebSocket.OPEN) c.ws.close(1000, 'call ended');
  if (c.mic) for (const track of c.mic.getTracks()) track.stop();
  void c.ctx.close().catch(() => {});
}

// ---- the live view ---------------------------------------------------------------------------------------------
// Built with textContent only: transcripts and prompts are data, never markup.

/** The view's event stream, or null. */
let viewSource = null;
/** Each turn's and prompt's list entry, kept off the objects so `window.softphone.view` stays plain data. */
let viewNodes = new WeakMap();

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** `viewToken`: the call's own token, given to the page that placed it; another page's token does not open it. */
function openView(callSid, viewToken) {
  viewSource?.close();
  stats.view = emptyView();
  stats.view.callSid = callSid;
  viewNodes = new WeakMap();
  ui.viewState.textContent = '—';
  ui.viewSlots.replaceChildren();
  ui.viewLog.replaceChildren();
  const source = new EventSource(
    `/softphone/calls/${encodeURIComponent(callSid)}/events?token=${encodeURIComponent(viewToken)}`,
  );
  viewSource = source;
  source.onmessage = (e) => {
    let event;
    try {
      event = JSON.parse(e.data);
    } catch {
      return;
    }
    if (stats.view.callSid !== callSid) return;
    onViewEvent(event);
    // The server ends the stream after this; closing first keeps EventSource from reconnecting.
    if (event.type === 'ended') source.close();
  };
  // EventSource retries a dropped stream by itself (a refused one it does not); an ended call has no more.
  source.onerror = () => {
    if (stats.view.ended !== null) source.close();
  };
}

function onViewEvent(event) {
  const view = stats.view;
  switch (event.type) {
    case 'state':
      view.state = event.state;
      view.slots = event.slots;
      renderState();
      return;
    case 'hearing':
    case 'keys':
    case 'turn': {
      // Words as they are heard and keys as they are pressed each fill their turn's entry until it is final.
      const via = event.type === 'keys' || event.via === 'keypad' ? 'keypad' : 'speech';
      const final = event.type === 'turn';
      let turn = view.turns.findLast((t) => t.via === via);
      if (!turn || turn.final) {
        turn = { via, text: '', final: false, intent: null, confidence: null, led: null, latency: null };
        view.turns.push(turn);
      }
      turn.text = event.type === 'keys' ? event.keys : event.text;
      if (final && via === 'keypad') {
        turn.final = true;
        turn.led = { state: event.state, slots: event.slots, retry: event.retry };
      } else if (final) {
        turn.final = true;
        turn.intent = event.intent;
        turn.confidence = event.confidence;
      }
      renderTurn(turn);
      return;
    }
    case 'prompt': {
      const prompt = { mark: event.mark, text: event.text, heard: null, playedMs: null, promptMs: null };
      view.prompts.push(prompt);
      renderPrompt(prompt);
      return;
    }
    case 'cut': {
      const prompt =
        view.prompts.findLast((p) => p.mark === event.mark) ?? view.prompts.findLast((p) => p.heard === null);
      if (!prompt) return;
      prompt.heard = event.heard;
      prompt.playedMs = event.playedMs;
      prompt.promptMs = event.promptMs;
      renderPrompt(prompt);
      return;
    }
    case 'latency': {
      const latency = {
        silenceMs: event.silenceMs,
        transcriptMs: event.transcriptMs,
        decisionMs: event.decisionMs,
        firstAudioMs: event.firstAudioMs,
        endOfTurnMs: event.endOfTurnMs,
      };
      view.latencies.push(latency);
      const turn = view.turns.findLast((t) => t.final && t.via === 'speech');
      if (turn && turn.latency === null) {
        turn.latency = latency;
        renderTurn(turn);
      }
      return;
    }
    case 'ended':
      view.ended = event.reason;
      ui.viewLog.append(el('li', 'ended', `Call ended (${event.reason}).`));
      return;
  }
}

function renderState() {
  ui.viewState.textContent = stats.view.state ?? '—';
  const rows = Object.entries(stats.view.slots).map(([name, value]) => {
    const row = el('tr');
    row.append(el('th', '', name), el('td', '', value));
    return row;
  });
  ui.viewSlots.replaceChildren(...rows);
}

/** Adds `item`'s list entry on first render; later renders refill it in place. */
function entry(item, className) {
  let node = viewNodes.get(item);
  if (!node) {
    node = el('li');
    viewNodes.set(item, node);
    ui.viewLog.append(node);
  }
  node.className = className;
  return node;
}

function renderTurn(turn) {
  const keypad = turn.via === 'keypad';
  const node = entry(turn, `turn${keypad ? ' keys' : ''}${turn.final ? '' : ' interim'}`);
  const who = el('span', 'who', keypad ? 'Caller keyed' : 'Caller');
  const words = el('span', 'words', turn.text || (turn.final ? '(nothing recognised)' : '…'));
  node.replaceChildren(who, words);
  if (turn.final && keypad) node.append(el('span', 'intent', ledTo(turn.led)));
  else if (turn.final) {
    const confidence = turn.confidence === null ? '' : ` ${Math.round(turn.confidence * 100)}%`;
    node.append(el('span', 'intent', `${turn.intent ?? 'no match'}${confidence}`));
  }
  if (turn.latency) node.append(latencyBar(turn.latency));
}

/** Where a keypad entry led: "no match" when the flow asked again, else the state and the slots it set. */
function ledTo(led) {
  if (led.retry) return 'no match';
  const slots = Object.entries(led.slots).map(([name, value]) => `${name}=${value}`);
  return [`→ ${led.state}`, ...slots].join(' · ');
}

function latencyBar(l) {
  const bar = el('div', 'latency');
  const total = el('span', 'total', `${Math.round(l.silenceMs + l.endOfTurnMs)} ms`);
  const segments = el('div', 'segments');
  for (const [name, ms] of [
    ['silence', l.silenceMs],
    ['transcript', l.transcriptMs],
    ['decision', l.decisionMs],
    ['audio', l.firstAudioMs],
  ]) {
    const seg = el('span', `seg ${name}`, `${Math.round(ms)}`);
    seg.title = `${name}: ${ms} ms`;
    // Proportional width; a floor keeps a 1 ms step visible and labelled.
    seg.style.flexGrow = String(Math.max(ms, 0));
    seg.style.minWidth = '1.6rem';
    segments.append(seg);
  }
  bar.append(segments, total);
  return bar;
}

function renderPrompt(prompt) {
  const node = entry(prompt, prompt.heard === null ? 'prompt' : 'prompt cut');
  const who = el('span', 'who', 'Agent');
  const words = el('span', 'words');
  if (prompt.heard === null) words.textContent = prompt.text;
  else {
    // The words the caller heard, then the rest in grey: the heard text counts whole words of the prompt.
    const all = prompt.text.split(/\s+/).filter(Boolean);
    const n = prompt.heard.replace(/…$/, '').split(/\s+/).filter(Boolean).length;
    words.append(
      el('mark', 'heard', all.slice(0, n).join(' ')),
      ' ',
      el('span', 'unheard', all.slice(n).join(' ')),
    );
    node.title = `cut after ${prompt.playedMs} of ${prompt.promptMs} ms`;
  }
  node.replaceChildren(who, words);
  if (prompt.heard !== null)
    node.append(el('span', 'intent', `cut at ${(prompt.playedMs / 1000).toFixed(1)} s`));
}

ui.call.addEventListener('click', () => void startCall());
ui.hangup.addEventListener('click', hangUp);
ui.keypad.addEventListener('click', (e) => {
  const digit = e.target.closest('button')?.dataset.digit;
  if (digit) sendDigit(digit);
});
setState('idle', 'Ready. Choose a flow and press Call.');
void loadFlows();
