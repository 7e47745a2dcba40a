/**
 * Properties of every example flow, and the outbound reminder, under random event sequences (fast-check): the
 * machine never fails, and a live call is never stuck: it is always playing a prompt, waiting with a no-input
 * timer armed, waiting for a web request or transfer it made, or ending.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { createActor } from 'xstate';
import {
  ANSWERED_BY,
  checkFlowText,
  compileFlow,
  type AnsweredBy,
  type CallEvent,
  type FlowFile,
} from '../../../src/flow/index.ts';
import { EXAMPLE_FLOWS, exampleFlowFile } from '../../fixtures/example-flows.ts';

const flows: FlowFile[] = [...EXAMPLE_FLOWS, 'reminder'].map((id) => {
  const result = checkFlowText(readFileSync(exampleFlowFile(id), 'utf8'));
  assert.ok(result.ok, id);
  return result.flow;
});

/** What the caller or the clock does next; `heard` and `timeout` act on the current prompt and timer. */
type Step =
  | { kind: 'heard' }
  | { kind: 'timeout' }
  | { kind: 'dtmf'; digit: string }
  | { kind: 'say'; intent: string | null; entities: Record<string, string> }
  | { kind: 'resume' }
  | { kind: 'giveUp' }
  | { kind: 'stale' }
  | { kind: 'amd'; answeredBy: AnsweredBy }
  | { kind: 'answer'; outcome: 'done' | 'http.failed' | 'transfer.failed' };

function steps(flow: FlowFile): fc.Arbitrary<Step[]> {
  const intents = [...Object.keys(flow.intents ?? {}), 'yes', 'no', 'repeat', 'cancel'];
  const entityValues: [string, string[]][] = [
    ...Object.entries(flow.entities ?? {}).map(([name, e]): [string, string[]] => [
      name,
      Object.keys(e.values),
    ]),
    ['number', ['0', '3', '12', '-1', '2.5']],
    ['date', ['2026-12-01', '2027-01-05']],
    ['time', ['09:30', '14:30', '19:00']],
    ['digits', ['5551234', '007']],
    ['yes', ['true']],
    ['no', ['true']],
  ];
  const say = fc.record({
    kind: fc.constant('say' as const),
    intent: fc.option(fc.constantFrom(...intents), { nil: null }),
    entities: fc
      .subarray(entityValues)
      .chain((picked) =>
        fc.tuple(...picked.map(([name, values]) => fc.tuple(fc.constant(name), fc.constantFrom(...values)))),
      )
      .map((pairs) => Object.fromEntries(pairs)),
  });
  const step: fc.Arbitrary<Step> = fc.oneof(
    { weight: 4, arbitrary: fc.constant({ kind: 'heard' as const }) },
    { weight: 2, arbitrary: fc.constant({ kind: 'timeout' as const }) },
    {
      weight: 4,
      arbitrary: fc.record({ kind: fc.constant('dtmf' as const), digit: fc.constantFrom(...'0123456789*#') }),
    },
    { weight: 3, arbitrary: say },
    { weight: 1, arbitrary: fc.constant({ kind: 'resume' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'giveUp' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'stale' as const }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('amd' as const),
        answeredBy: fc.constantFrom(...ANSWERED_BY),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('answer' as const),
        outcome: fc.constantFrom('done' as const, 'http.failed' as const, 'transfer.failed' as const),
      }),
    },
  );
  return fc.array(step, { maxLength: 40 });
}

for (const flow of flows) {
  test(`${flow.id}: random calls never fail and are never stuck`, () => {
    const { machine } = compileFlow(flow);
    fc.assert(
      fc.property(steps(flow), (script) => {
        const actor = createActor(machine);
        let hungUp = false;
        actor.on('hangup', () => (hungUp = true));
        actor.subscribe({ error: () => {} });
        actor.start();
        let at = 0;
        const send = (event: Record<string, unknown> & { type: CallEvent['type'] }): void => {
          at += 10;
          actor.send({ ...event, at } as CallEvent);
        };
        send({ type: 'call.start', callId: 'CAprop' });
        for (const step of script) {
          const ctx = actor.getSnapshot().context;
          switch (step.kind) {
            case 'heard':
              if (ctx.playing !== null) send({ type: 'played', mark: ctx.playing });
              break;
            case 'timeout':
              if (ctx.timer !== null) send({ type: 'timer', id: ctx.timer });
              break;
            case 'dtmf':
              send({ type: 'dtmf', digit: step.digit });
              break;
            case 'say':
              send({
                type: 'utterance',
                text: 'x',
                intent: step.intent,
                confidence: 1,
                entities: step.entities,
              });
              break;
            case 'resume':
              send({ type: 'resume' });
              break;
            case 'giveUp':
              send({ type: 'giveUp' });
              break;
            case 'answer':
              if (ctx.pending === null) break;
              if (step.outcome === 'done')
                send({ type: 'http.done', id: ctx.pending, status: 200, slots: {} });
              else send({ type: step.outcome, id: ctx.pending, reason: 'test' });
              break;
            case 'amd':
              send({ type: 'answered', answeredBy: step.answeredBy });
              break;
            case 'stale':
              send({ type: 'played', mark: 'not-a-mark' });
              send({ type: 'timer', id: 'not-a-timer' });
              break;
          }
          const snapshot = actor.getSnapshot();
          assert.notEqual(snapshot.status, 'error', String(snapshot.error));
          if (snapshot.status !== 'active' || hungUp) return;
          const now = snapshot.context;
          assert.ok(
            now.playing !== null || now.timer !== null || now.pending !== null,
            `stuck in "${now.state}": nothing playing, no timer armed, no request under way, not ending`,
          );
        }
        actor.stop();
      }),
      { numRuns: 300 },
    );
  });
}
