/**
 * Hostile clients of a live server, for the hostile-clients test and `bench/hostile.ts`. Each kind opens one
 * connection and misbehaves in one way; its outcome is how the server ended it: a websocket close code, an HTTP
 * status, `cut` (closed with no answer) or `open` (never ended, past the deadline). Each kind runs from a source
 * address of its own: every 127.x.y.z reaches a server listening on 127.0.0.1, so per-source limits apply to one
 * kind at a time and never to the good calls (from 127.0.0.1).
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';
import { InboundEncoder } from '../../src/telephony/media-streams.ts';

export type Outcome = string;

/** What a kind needs of the server: its address, and new calls' stream tickets. */
export interface HostileTarget {
  /** http://127.0.0.1:PORT */
  url: string;
  /**
   * A new call admitted as the voice webhook would: its stream's path and `start` parameters; null when the server
   * turned the call away (admission control: all lines busy).
   */
  ticket(callSid: string): Promise<{ path: string; params: Record<string, string> } | null>;
}

export interface HostileKind {
  name: string;
  /** The outcomes the server should give it: the kind's own first, then the limits' (429). */
  expected: readonly Outcome[];
  /** Made once before the kind runs (a ticket to replay, say). */
  setup?(target: HostileTarget): Promise<unknown>;
  run(target: HostileTarget, source: string, setup: unknown): Promise<Outcome>;
}

/** Every hostile call id starts so, to tell their log lines from the good calls'. */
export const HOSTILE_CALL_PREFIX = 'CAffff';
/** How long a connection may stay open before it counts as `open` (the server never ended it). */
const DEADLINE_MS = 45_000;
let serial = 0;
const hostileSid = (): string => HOSTILE_CALL_PREFIX + String(++serial).padStart(26, '0');
const SILENCE = Buffer.alloc(160, 0xff).toString('base64');
const encoderFor = (callSid: string): InboundEncoder =>
  new InboundEncoder({ streamSid: 'MZ' + callSid.slice(2), callSid, accountSid: 'AC' + '0'.repeat(32) });

/** A websocket from `source` to `path`; `act` misbehaves once it is open. */
function viaWebSocket(
  target: HostileTarget,
  source: string,
  path: string,
  act: (ws: WebSocket, enc: InboundEncoder) => void | Promise<void>,
  callSid = hostileSid(),
): Promise<Outcome> {
  const ws = new WebSocket(target.url.replace(/^http/, 'ws') + path, {
    localAddress: source,
    perMessageDeflate: false,
  });
  const enc = encoderFor(callSid);
  return new Promise<Outcome>((resolve) => {
    const deadline = setTimeout(() => {
      resolve('open');
      ws.terminate();
    }, DEADLINE_MS);
    const settle = (outcome: Outcome): void => {
      clearTimeout(deadline);
      resolve(outcome);
    };
    ws.on('error', () => {}); // the outcome is how it closed, below
    ws.once('unexpected-response', (req, res) => {
      settle(`http ${res.statusCode}`);
      req.destroy();
    });
    ws.once('open', () => {
      Promise.resolve(act(ws, enc)).catch(() => {});
    });
    ws.once('close', (code) => settle(code === 1006 ? 'cut' : `ws ${code}`));
  });
}

/** A raw TCP connection from `source` that writes `text` and waits: the outcome is the status answered, if any. */
function viaSocket(
  target: HostileTarget,
  source: string,
  text: string,
  after?: (s: Socket) => void,
): Promise<Outcome> {
  const { hostname, port } = new URL(target.url);
  return new Promise<Outcome>((resolve) => {
    const socket = connect({ host: hostname, port: Number(port), localAddress: source }, () => {
      socket.write(text);
      after?.(socket);
    });
    let answer = Buffer.alloc(0);
    const deadline = setTimeout(() => socket.destroy(), DEADLINE_MS);
    socket.on('data', (chunk: Buffer) => {
      answer = Buffer.concat([answer, chunk]);
      const code = closeFrameCode(answer);
      if (code !== null) socket.destroy();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(deadline);
      const code = closeFrameCode(answer);
      const status = /^HTTP\/1\.1 (\d{3}) /.exec(answer.toString('latin1'))?.[1];
      if (code !== null) resolve(`ws ${code}`);
      else if (status && status !== '101') resolve(`http ${status}`);
      else resolve(answer.length === 0 ? 'cut' : 'cut after 101');
    });
  });
}

