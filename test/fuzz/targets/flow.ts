/**
 * Fuzz target: flow files. An input is a flow file's text. Parsing, validation and the static checks
 * (checkFlowText) report problems as findings and never throw; a flow that validates cleanly compiles, draws
 * (mermaid and dot) and runs: its machine takes a call's worth of keys, words, marks, timers and web answers
 * without failing.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { createActor } from 'xstate';
import { STATE_KEYS } from '../../../src/flow/actions/index.ts';
import { flowGraph } from '../../../src/flow/graph.ts';
import {
  checkFlowText,
  compileFlow,
  formatFindings,
  parseFlowText,
  type CallEvent,
  type FlowFile,
} from '../../../src/flow/index.ts';
import { EXAMPLE_FLOWS, exampleFlowFile } from '../../fixtures/example-flows.ts';
import { check, type FuzzTarget } from '../target.ts';

const EXAMPLES = EXAMPLE_FLOWS.map((id) => JSON.parse(readFileSync(exampleFlowFile(id), 'utf8')) as FlowFile);
const NAMES = ['menu', 'size', 'confirm', 'goodbye', 'greet', 'place', 'human', '$return', 'x'];

const stateValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...NAMES),
  fc.constantFrom(
    'Say {{size}}.',
    '{{count|digits}}',
    '{{env.ORDERS_URL}}',
    '{{',
    'count >= 1 && count <= 10',
  ),
  fc.constantFrom(true, false, 0, 1, 700, -5),
  fc.record({
    slot: fc.constantFrom('size', 'count', 'n'),
    entity: fc.constantFrom('number', 'size', 'date'),
  }),
  fc.record({
    slot: fc.constant('n'),
    digits: fc.record({ max: fc.nat({ max: 20 }), terminator: fc.constant('#') }),
  }),
  fc.dictionary(
    fc.constantFrom('dtmf:1', 'dtmf:#', 'yes', 'no', 'order', 'timeout', 'noMatch'),
    fc.constantFrom(...NAMES),
  ),
  fc.array(
    fc.record({ if: fc.constantFrom('count > 2', 'size == "large"'), goto: fc.constantFrom(...NAMES) }),
  ),
  fc.record({
    method: fc.constantFrom('GET', 'POST'),
    url: fc.constantFrom('https://example.com/x', '{{env.URL}}/y'),
  }),
  fc.jsonValue({ maxDepth: 2 }),
);

/** An example flow with a few keys of its states set, removed or renamed. */
const editedExample: fc.Arbitrary<Buffer> = fc
  .record({
    base: fc.nat({ max: EXAMPLES.length - 1 }),
    edits: fc.array(
      fc.record({
        state: fc.nat(),
        key: fc.constantFrom(...STATE_KEYS, 'policy', 'start'),
        value: stateValue,
        remove: fc.boolean(),
      }),
      { maxLength: 4 },
    ),
  })
  .map(({ base, edits }) => {
    const flow = structuredClone(EXAMPLES[base]!) as unknown as Record<string, unknown>;
    const states = flow.states as Record<string, Record<string, unknown>>;
    const names = Object.keys(states);
    for (const e of edits) {
      const target = e.key === 'policy' || e.key === 'start' ? flow : states[names[e.state % names.length]!]!;
      if (e.remove) delete target[e.key];
      else target[e.key] = e.value;
    }
    return Buffer.from(JSON.stringify(flow, null, 1));
  });

/** A small flow written from nothing: states with prompts, keys, collects and hang-ups. */
const smallFlow: fc.Arbitrary<Buffer> = fc
  .array(fc.dictionary(fc.constantFrom(...STATE_KEYS), stateValue, { maxKeys: 4 }), {
    minLength: 1,
    maxLength: 5,
  })
  .map((defs) => {
    const states = Object.fromEntries(defs.map((d, i) => [NAMES[i]!, d]));
    return Buffer.from(JSON.stringify({ id: 'f', version: 1, start: NAMES[0], states }));
  });

/** A call's worth of events: each kind at least once, answering the machine's marks, timers and requests. */
function exercise(flow: FlowFile): void {
  const { machine } = compileFlow(flow);
  const actor = createActor(machine);
  actor.subscribe({ error: () => {} });
  actor.on('*', () => {});
  actor.start();
  let at = 1000;
  const send = (event: Record<string, unknown> & { type: CallEvent['type'] }): void => {
    at += 50;
    actor.send({ ...event, at } as CallEvent);
    const snapshot = actor.getSnapshot();
    check(snapshot.status !== 'error', `the machine failed on ${event.type}: ${String(snapshot.error)}`);
  };
  send({ type: 'call.start', callId: 'CA1', env: { ORDERS_URL: 'http://x' } });
  const intents = Object.keys(flow.intents ?? {});
  const words = [null, 'yes', 'no', ...intents];
  for (let i = 0; i < 24 && actor.getSnapshot().status === 'active'; i++) {
    const ctx = actor.getSnapshot().context;
    if (ctx.playing !== null && i % 3 !== 2) send({ type: 'played', mark: ctx.playing });
    else if (ctx.pending !== null) {
      if (i % 2 === 0) send({ type: 'http.done', id: ctx.pending, status: 200, slots: { orderId: '7' } });
      else send({ type: i % 4 === 1 ? 'http.failed' : 'transfer.failed', id: ctx.pending, reason: 'x' });
    } else if (ctx.timer !== null && i % 5 === 0) send({ type: 'timer', id: ctx.timer });
    else if (i % 4 === 1) send({ type: 'dtmf', digit: '12#0*'[i % 5]! });
    else if (i % 7 === 3) send({ type: i % 2 === 0 ? 'resume' : 'speech.start' });
    else {
      const intent = words[i % words.length] ?? null;
      send({
        type: 'utterance',
        text: 'two large',
        intent,
        confidence: 0.9,
        entities: { number: '2', size: 'large' },
      });
    }
  }
  actor.stop();
}

function run(input: Buffer): void {
  const text = input.toString('utf8');
  const result = checkFlowText(text);
  for (const f of result.findings) {
    check(
      (f.severity === 'error' || f.severity === 'warning') &&
        typeof f.pointer === 'string' &&
        typeof f.message === 'string',
      'a finding is malformed',
    );
  }
  formatFindings('flow.json', result.findings);
  check(parseFlowText(text).ok || !result.ok, 'a flow that does not parse validated');
  if (!result.ok) return;
  flowGraph(result.flow, 'mermaid');
  flowGraph(result.flow, 'dot');
  exercise(result.flow);
}

export const flow: FuzzTarget = {
  name: 'flow',
  format: 'json',
  arbitrary: fc.oneof(editedExample, smallFlow),
  dictionary: [
    ...[...STATE_KEYS].map((k) => `"${k}"`),
    ...['"states"', '"start"', '"intents"', '"entities"', '"subflows"', '"policy"', '"examples"', '"values"'],
    ...['"slot"', '"entity"', '"digits"', '"terminator"', '"validate"', '"if"', '"goto"', '"global"'],
    ...['"dtmf:1"', '"noInput"', '"noMatch"', '"fallback"', '"noInputMs"', '"maxRetries"', '"supervisor"'],
    ...['{{', '}}', '|digits', 'env.', '&&', '||', '>=', '"$return"', '"url"', '"method"', '"map"'],
  ],
  maxBytes: 16_384,
  run,
};
