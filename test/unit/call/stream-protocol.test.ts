/** The Media Streams order (connected, start, then media/dtmf/mark, then stop) and late inbound frames. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StreamProtocol } from '../../../src/call/media/stream-protocol.ts';
import { isSwitchboardError } from '../../../src/errors.ts';
import { InboundEncoder, parseInbound } from '../../../src/telephony/media-streams.ts';

function protocol(now = () => 0) {
  const seen: string[] = [];
  const p = new StreamProtocol(now, {
    start: (m) => {
      seen.push('start');
      p.live(m.start.streamSid);
    },
    stop: () => seen.push('stop'),
    media: (_payload, timestamp) => seen.push(`media@${timestamp}`),
    dtmf: (digit) => seen.push(`dtmf:${digit}`),
    keyDropped: (dropped) => seen.push(`dropped:${dropped}`),
    mark: (name) => seen.push(`mark:${name}`),
    frameIn: () => seen.push('in'),
  });
  const enc = new InboundEncoder({ streamSid: 'MZ1', callSid: 'CA1', accountSid: 'AC1' });
  const send = (raw: string): void => p.dispatch(parseInbound(raw));
  const frame = (timestamp: number): void => send(enc.media(Buffer.alloc(160).toString('base64'), timestamp));
  return { p, seen, enc, send, frame };
}

const outOfOrder = (err: unknown): boolean => isSwitchboardError(err, 'MEDIA_OUT_OF_ORDER');

test('messages before start, a second connected and a second start are out of order', () => {
  const { p, enc, send } = protocol();
  assert.throws(() => send(enc.dtmf('1')), outOfOrder);
  send(enc.connected());
  assert.throws(() => send(enc.connected()), outOfOrder);
  send(enc.start({}));
  assert.equal(p.phase, 'live');
  assert.throws(() => send(enc.start({})), outOfOrder);
});

test('a message for another stream is rejected', () => {
  const { enc, send } = protocol();
  send(enc.connected());
  send(enc.start({}));
  const other = new InboundEncoder({ streamSid: 'MZ2', callSid: 'CA1', accountSid: 'AC1' });
  assert.throws(
    () => send(other.dtmf('1')),
    (err: unknown) => isSwitchboardError(err, 'MEDIA_BAD_MESSAGE'),
  );
});

test('a late frame is counted and dropped, not reordered; one far behind is a clock jump and taken', () => {
  const { p, seen, enc, send, frame } = protocol();
  send(enc.connected());
  send(enc.start({}));
  frame(0);
  frame(40);
  frame(20); // overtaken by 40: dropped
  frame(5000);
  frame(100); // 4.9 s behind: the 5000 was bogus
  send(enc.dtmf('5'));
  send(enc.mark('m1'));
  send(enc.stop());
  assert.deepEqual(
    seen.filter((s) => s !== 'in'),
    ['start', 'media@0', 'media@40', 'media@5000', 'media@100', 'dtmf:5', 'mark:m1', 'stop'],
  );
  assert.equal(seen.filter((s) => s === 'in').length, 5, 'every inbound frame is counted as it arrives');
  assert.equal(p.framesIn, 5);
  assert.equal(p.outOfOrder, 1);
  assert.equal(p.end(), true, 'it was live');
  assert.equal(p.phase, 'ended');
});

test('keys past the key rate are dropped and counted, and come back with time', () => {
  let ms = 0;
  const { p, seen, enc, send } = protocol(() => ms);
  send(enc.connected());
  send(enc.start({}));
  for (let i = 0; i < 25; i++) send(enc.dtmf('5'));
  assert.equal(seen.filter((s) => s === 'dtmf:5').length, 20);
  assert.deepEqual(seen.slice(-5), ['dropped:1', 'dropped:2', 'dropped:3', 'dropped:4', 'dropped:5']);
  assert.equal(p.keysDropped, 5);
  ms = 1000;
  send(enc.dtmf('6'));
  assert.equal(seen.at(-1), 'dtmf:6');
});