/** The code of a websocket close frame after a 101 answer, or null. */
function closeFrameCode(data: Buffer): number | null {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0 || !data.subarray(0, 12).toString('latin1').includes(' 101')) return null;
  const frame = data.subarray(end + 4);
  const at = frame.indexOf(0x88);
  return at >= 0 && frame.length >= at + 4 ? frame.readUInt16BE(at + 2) : null;
}

const UPGRADE_HEAD =
  'GET /twilio/media HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';

/** A started stream on a ticket of its own: the flood kinds misbehave inside a real call. */
async function inCall(
  target: HostileTarget,
  source: string,
  act: (ws: WebSocket, enc: InboundEncoder) => Promise<void>,
): Promise<Outcome> {
  const callSid = hostileSid();
  const ticket = await target.ticket(callSid);
  if (ticket === null) return BUSY;
  const { path, params } = ticket;
  return viaWebSocket(
    target,
    source,
    path,
    async (ws, enc) => {
      ws.send(enc.connected());
      ws.send(enc.start(params));
      await act(ws, enc);
    },
    callSid,
  );
}

/** Resolves when `ws` has received `count` messages (the call is live: its greeting is playing). */
function received(ws: WebSocket, count: number): Promise<void> {
  return new Promise((resolve) => {
    let n = 0;
    const on = (): void => {
      if (++n < count) return;
      ws.off('message', on);
      resolve();
    };
    ws.on('message', on);
  });
}

/** A ticket its rightful stream has used (attached, its greeting playing): kept live, or ended with `stop`. */
async function usedTicket(target: HostileTarget, keepLive: boolean): Promise<Replayed & { close(): void }> {
  const callSid = hostileSid();
  const ticket = await target.ticket(callSid);
  if (ticket === null) throw new Error('the server is too busy to admit the call whose ticket is replayed');
  const ws = new WebSocket(target.url.replace(/^http/, 'ws') + ticket.path, { perMessageDeflate: false });
  const enc = encoderFor(callSid);
  ws.on('error', () => {});
  await once(ws, 'open');
  ws.send(enc.connected());
  ws.send(enc.start(ticket.params));
  await received(ws, 3);
  if (!keepLive) {
    ws.send(enc.stop());
    await once(ws, 'close');
  }
  return { ...ticket, callSid, close: () => ws.close() };
}

type Replayed = { path: string; params: Record<string, string>; callSid: string };

/** Reconnects with a ticket already used: refused by the journal (1008), or at the upgrade once rate-limited. */
function replayRun(target: HostileTarget, source: string, setup: unknown): Promise<Outcome> {
  const t = setup as Replayed;
  return viaWebSocket(
    target,
    source,
    t.path,
    (ws, enc) => {
      ws.send(enc.connected());
      ws.send(enc.start(t.params));
    },
    t.callSid,
  );
}

const LIMITED = 'http 429';
/** A kind that needs a call of its own, turned away by admission control before it could misbehave. */
const BUSY = 'busy';

