import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pacer, PacerClock, type PacerSink } from '../../../src/audio/pacer.ts';
import { isSwitchboardError } from '../../../src/errors.ts';
import { ManualClock } from '../../fakes/manual-clock.ts';

/** Records what was sent, in order: 'prefix:index' for frames, 'mark:name' for marks. */
class FakeSink implements PacerSink {
  readonly log: string[] = [];
  get media(): number {
    return this.log.filter((e) => !e.startsWith('mark:')).length;
  }
  get marks(): string[] {
    return this.log.filter((e) => e.startsWith('mark:')).map((e) => e.slice(5));
  }
  sendMedia(payload: string): void {
    this.log.push(payload);
  }
  sendMark(name: string): void {
    this.log.push(`mark:${name}`);
  }
}

function prompt(name: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${name}${i}`);
}

/** Frames due by `elapsed` ms after the anchor with a lead: those with index * 20 < elapsed + lead. */
function due(elapsed: number, lead: number): number {
  return Math.max(0, Math.ceil((elapsed + lead) / 20));
}

test('never sends more than the lead ahead of real time', () => {
  const sink = new FakeSink();
  const pacer = new Pacer(sink, { leadMs: 60 });
  pacer.enqueue(prompt('a', 100), 'a');
  assert.equal(pacer.queuedMs, 2000);
  pacer.pump(1000);
  assert.equal(sink.media, 3, '0, 20 and 40 ms are within 60 ms');
  pacer.pump(1000);
  assert.equal(sink.media, 3, 'a second pump at the same time sends nothing');
  pacer.pump(1010);
  assert.equal(sink.media, 4);
  pacer.pump(1020);
  assert.equal(sink.media, 4, 'frame 4 starts at 80 ms, not yet within 20 + 60');
  pacer.pump(1020.5);
  assert.equal(sink.media, 5);
  assert.equal(pacer.sentFrames, 5);
  assert.equal(pacer.queuedMs, 1900);
  assert.deepEqual(sink.log, prompt('a', 5));
});

test('irregular pumps over a second send exactly the frames due: no drift', () => {
  const sink = new FakeSink();
  const pacer = new Pacer(sink, { leadMs: 60 });
  pacer.enqueue(prompt('a', 500), 'a');
  const start = 5000;
  const steps = [7, 33, 20, 45, 1, 0, 19, 21];
  let t = start;
  pacer.pump(t);
  for (let k = 0; t - start < 1000; k++) {
    t = Math.min(start + 1000, t + steps[k % steps.length]!);
    pacer.pump(t);
    assert.equal(sink.media, due(t - start, 60), `at +${t - start} ms`);
  }
  assert.equal(pacer.sentFrames, 53);
  // A pump 200 ms late catches up at once.
  pacer.pump(start + 1200);
  assert.equal(pacer.sentFrames, 63);
});

test('a late pump is bounded by what is queued', () => {
  const sink = new FakeSink();
  const pacer = new Pacer(sink);
  pacer.enqueue(prompt('a', 4), 'a');
  pacer.pump(0);
  pacer.pump(10_000);
  assert.equal(sink.media, 4);
  assert.deepEqual(sink.marks, ['a']);
  assert.ok(pacer.idle);
});

test("a mark goes right after its prompt's last frame, not before", () => {
  const sink = new FakeSink();
  const pacer = new Pacer(sink, { leadMs: 60 });
  pacer.enqueue(prompt('a', 5), 'a');
  pacer.enqueue(prompt('b', 3), 'b');
  pacer.pump(0);
  assert.deepEqual(sink.log, ['a0', 'a1', 'a2']);
  pacer.pump(20);
  assert.deepEqual(sink.log, ['a0', 'a1', 'a2', 'a3'], 'no mark while a frame of a is unsent');
  pacer.pump(39);
  assert.deepEqual(
    sink.log,
    ['a0', 'a1', 'a2', 'a3', 'a4', 'mark:a'],
    'the mark goes in the same pump as a4',
  );
  pacer.pump(39.5);
  assert.equal(sink.log.length, 6, 'b0 (at 100 ms) is not due yet');
  pacer.pump(100);
  assert.deepEqual(sink.log.slice(6), ['b0', 'b1', 'b2', 'mark:b']);
  assert.ok(pacer.idle);
});

test('a prompt with no frames just emits its mark when reached', () => {
  const sink = new FakeSink();
  const pacer = new Pacer(sink, { leadMs: 20 });
  pacer.enqueue(prompt('a', 2), 'a');
  pacer.enqueue([], 'empty');
  pacer.enqueue(prompt('c', 1), 'c');
  pacer.pump(0);
  assert.deepEqual(sink.log, ['a0']);
  pacer.pump(20);
  assert.deepEqual(sink.log, ['a0', 'a1', 'mark:a', 'mark:empty']);
  pacer.pump(20.5);
  assert.deepEqual(sink.log.slice(4), ['c0', 'mark:c']);

  const alone = new FakeSink();
  const p2 = new Pacer(alone);
  p2.enqueue([], 'only');
  assert.equal(p2.idle, false);
  p2.pump(0);
  assert.deepEqual(alone.log, ['mark:only']);
  assert.ok(p2.idle);
});

test('clear() returns the unsent marks in order and stops sending', () => {
  const sink = new FakeSink();
  const pacer = new Pacer(sink, { leadMs: 60 });
  pacer.enqueue(prompt('a', 10), 'a');
  pacer.enqueue(prompt('b', 5), 'b');
  pacer.enqueue([], 'c');
  pacer.pump(0);
  assert.equal(sink.media, 3);
  assert.deepEqual(pacer.clear(), ['a', 'b', 'c']);
  assert.ok(pacer.idle);
  assert.equal(pacer.queuedMs, 0);
  pacer.pump(1000);
  assert.equal(sink.media, 3);
  assert.deepEqual(sink.marks, []);
  assert.deepEqual(pacer.clear(), []);
});

test('after clear(), the next prompt starts at once with a full lead', () => {
  const sink = new FakeSink();
  const pacer = new Pacer(sink, { leadMs: 60 });
  pacer.enqueue(prompt('a', 10), 'a');
  pacer.pump(0);
  pacer.clear();
  pacer.enqueue(prompt('b', 10), 'b');
  pacer.pump(1);
  assert.deepEqual(sink.log.slice(3), ['b0', 'b1', 'b2']);
});

test('a clear() from inside the sink stops the pump', () => {
  const log: string[] = [];
  const pacer: Pacer = new Pacer({
    sendMedia: (p) => {
      log.push(p);
      if (p === 'a1') pacer.clear();
    },
    sendMark: (m) => log.push(`mark:${m}`),
  });
  pacer.enqueue(prompt('a', 3), 'a');
  pacer.enqueue(prompt('b', 3), 'b');
  pacer.pump(1000);
  assert.deepEqual(log, ['a0', 'a1']);
  assert.ok(pacer.idle);
});

test('playback re-anchors after idle, but continues seamlessly if the last prompt is still playing', () => {
  const sink = new FakeSink();
  const pacer = new Pacer(sink, { leadMs: 60 });
  pacer.enqueue(prompt('a', 5), 'a'); // plays 0..100 ms
  pacer.pump(0);
  pacer.pump(40);
  assert.deepEqual(sink.marks, ['a']);
  // Queued before a finished playing: b continues the same timeline, so at 60 ms only frame 5 (100 ms) is due.
  pacer.enqueue(prompt('b', 10), 'b'); // plays 100..300 ms
  pacer.pump(60);
  assert.equal(sink.media, 6);
  pacer.pump(300);
  assert.deepEqual(sink.marks, ['a', 'b']);
  // Long after everything played: c anchors at its own first pump and gets a fresh lead.
  pacer.enqueue(prompt('c', 10), 'c');
  pacer.pump(5000);
  assert.deepEqual(sink.log.slice(-3), ['c0', 'c1', 'c2']);
  pacer.pump(5020.5);
  assert.equal(sink.log.at(-1), 'c4');
  assert.equal(pacer.sentFrames, 20);
});

test('enqueue past maxQueuedMs throws AUDIO_QUEUE_FULL and leaves the queue as it was', () => {
  const sink = new FakeSink();
  const pacer = new Pacer(sink, { maxQueuedMs: 1000, leadMs: 60 });
  pacer.enqueue(prompt('a', 50), 'a');
  assert.throws(
    () => pacer.enqueue(prompt('b', 1), 'b'),
    (err: unknown) => isSwitchboardError(err, 'AUDIO_QUEUE_FULL'),
  );
  assert.equal(pacer.queuedMs, 1000);
  pacer.pump(0);
  pacer.enqueue(prompt('b', 3), 'b'); // room again once frames went out
  pacer.pump(10_000);
  assert.deepEqual(sink.marks, ['a', 'b']);
});

test('the caller frame arrays are used as given, not copied', () => {
  const sink = new FakeSink();
  const pacer = new Pacer(sink, { leadMs: 20 });
  const frames = prompt('a', 3);
  pacer.enqueue(frames, 'a');
  pacer.pump(0);
  frames[2] = 'changed';
  pacer.pump(100);
  assert.deepEqual(sink.log, ['a0', 'a1', 'changed', 'mark:a']);
});

test('PacerClock.tick pumps every pacer with the same now; a throwing sink does not stop the others', () => {
  let now = 1000;
  const errors: unknown[] = [];
  const clock = new PacerClock({ now: () => now, onError: (err) => errors.push(err) });
  const good = new FakeSink();
  const other = new FakeSink();
  const pGood = new Pacer(good, { leadMs: 60 });
  const pBad = new Pacer({
    sendMedia: () => {
      throw new Error('socket gone');
    },
    sendMark: () => {},
  });
  const pOther = new Pacer(other, { leadMs: 60 });
  for (const [p, n] of [
    [pGood, 'g'],
    [pBad, 'x'],
    [pOther, 'o'],
  ] as const) {
    p.enqueue(prompt(n, 50), n);
  }
  clock.add(pGood);
  clock.add(pBad);
  clock.add(pOther);
  try {
    assert.equal(clock.size, 3);
    clock.tick();
    assert.equal(good.media, 3);
    assert.equal(other.media, 3);
    now = 1100;
    clock.tick();
    assert.equal(good.media, 8);
    assert.equal(other.media, 8);
    assert.equal(clock.failures, 2);
    assert.equal(errors.length, 2);
    assert.match(String(errors[0]), /socket gone/);
  } finally {
    clock.stop();
  }
  assert.equal(clock.size, 0);
  assert.equal(clock.running, false);
});

test('PacerClock runs one timer of its clock while it has pacers and stops with the last', () => {
  const time = new ManualClock();
  const failed: Pacer[] = [];
  const clock = new PacerClock({ clock: time, intervalMs: 5, onError: (_err, p) => failed.push(p) });
  const sink = new FakeSink();
  const good = new Pacer(sink, { leadMs: 20 });
  const bad = new Pacer({
    sendMedia: () => {
      throw new Error('boom');
    },
    sendMark: () => {},
  });
  good.enqueue(prompt('g', 10_000), 'g');
  bad.enqueue(prompt('b', 10_000), 'b');
  assert.equal(clock.running, false, 'no timer before the first pacer');
  assert.equal(time.pending, 0);
  clock.add(bad);
  clock.add(good);
  try {
    assert.equal(clock.running, true);
    assert.equal(time.pending, 1, 'one timer for every pacer');
    time.advance(100);
    // 100 ms of ticks, 20 ms of lead: the frames due by then went out, on the clock's time.
    assert.equal(sink.media, 6);
    assert.ok(clock.failures >= 1);
    assert.ok(failed.length >= 1 && failed.every((p) => p === bad));
    clock.remove(bad);
    assert.equal(clock.running, true, 'still one pacer');
    clock.remove(good);
    assert.equal(clock.size, 0);
    assert.equal(clock.running, false, 'timer cleared with the last pacer');
    assert.equal(time.pending, 0);
    const sent = sink.media;
    time.advance(50);
    assert.equal(sink.media, sent, 'no pumps after removal');
    clock.add(good);
    assert.equal(clock.running, true, 'restarts when a pacer is added again');
    assert.equal(clock.now(), time.monotonic(), 'pacers are pumped with the clock time');
  } finally {
    clock.stop();
  }
  assert.equal(clock.running, false);
  assert.equal(time.pending, 0);
});

test('audio queued without a mark runs straight on into the next item, which carries the mark', () => {
  const sink = new FakeSink();
  const pacer = new Pacer(sink, { leadMs: 0 });
  pacer.enqueue(prompt('a', 2), null);
  pacer.enqueue(prompt('b', 2), 'm');
  for (let t = 0; t <= 100; t += 20) pacer.pump(t);
  assert.deepEqual(sink.log, ['a0', 'a1', 'b0', 'b1', 'mark:m']);
});

test('a mark queued alone goes out once the audio before it has been sent', () => {
  const sink = new FakeSink();
  const pacer = new Pacer(sink, { leadMs: 0 });
  pacer.enqueue(prompt('a', 3), null);
  pacer.enqueue([], 'alone');
  pacer.pump(0); // anchors playback
  pacer.pump(40);
  assert.deepEqual(sink.log, ['a0', 'a1'], 'the mark waits for a2');
  pacer.pump(60);
  assert.deepEqual(sink.log, ['a0', 'a1', 'a2', 'mark:alone']);
});

test('clear reports the dropped marks, not the unmarked audio', () => {
  const sink = new FakeSink();
  const pacer = new Pacer(sink);
  pacer.enqueue(prompt('a', 5), null);
  pacer.enqueue(prompt('b', 5), 'b');
  pacer.enqueue(prompt('c', 5), null);
  assert.deepEqual(pacer.clear(), ['b']);
  assert.ok(pacer.idle);
});

test('playedFrames counts what has had time to play: the frames sent less those sent ahead', () => {
  const sink = new FakeSink();
  const pacer = new Pacer(sink, { leadMs: 60 });
  pacer.enqueue(prompt('a', 100), 'a');
  pacer.pump(1000);
  assert.equal(pacer.playedFrames(1000), 0, 'three frames are out, none has played yet');
  pacer.pump(1500);
  assert.equal(pacer.sentFrames, 28);
  assert.equal(pacer.playedFrames(1500), 25, 'half a second has played');
  assert.equal(pacer.playedFrames(1540), 27);
  assert.equal(pacer.playedFrames(9000), 28, 'never more than was sent');
  pacer.clear();
  assert.equal(pacer.playedFrames(1540), 28, 'after a clear, what was sent counts as ended');
});

test('a frame sent more than 20 ms after it was due is counted late; on-time pumps count none', () => {
  const sink = new FakeSink();
  const pacer = new Pacer(sink, { leadMs: 60 });
  pacer.enqueue(prompt('a', 100), 'a');
  let late = 0;
  for (let t = 1000; t <= 1200; t += 20) late += pacer.pump(t);
  assert.equal(late, 0, 'pumped every 20 ms: every frame goes out ahead of its time');
  assert.equal(sink.media, 13, 'frames 0..12: due by 1240, within the lead');
  // The next pump comes 180 ms late (a stalled event loop): frames 13..22 go out at 1400.
  assert.equal(
    pacer.pump(1400),
    6,
    'frames 13..18 (due 1260..1360) are over 20 ms late; 19 (due 1380) is not',
  );
  assert.equal(sink.media, 23);
  assert.equal(pacer.lateFrames, 6);
  assert.equal(pacer.pump(1420), 0, 'back on time');
  assert.equal(pacer.lateFrames, 6);
});

test('a prompt started after the queue ran dry is re-anchored, not counted late', () => {
  const sink = new FakeSink();
  const pacer = new Pacer(sink, { leadMs: 60 });
  pacer.enqueue(prompt('a', 2), 'a');
  assert.equal(pacer.pump(1000), 0);
  pacer.enqueue(prompt('b', 10), 'b');
  assert.equal(pacer.pump(5000), 0, 'nothing was due while nothing was queued');
  assert.equal(pacer.lateFrames, 0);
});

test('PacerClock reports late frames once per tick, summed over its pacers, and counts out-of-tick pumps', () => {
  let now = 0;
  const reports: number[] = [];
  const clock = new PacerClock({ now: () => now, onLate: (frames) => reports.push(frames) });
  const sinks = [new FakeSink(), new FakeSink()];
  const pacers = sinks.map((s) => new Pacer(s, { leadMs: 60 }));
  for (const p of pacers) {
    p.enqueue(prompt('x', 50), 'x');
    clock.add(p);
  }
  clock.tick();
  now = 20;
  clock.tick();
  assert.deepEqual(reports, [], 'on time: no report at all');
  now = 100;
  clock.tick();
  assert.deepEqual(reports, [], 'a tick 60 ms late sends frames 4..7 (due 80..140): none over 20 ms late');
  now = 300;
  clock.tick();
  // Frames 8..17 go out at 300: 8..13 (due 160..260) are over 20 ms late, 6 per pacer, reported together.
  assert.deepEqual(reports, [12]);
  assert.equal(clock.lateFrames, 12);
  // A pump between ticks (a prompt just queued) is counted the same way.
  now = 500;
  clock.pump(pacers[0]!);
  assert.deepEqual(reports, [12, 6], 'frames 18..27 go out at 500: 18..23 (due 360..460) late');
  clock.stop();
});

test('a throwing onLate handler never stops the audio', () => {
  let now = 0;
  const clock = new PacerClock({
    now: () => now,
    onLate: () => {
      throw new Error('metrics broke');
    },
  });
  const sink = new FakeSink();
  const p = new Pacer(sink, { leadMs: 60 });
  p.enqueue(prompt('x', 50), 'x');
  clock.add(p);
  clock.tick();
  now = 500;
  clock.tick();
  assert.equal(sink.media, 28);
  assert.equal(clock.lateFrames, 21, 'frames 3..23 (due 60..460) went out late at 500');
  assert.equal(clock.failures, 0);
  clock.stop();
});
