/**
 * Deterministic fault injection: a call's process "dies" at each named point of its event handling (the fault
 * hook throws, and nothing more is written), and a second process takes the call up from the journal. Each test
 * checks what survives: at most the event in flight is lost, a journaled event is never lost, effects carried out
 * but not recorded are computed again, an effect whose result was not journaled is issued again under the same
 * idempotency key, timers come back with their time left.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CallJournal, readJournal, type FaultPoint } from '../../../src/call/call-journal.ts';
import { recover } from '../../../src/call/recovery.ts';
import { replayCall } from '../../../src/call/replay.ts';
import { CallSupervisor } from '../../../src/call/supervisor.ts';
import {
  compileFlow,
  validateFlow,
  type CallEvent,
  type CompiledFlow,
  type Effect,
} from '../../../src/flow/index.ts';
import { route, routingTable } from '../../../src/flow/route.ts';
import { MemoryStore } from '../../../src/journal/memory.ts';
import type { JournalStore } from '../../../src/journal/store.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';

const CALL = 'CA1';
const pizzaJson = JSON.parse(
  readFileSync(new URL('../../../flows/pizza.json', import.meta.url), 'utf8'),
) as unknown;

function pizza(): CompiledFlow {
  const result = validateFlow(pizzaJson);
  assert.ok(result.ok);
  return compileFlow(result.flow);
}

class ProcessDied extends Error {}

/** One server process holding the call: its own lease, journal writer and supervisor. */
class Instance {
  readonly effects: Effect[] = [];
  readonly failures: unknown[] = [];
  readonly log = memoryLogger();
  sup!: CallSupervisor;
  #journal!: CallJournal;

  constructor(
    readonly store: JournalStore,
    readonly compiled: CompiledFlow,
    readonly name: string,
    /** Dies the first time this point is reached for an event of this type (settable later). */
    public dieAt: { point: FaultPoint; event?: string } | null = null,
    readonly snapshotEvery = 8,
  ) {}

  #supervisor(journal: CallJournal): CallSupervisor {
    let died = false;
    return new CallSupervisor({
      compiled: this.compiled,
      callId: CALL,
      journal,
      logger: this.log.logger,
      snapshotEvery: this.snapshotEvery,
      onEffect: (e) => this.effects.push(e),
      onGiveUp: (err) => this.failures.push(err),
      onJournalFailed: (err) => this.failures.push(err),
      faults: (point, detail) => {
        if (died || !this.dieAt || this.dieAt.point !== point) return;
        if (this.dieAt.event !== undefined && this.dieAt.event !== detail.event) return;
        died = true;
        throw new ProcessDied(`died at ${point}`);
      },
    });
  }

  async begin(at = 1000): Promise<void> {
    const lease = await this.store.acquire(CALL, this.name);
    this.#journal = new CallJournal(this.store, lease, 0);
    this.sup = this.#supervisor(this.#journal);
    const flow = this.compiled.flow;
    this.sup.start(
      at,
      { ORDERS_URL: 'http://orders.test' },
      {
        flow: flow.id,
        flowVersion: flow.version,
        modelVersion: null,
        params: {},
      },
    );
    await this.sup.settled();
  }

  /** Take the call up from the journal, as the instance a stream lands on after a crash does. */
  async resume(at: number) {
    const lease = await this.store.acquire(CALL, this.name);
    const records = await readJournal(this.store, CALL);
    this.#journal = new CallJournal(this.store, lease, records.at(-1)!.seq);
    this.sup = this.#supervisor(this.#journal);
    const recovered = recover(this.compiled.machine, records);
    this.sup.resume(recovered, at);
    await this.sup.settled();
    return recovered;
  }

  async send(event: CallEvent): Promise<void> {
    this.sup.send(event);
    await this.sup.settled();
  }

  /** The caller hears every prompt said so far. */
  async hearAll(at: number): Promise<void> {
    for (const e of this.effects.splice(0))
      if (e.type === 'say') await this.send({ type: 'played', at, mark: e.mark });
  }

  get died(): boolean {
    return this.failures.some((f) => f instanceof ProcessDied);
  }
}

const dtmf = (digit: string, at: number): CallEvent => ({ type: 'dtmf', at, digit });
const says = (effects: Effect[]): string[] => effects.flatMap((e) => (e.type === 'say' ? [e.text] : []));

/** A call to the pizza flow, keyed through to the size question, on a first instance. */
async function atSizeQuestion(store: JournalStore, dieAt: Instance['dieAt'] = null): Promise<Instance> {
  const a = new Instance(store, pizza(), 'A');
  await a.begin();
  await a.hearAll(1100);
  await a.send(dtmf('1', 1200));
  await a.hearAll(1300);
  assert.equal(a.sup.context?.state, 'size');
  a.dieAt = dieAt;
  return a;
}