/** Every kind of hostile client. Streams without a ticket use the bare path (a server without TWILIO_AUTH_TOKEN). */
export const HOSTILE_KINDS: readonly HostileKind[] = [
  {
    name: 'malformed JSON',
    expected: ['ws 1002', LIMITED],
    run: (t, src) =>
      viaWebSocket(t, src, '/twilio/media', (ws, enc) => {
        ws.send(enc.connected());
        ws.send('{"event": "media", ');
      }),
  },
  {
    name: 'binary frame',
    expected: ['ws 1002', LIMITED],
    // A start the server would take as text (and refuse later, for its ticket), sent as binary.
    run: (t, src) =>
      viaWebSocket(t, src, '/twilio/media', (ws, enc) => {
        ws.send(enc.connected());
        ws.send(Buffer.from(enc.start({})), { binary: true });
      }),
  },
  {
    name: '10 MB frame',
    expected: ['ws 1009', LIMITED],
    run: (t, src) =>
      viaWebSocket(t, src, '/twilio/media', (ws, enc) => {
        ws.send(enc.connected());
        ws.send('A'.repeat(10 * 1024 * 1024));
      }),
  },
  {
    name: 'events out of order',
    expected: ['ws 1002', LIMITED],
    run: (t, src) =>
      viaWebSocket(t, src, '/twilio/media', (ws, enc) => {
        ws.send(enc.connected());
        ws.send(enc.media(SILENCE, 0));
      }),
  },
  {
    name: 'media for another stream',
    expected: ['ws 1002', LIMITED, BUSY],
    run: (t, src) =>
      inCall(t, src, async (ws) => {
        const other = new InboundEncoder({ streamSid: 'MZother', callSid: 'CAother', accountSid: 'ACother' });
        ws.send(other.media(SILENCE, 0));
        await Promise.resolve();
      }),
  },
  {
    name: 'flood of marks',
    expected: ['ws 1000', LIMITED, BUSY],
    run: (t, src) =>
      inCall(t, src, async (ws, enc) => {
        await received(ws, 2);
        for (let i = 0; i < 2000; i++) ws.send(enc.mark(`m${i}`));
        ws.send(enc.stop());
      }),
  },
  {
    name: 'flood of keys',
    expected: ['ws 1000', LIMITED, BUSY],
    run: (t, src) =>
      inCall(t, src, async (ws, enc) => {
        await received(ws, 2);
        for (let i = 0; i < 2000; i++) ws.send(enc.dtmf('*'));
        ws.send(enc.stop());
      }),
  },
  {
    name: 'never sends start',
    expected: ['ws 1002', LIMITED],
    run: (t, src) => viaWebSocket(t, src, '/twilio/media', (ws, enc) => ws.send(enc.connected())),
  },
  {
    name: 'slow headers (HTTP)',
    expected: ['http 408', LIMITED],
    run: (t, src) => viaSocket(t, src, 'POST /twilio/voice HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: '),
  },
  {
    name: 'slow headers (upgrade)',
    expected: ['http 408', LIMITED],
    run: (t, src) => viaSocket(t, src, UPGRADE_HEAD),
  },
  {
    name: 'stalls mid-frame',
    expected: ['ws 1002', LIMITED],
    // A text frame announcing 100 bytes (masked, as a client must), of which 10 come.
    run: (t, src) =>
      viaSocket(t, src, UPGRADE_HEAD + '\r\n', (s) =>
        setTimeout(() => s.write(Buffer.from([0x81, 0xe4, 1, 2, 3, 4, ...Buffer.alloc(10, 0x41)])), 200),
      ),
  },
  {
    name: 'stolen ticket, reconnecting',
    expected: ['ws 1008', LIMITED],
    setup: (t) => usedTicket(t, true),
    run: replayRun,
  },
  {
    name: 'expired ticket, reconnecting',
    expected: ['ws 1008', LIMITED],
    setup: (t) => usedTicket(t, false),
    run: replayRun,
  },
  {
    name: 'unauthenticated requests',
    expected: ['http 404', LIMITED],
    run: (t, src) =>
      viaSocket(t, src, 'GET /no-such-page HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'),
  },
];

export interface KindResult {
  kind: string;
  opened: number;
  outcomes: Record<Outcome, number>;
  /** Connections whose outcome is not one the kind expects. */
  unexpected: number;
}

/**
 * Runs `connections` of `kind` from `source`, `concurrency` at a time (with `gapMs` between the starts of each
 * slot's connections), or until `until` (ms since the epoch); resolves with the tally of outcomes.
 */
export async function runKind(
  kind: HostileKind,
  target: HostileTarget,
  options: { source: string; connections: number; concurrency: number; gapMs?: number; until?: number },
): Promise<KindResult> {
  const setup = kind.setup ? await kind.setup(target) : undefined;
  const outcomes: Record<Outcome, number> = {};
  let opened = 0;
  const slot = async (): Promise<void> => {
    while (opened < options.connections && (options.until === undefined || Date.now() < options.until)) {
      opened += 1;
      const outcome = await kind
        .run(target, options.source, setup)
        .catch((err: Error) => `error ${err.message}`);
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      if (options.gapMs) await sleep(options.gapMs);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, slot));
  (setup as { close?: () => void } | undefined)?.close?.();
  const unexpected = Object.entries(outcomes)
    .filter(([o]) => !kind.expected.includes(o))
    .reduce((sum, [, n]) => sum + n, 0);
  return { kind: kind.name, opened, outcomes, unexpected };
}
