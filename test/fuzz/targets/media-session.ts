/**
 * Fuzz target: whole media streams as a call's MediaSession takes them, behind the parser: the start and its
 * ticket, the flow it names, keys, audio, mark echoes and stop, with the conversation journaled and its prompts
 * played on a manual clock. An input is one stream, a message per line (media-streams.ts's format); `!call` is
 * the call's id, `"!ticket":"!ticket"` its ticket as the voice webhook issued it, `!mark` the last mark the
 * session sent. handleMessage never throws; a call the session ends, it ends by closing the socket, and one the
 * caller hangs up ends too; every message it sent is one Twilio can read; nothing rejects unhandled meanwhile.
 */
import fc from 'fast-check';
import { PacerClock } from '../../../src/audio/pacer.ts';
import type { CallJournals } from '../../../src/call/journals.ts';
import { MediaSession, type StreamSocket } from '../../../src/call/session.ts';
import { DTMF_KEYS } from '../../../src/common/dtmf.ts';
import { Logger } from '../../../src/observability/logger.ts';
import { createServerMetrics } from '../../../src/observability/metrics.ts';
import { PromptCache } from '../../../src/speech/tts/prompt-cache.ts';
import { InboundEncoder, parseOutbound } from '../../../src/telephony/media-streams.ts';
import { ManualClock } from '../../fakes/manual-clock.ts';
import { ToneTts } from '../../fakes/tone-tts.ts';
import { testJournals } from '../../fixtures/journals.ts';
import { check, type FuzzTarget } from '../target.ts';
import { exampleFlows } from './webhooks.ts';

/** Records what the session sent, unparsed: parsing it is the check. */
class RawSocket implements StreamSocket {
  readonly sent: string[] = [];
  closed: number | null = null;
  bufferedAmount = 0;
  send(data: string): void {
    this.sent.push(data);
  }
  close(code: number): void {
    this.closed = code;
  }
}

let deps: ConstructorParameters<typeof MediaSession>[1];
let journals: CallJournals;
let time: ManualClock;
let calls = 0;

async function setup(): Promise<void> {
  journals = await testJournals();
  time = new ManualClock();
  deps = {
    flows: exampleFlows(),
    journals,
    defaultFlow: 'demo',
    prompts: new PromptCache(new ToneTts({ msPerChar: 1 })),
    pacerClock: new PacerClock({ clock: time }),
    clock: time,
    metrics: createServerMetrics(),
    logger: new Logger({ level: 'error', sink: () => {} }),
    env: { ORDERS_URL: 'http://127.0.0.1:9' },
  };
}

/** The last mark the session sent, for an echo. */
function lastMark(socket: RawSocket): string {
  for (let i = socket.sent.length - 1; i >= 0; i--) {
    const m = /"mark":\{"name":("(?:[^"\\]|\\.)*")\}/.exec(socket.sent[i]!);
    if (m) return (JSON.parse(m[1]!) as string).replace(/["\\]/g, '\\$&');
  }
  return 'none';
}

async function run(input: Buffer): Promise<void> {
  const callSid = `CA${(++calls).toString(16).padStart(32, '0')}`;
  const ticket = await journals.admit(callSid);
  const fields = `"callId":"${ticket.callId}","lease":"${ticket.lease}","token":"${ticket.token}"`;
  const socket = new RawSocket();
  const session = new MediaSession(socket, deps);
  for (const raw of input.toString('utf8').split('\n').slice(0, 64)) {
    const line = raw
      .replaceAll('"!ticket":"!ticket"', fields)
      .replaceAll('!call', callSid)
      .replaceAll('!mark', lastMark(socket));
    session.handleMessage(line);
    await time.tick(20);
  }
  for (let i = 0; i < 5; i++) await time.tick(200);
  // A session that ended the call itself closes the socket; otherwise the caller hangs up now.
  const endedItself = session.phase === 'ended';
  if (!endedItself) session.handleClose(1000);
  await session.closed;
  check(!endedItself || socket.closed !== null, 'the session ended the call without closing its socket');
  for (const m of socket.sent) parseOutbound(m);
}

const stream: fc.Arbitrary<Buffer> = fc
  .record({
    flow: fc.constantFrom('demo', 'pizza', 'support', 'appointment', 'pharmacy', 'nope'),
    ticket: fc.boolean(),
    steps: fc.array(
      fc.oneof(
        fc.constantFrom(...DTMF_KEYS).map((k) => ({ kind: 'dtmf' as const, k })),
        fc.constant({ kind: 'mark' as const }),
        fc.nat({ max: 3000 }).map((t) => ({ kind: 'media' as const, t })),
      ),
      { maxLength: 16 },
    ),
    stop: fc.boolean(),
  })
  .map(({ flow, ticket, steps, stop }) => {
    const enc = new InboundEncoder({ streamSid: 'MZ1', callSid: '!call', accountSid: 'AC1' });
    const params = { flow, ...(ticket ? { '!ticket': '!ticket' } : {}) };
    const silence = Buffer.alloc(160, 0xff).toString('base64');
    const lines = [enc.connected(), enc.start(params)];
    for (const s of steps) {
      if (s.kind === 'dtmf') lines.push(enc.dtmf(s.k));
      else if (s.kind === 'mark') lines.push(enc.mark('!mark'));
      else lines.push(enc.media(silence, s.t));
    }
    if (stop) lines.push(enc.stop());
    return Buffer.from(lines.join('\n'));
  });

export const mediaSession: FuzzTarget = {
  name: 'media-session',
  format: 'jsonl',
  arbitrary: stream,
  dictionary: ['"!ticket":"!ticket"', '!call', '!mark', '"dtmf"', '"mark"', '"stop"', '"flow"', '"pizza"'],
  maxBytes: 8192,
  slowMs: 5000,
  setup,
  run,
};