test('died with an event received but not journaled: the turn in flight is lost, nothing else', async () => {
  const store = new MemoryStore();
  const a = await atSizeQuestion(store, { point: 'in.received', event: 'dtmf' });
  await a.send(dtmf('3', 1400));
  assert.ok(a.died);
  const records = await readJournal(store, CALL);
  assert.ok(!records.some((r) => r.kind === 'in' && r.event.type === 'dtmf' && r.event.digit === '3'));
  const b = new Instance(store, pizza(), 'B');
  const recovered = await b.resume(2000);
  assert.equal(recovered.snapshot.context.state, 'size', 'the call is where it was before the lost key');
  assert.deepEqual(says(b.effects), ['Sorry, we were cut off. What size would you like?']);
  await b.hearAll(2100);
  await b.send(dtmf('3', 2200));
  assert.equal(b.sup.context?.state, 'count');
  assert.equal(b.sup.context?.slots.size, 'large');
});

test('died with an event journaled but not delivered: the new instance applies it', async () => {
  const store = new MemoryStore();
  const a = await atSizeQuestion(store, { point: 'in.journaled', event: 'dtmf' });
  await a.send(dtmf('3', 1400));
  assert.ok(a.died);
  assert.equal(a.sup.context?.state, 'size', 'the first instance never saw the key');
  const b = new Instance(store, pizza(), 'B');
  const recovered = await b.resume(2000);
  assert.equal(recovered.snapshot.context.state, 'count', 'the journaled key was not lost');
  assert.equal(recovered.snapshot.context.slots.size, 'large');
  assert.deepEqual(says(b.effects), ['How many large pizzas? Say a number, or type it and press pound.']);
});

test('died with effects carried out but not journaled: the new instance computes them again', async () => {
  const store = new MemoryStore();
  const a = await atSizeQuestion(store, { point: 'eff.sent', event: 'dtmf' });
  await a.send(dtmf('3', 1400));
  assert.ok(a.died);
  const count = 'How many large pizzas? Say a number, or type it and press pound.';
  assert.ok(says(a.effects).includes(count), 'the count question had been queued');
  const records = await readJournal(store, CALL);
  const key = records.find((r) => r.kind === 'in' && r.event.type === 'dtmf' && r.event.digit === '3');
  assert.ok(key, 'the key was journaled');
  assert.ok(!records.some((r) => r.seq > key.seq), 'nothing after it: its effects were never recorded');
  const b = new Instance(store, pizza(), 'B');
  const recovered = await b.resume(2000);
  assert.equal(recovered.snapshot.context.state, 'count');
  assert.deepEqual(says(b.effects), [count], 'the question is asked again on the new stream');
  // The journal reads as one call: the replayed event's effects are simply not compared.
  const report = await replayCall(pizza(), await readJournal(store, CALL));
  assert.equal(report.divergence, null);
});

test('died after a web request was sent but before its answer was journaled: re-issued under the same key', async () => {
  const store = new MemoryStore();
  const a = await atSizeQuestion(store, { point: 'in.received', event: 'http.done' });
  await a.send(dtmf('3', 1400));
  await a.hearAll(1500);
  for (const d of '4#') await a.send(dtmf(d, 1600));
  await a.hearAll(1700);
  await a.send(dtmf('1', 1800));
  const http = a.effects.find((e) => e.type === 'http');
  assert.ok(http && http.type === 'http', 'the order was requested');
  // The service applies it; the answer reaches the process, which dies before journaling it.
  const applied = new Set<string>([http.idempotencyKey]);
  await a.send({
    type: 'http.done',
    at: 1900,
    id: http.id,
    status: 200,
    slots: { orderId: '7', minutes: '15' },
  });
  assert.ok(a.died);

  const b = new Instance(store, pizza(), 'B');
  const recovered = await b.resume(2500);
  assert.equal(recovered.snapshot.context.state, 'place');
  const again = b.effects.find((e) => e.type === 'http');
  assert.ok(again && again.type === 'http', 'the request is issued again');
  assert.equal(again.idempotencyKey, http.idempotencyKey, 'under the same idempotency key');
  assert.ok(applied.has(again.idempotencyKey), 'so the service drops it as a repeat');
  await b.send({
    type: 'http.done',
    at: 2600,
    id: again.id,
    status: 200,
    slots: { orderId: '7', minutes: '15' },
  });
  assert.equal(b.sup.context?.state, 'discount');
  // Nothing else in the journal asked for another order.
  const records = await readJournal(store, CALL);
  const keys = new Set(
    records.flatMap((r) =>
      r.kind === 'eff' && r.effect.type === 'http' ? [String(r.effect.idempotencyKey)] : [],
    ),
  );
  assert.deepEqual([...keys], [http.idempotencyKey]);
});

