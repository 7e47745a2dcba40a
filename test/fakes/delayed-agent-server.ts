/**
 * A test double of a voice agent with known timing, for checking the load generator's figures: it answers the
 * voice webhook with a <Connect><Stream>, greets each caller with a short burst of audio and a mark, and answers
 * each caller utterance (found by its energy) a known delay after the utterance's last loud frame arrived, with
 * a burst of agent audio paced at 20 ms and a mark. It can refuse calls past a limit with busy TwiML or HTTP 503,
 * pause inside every answer (an injected stall), name a stream on another host, and check Twilio signatures.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { FRAME_BYTES, FRAME_MS, mulawToPcm, rms } from '../../src/audio/index.ts';
import { isValidStreamSignature, isValidTwilioSignature } from '../../src/telephony/signature.ts';

export interface DelayedAgentOptions {
  /** From the arrival of an utterance's last loud frame to the first frame of the answer, in ms (over 200). */
  replyDelayMs: number;
  /** Frames in each answer (25: half a second). */
  replyFrames?: number;
  /** Frames in the greeting sent when the stream starts (10). */
  greetingFrames?: number;
  /** Calls beyond this many at once are refused. */
  maxCalls?: number;
  /** How calls are refused: busy TwiML (<Say> and <Hangup/>), <Reject>, or HTTP 503. */
  refuseWith?: 'busy' | 'reject' | 503;
  /** In every answer, after `afterFrames` frames, nothing is sent for `ms`. */
  stall?: { afterFrames: number; ms: number };
  /** The host the TwiML names for the stream (127.0.0.1, the server's own). */
  streamHost?: string;
  /** When set, webhooks and stream upgrades must carry Twilio's signature with this token. */
  authToken?: string;
}

export interface DelayedAgentServer {
  url: string;
  /** Calls connected and turned away, utterances heard and answers sent so far. */
  readonly counts: {
    connected: number;
    refused: number;
    utterances: number;
    answers: number;
    badSignatures: number;
  };
  close(): Promise<void>;
}

/** A frame louder than this (RMS, int16 units) is the caller speaking. */
const LOUD_RMS = 500;
/** This many quiet frames after loud ones end an utterance. */
const END_FRAMES = 10;
const AGENT_FRAME = Buffer.alloc(FRAME_BYTES, 0x2a).toString('base64');

export async function startDelayedAgent(options: DelayedAgentOptions): Promise<DelayedAgentServer> {
  const counts = { connected: 0, refused: 0, utterances: 0, answers: 0, badSignatures: 0 };
  let admitted = 0;
  let base = '';
  const http: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const params = Object.fromEntries(new URLSearchParams(body));
      const url = `${base}${req.url ?? ''}`;
      const sig = req.headers['x-twilio-signature'];
      if (options.authToken && !isValidTwilioSignature(options.authToken, sig as string, url, params)) {
        counts.badSignatures += 1;
        res.writeHead(403).end();
        return;
      }
      if (admitted >= (options.maxCalls ?? Infinity)) {
        counts.refused += 1;
        if (options.refuseWith === 503) return void res.writeHead(503).end('busy');
        const verbs =
          options.refuseWith === 'reject'
            ? '<Reject reason="busy"/>'
            : '<Say>All lines are busy.</Say><Hangup/>';
        return void res.writeHead(200, { 'content-type': 'text/xml' }).end(`<Response>${verbs}</Response>`);
      }
      admitted += 1;
      counts.connected += 1;
      const host = `${options.streamHost ?? '127.0.0.1'}:${new URL(base).port}`;
      res
        .writeHead(200, { 'content-type': 'text/xml' })
        .end(`<Response><Connect><Stream url="ws://${host}/twilio/media"/></Connect></Response>`);
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  http.on('upgrade', (req, socket, head) => {
    const sig = req.headers['x-twilio-signature'] as string | undefined;
    const streamUrl = `ws://${options.streamHost ?? '127.0.0.1'}:${new URL(base).port}${req.url ?? ''}`;
    if (options.authToken && !isValidStreamSignature(options.authToken, sig, streamUrl)) {
      counts.badSignatures += 1;
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => agent(ws, options, counts, () => (admitted -= 1)));
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    url: base,
    counts,
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

/** One call's agent: greets, then answers each utterance after the delay. */
function agent(
  ws: WebSocket,
  o: DelayedAgentOptions,
  counts: DelayedAgentServer['counts'],
  ended: () => void,
): void {
  let streamSid = '';
  let loudFrames = 0;
  let quietFrames = 0;
  let lastLoudAt = 0;
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  const send = (text: string): void => {
    if (ws.readyState === ws.OPEN) ws.send(text);
  };
  let marks = 0;
  /** Sends `frames` frames paced at 20 ms (pausing where a stall is injected), then a mark. */
  const speak = (frames: number, stall: DelayedAgentOptions['stall']): void => {
    let sent = 0;
    const next = (): void => {
      send(`{"event":"media","streamSid":"${streamSid}","media":{"payload":"${AGENT_FRAME}"}}`);
      sent += 1;
      if (sent === frames) {
        send(`{"event":"mark","streamSid":"${streamSid}","mark":{"name":"m${++marks}"}}`);
        return;
      }
      later(stall && sent === stall.afterFrames ? stall.ms : FRAME_MS, next);
    };
    next();
  };
  ws.on('message', (data: Buffer) => {
    const msg = JSON.parse(data.toString()) as {
      event: string;
      start?: { streamSid: string };
      media?: { payload: string };
    };
    if (msg.event === 'start') {
      streamSid = msg.start!.streamSid;
      speak(o.greetingFrames ?? 10, undefined);
    } else if (msg.event === 'media') {
      const loud = rms(mulawToPcm(Buffer.from(msg.media!.payload, 'base64'))) > LOUD_RMS;
      if (loud) {
        loudFrames += 1;
        quietFrames = 0;
        lastLoudAt = performance.now();
      } else if (loudFrames > 0 && ++quietFrames >= END_FRAMES) {
        loudFrames = 0;
        counts.utterances += 1;
        later(Math.max(0, lastLoudAt + o.replyDelayMs - performance.now()), () => {
          counts.answers += 1;
          speak(o.replyFrames ?? 25, o.stall);
        });
      }
    } else if (msg.event === 'stop') ws.close();
  });
  ws.on('close', () => {
    for (const t of timers) clearTimeout(t);
    ended();
  });
}
