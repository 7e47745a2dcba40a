import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SwitchboardError } from '../../../src/errors.ts';
import { MemoryStore } from '../../../src/journal/memory.ts';
import type { CallSummary } from '../../../src/journal/store.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';
import { StoreWatch } from '../../../src/server/store-watch.ts';
import { ManualClock } from '../../fakes/manual-clock.ts';

/** A memory store whose reads answer, fail or never answer, as a test says. */
class FlakyStore extends MemoryStore {
  mode: 'answer' | 'fail' | 'hang' = 'answer';
  #hung: (() => void)[] = [];

  override summary(callId: string): Promise<CallSummary | null> {
    if (this.mode === 'fail') return Promise.reject(new SwitchboardError('STORE_UNAVAILABLE'));
    if (this.mode === 'hang') return new Promise((resolve) => this.#hung.push(() => resolve(null)));
    return super.summary(callId);
  }

  /** The reads that hung answer now. */
  answerHung(): void {
    for (const answer of this.#hung.splice(0)) answer();
  }
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function tick(clock: ManualClock, seconds: number): Promise<void> {
  for (let i = 0; i < seconds; i++) {
    clock.advance(1000);
    await settle();
  }
}

test('a store that fails two reads in a row is unreachable until one answers', async () => {
  const clock = new ManualClock();
  const store = new FlakyStore();
  const { logger, records } = memoryLogger('debug');
  const watch = new StoreWatch({ store, logger, clock });
  await tick(clock, 2);
  assert.equal(watch.reachable, true);
  store.mode = 'fail';
  await tick(clock, 1);
  assert.equal(watch.reachable, true, 'one miss is not enough');
  await tick(clock, 1);
  assert.equal(watch.reachable, false);
  store.mode = 'answer';
  await tick(clock, 1);
  assert.equal(watch.reachable, true);
  assert.deepEqual(
    records.map((r) => r.msg),
    ['journal store unreachable; not ready until it answers', 'journal store reachable again; ready'],
  );
  watch.stop();
});

test('a read that never answers (a paused or cut-off database) counts as misses while it hangs', async () => {
  const clock = new ManualClock();
  const store = new FlakyStore();
  const watch = new StoreWatch({ store, logger: memoryLogger('debug').logger, clock });
  store.mode = 'hang';
  await tick(clock, 3);
  assert.equal(watch.reachable, true, 'still within its time, then one miss');
  await tick(clock, 1);
  assert.equal(watch.reachable, false);
  store.mode = 'answer';
  store.answerHung();
  await settle();
  assert.equal(watch.reachable, true);
  watch.stop();
});