test('died while writing a snapshot: the new instance rebuilds from the one before and the events after it', async () => {
  const store = new MemoryStore();
  const a = new Instance(store, pizza(), 'A', { point: 'snap.writing' }, 3);
  await a.begin();
  await a.hearAll(1100);
  await a.send(dtmf('1', 1200));
  await a.hearAll(1300);
  assert.ok(a.died, 'died writing the first snapshot, after its third event');
  assert.ok(!(await readJournal(store, CALL)).some((r) => r.kind === 'snap'));
  const b = new Instance(store, pizza(), 'B', null, 3);
  const recovered = await b.resume(2000);
  assert.equal(recovered.snapshot.context.state, 'size', 'the key before the snapshot was kept');
  // Later snapshots are written, and a restart replays only the events after the last one.
  await b.hearAll(2100);
  await b.send(dtmf('3', 2150));
  await b.hearAll(2160);
  for (const d of '4#') await b.send(dtmf(d, 2200));
  await b.hearAll(2300);
  const records = await readJournal(store, CALL);
  assert.ok(records.some((r) => r.kind === 'snap'));
  const again = recover(pizza().machine, records);
  assert.equal(again.snapshot.context.state, 'confirm');
  assert.ok(again.replayed < 3, `replayed ${again.replayed} events after the last snapshot`);
});

test('a timer armed before the crash is re-armed with the time it had left', async () => {
  const store = new MemoryStore();
  const a = await atSizeQuestion(store, { point: 'in.received', event: 'dtmf' });
  const records = await readJournal(store, CALL);
  const armed = records.filter((r) => r.kind === 'timer').at(-1);
  assert.ok(armed && armed.kind === 'timer', 'the no-input wait is journaled with its deadline');
  assert.equal(armed.deadline, 1300 + 6000);
  await a.send(dtmf('3', 1400));
  const b = new Instance(store, pizza(), 'B');
  await b.resume(4300);
  const rearmed = b.effects[0];
  assert.deepEqual(rearmed, { type: 'timer.start', id: armed.id, ms: 3000 });
  // The resume then asks again, which cancels that wait and arms a new one once heard.
  assert.ok(b.effects.some((e) => e.type === 'timer.cancel' && e.id === armed.id));
});

test('an actor crash restarts from the journal; the failing event is recorded and skipped on replay', async () => {
  const store = new MemoryStore();
  const base = pizza();
  const table = routingTable(base.flow, base.policy);
  const faulty: CompiledFlow = {
    ...base,
    machine: base.machine.provide({
      guards: {
        stays: ({ context, event }, params: { state: string }) => {
          if (event.type === 'dtmf' && event.digit === '9') throw new Error('guard exploded');
          return route(table, params.state, context, event).kind === 'stay';
        },
      },
    }),
  };
  const a = new Instance(store, faulty, 'A');
  await a.begin();
  await a.hearAll(1100);
  await a.send(dtmf('1', 1200));
  await a.hearAll(1300);
  await a.send(dtmf('9', 1400));
  assert.equal(a.sup.restarts, 1);
  assert.equal(a.sup.context?.state, 'size');
  assert.ok(a.log.records.some((r) => r.msg === 'call actor restarted from its journal'));
  await a.hearAll(1500);
  await a.send(dtmf('2', 1600));
  assert.equal(a.sup.context?.slots.size, 'medium');
  const records = await readJournal(store, CALL);
  const crash = records.find((r) => r.kind === 'crash');
  assert.ok(crash && crash.kind === 'crash');
  const crashed = records.find((r) => r.seq === crash.in);
  assert.ok(crashed?.kind === 'in' && crashed.event.type === 'dtmf' && crashed.event.digit === '9');
  const report = await replayCall(faulty, records);
  assert.equal(report.divergence, null, 'the journal replays to the same states and effects');
});

test('fencing: an instance that lost the call cannot append, and stops', async () => {
  const store = new MemoryStore();
  const a = await atSizeQuestion(store);
  const b = new Instance(store, pizza(), 'B');
  await b.resume(2000);
  const before = (await readJournal(store, CALL)).length;
  await a.send(dtmf('3', 2100));
  assert.equal(a.failures.length, 1);
  assert.equal((a.failures[0] as { code?: string }).code, 'JOURNAL_FENCED');
  assert.ok(a.log.records.some((r) => r.msg === 'call taken over by another instance; stopping here'));
  assert.equal((await readJournal(store, CALL)).length, before, 'nothing of the stale instance was stored');
  await b.hearAll(2200);
  await b.send(dtmf('3', 2300));
  assert.equal(b.sup.context?.state, 'count', 'the instance holding the call goes on');
});
