/** Mermaid and dot diagrams: edges, shapes, order, escaping, intents, conditions, the give-up state. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  FALLBACK_LABEL,
  NO_CHOICE_LABEL,
  flowGraph,
  mermaidId,
  toDot,
  toMermaid,
} from '../../../src/flow/graph.ts';
import { validateFlow, type FlowFile } from '../../../src/flow/index.ts';
import { demo, parseDot, parseMermaid } from './graph-helpers.ts';

test('mermaid draws the demo flow: one edge per transition, the start marker, hangups and collects', async () => {
  const text = toMermaid(await demo());
  const { edges, shapes, titles } = parseMermaid(text);
  assert.deepEqual(
    edges.filter((e) => !e.includes(FALLBACK_LABEL)),
    [
      'start ---> menu',
      'menu --1-> hours',
      'menu --2-> callback',
      'hours ---> goodbye',
      'callback --done-> confirm',
      'confirm --1-> thanks',
      'confirm --2-> callback',
    ],
  );
  // Every state that waits for input falls back to goodbye; prompt-only and hangup states do not.
  assert.deepEqual(
    edges.filter((e) => e.includes(FALLBACK_LABEL)),
    ['menu', 'callback', 'confirm'].map((s) => `${s} -.${FALLBACK_LABEL}-> goodbye`),
  );
  assert.match(text, /^ {2}entry\(\("start"\)\)$/m);
  assert.match(text, /^ {2}entry --> s_menu$/m);
  assert.match(text, /^ {2}s_menu -->\|"1"\| s_hours$/m);
  assert.equal(shapes.get(mermaidId('thanks')), '([');
  assert.equal(shapes.get(mermaidId('goodbye')), '([');
  assert.equal(shapes.get(mermaidId('menu')), '[');
  assert.match(text, /s_callback\["callback<br\/>\(collect callback: 3-15 digits, #35;\)"\]/);
  assert.deepEqual(
    [...titles.values()],
    ['start', 'menu', 'hours', 'callback', 'confirm', 'thanks', 'goodbye'],
  );
});

test('dot parses structurally and has the same edges as mermaid', async () => {
  const flow = await demo();
  const dot = parseDot(toDot(flow));
  assert.equal(dot.id, 'demo');
  assert.deepEqual(dot.edges, parseMermaid(toMermaid(flow)).edges);
  assert.match(toDot(flow), /^ {2}"menu" -> "hours" \[label="1"\];$/m);
  assert.match(toDot(flow), /^ {2}"menu" -> "goodbye" \[label="no input \/ no match", style=dashed\];$/m);
  assert.match(toDot(flow), /^ {2}"thanks" \[label="thanks\\n\(hangup\)", peripheries=2\];$/m);
  assert.equal(flowGraph(flow, 'dot'), toDot(flow));
  assert.equal(flowGraph(flow, 'mermaid'), toMermaid(flow));
});

test('output is deterministic and follows the state order of the file', async () => {
  const flow = await demo();
  const copy = JSON.parse(JSON.stringify(flow)) as FlowFile;
  for (const format of ['mermaid', 'dot'] as const) {
    assert.equal(flowGraph(flow, format), flowGraph(copy, format));
    assert.ok(flowGraph(flow, format).endsWith('\n'));
  }
  const reversed: FlowFile = { ...flow, states: Object.fromEntries(Object.entries(flow.states).reverse()) };
  const titles = [...parseMermaid(toMermaid(reversed)).titles.values()];
  assert.deepEqual(titles, ['start', 'goodbye', 'thanks', 'confirm', 'callback', 'hours', 'menu']);
});

test('hyphenated names get distinct mermaid ids; hostile text is escaped in both formats', () => {
  const flow: FlowFile = {
    id: 'odd-names',
    version: 1,
    start: 'main-menu',
    states: {
      'main-menu': {
        say: 'Say "hi" <now> & [then] {press} (1) | `x` # \\ done',
        on: { 'dtmf:1': 'main_menu', 'dtmf:#': 'end', 'dtmf:*': 'o-x' },
      },
      main_menu: { say: 'Press "*" then #', collect: { slot: 'pin', digits: { max: 4 } }, next: 'end' },
      'o-x': { say: '"', next: 'end' },
      end: { say: '</script>', hangup: true },
    },
  };
  assert.ok(validateFlow(flow).ok);
  const ids = Object.keys(flow.states).map(mermaidId);
  assert.equal(new Set(ids).size, ids.length);
  for (const id of ids) assert.match(id, /^s_[A-Za-z0-9_]+$/);
  assert.notEqual(mermaidId('a-b'), mermaidId('a_b'));
  assert.notEqual(mermaidId('a_2d_b'), mermaidId('a-b'));

  const mermaid = toMermaid(flow);
  assert.ok(!mermaid.includes('say'), 'prompts are not drawn');
  const { edges } = parseMermaid(mermaid);
  assert.ok(edges.includes('main-menu --#35;-> end'));
  assert.ok(edges.includes('main_menu --done-> end'));
  assert.ok(edges.includes('main-menu --*-> o-x'));
  assert.match(mermaid, /\(collect pin: 1-4 digits\)/);
  // No fallback in the policy: waiting states end at a node of their own, which hangs up.
  assert.ok(edges.includes(`main-menu -.${FALLBACK_LABEL}-> could not continue`));

  const dot = parseDot(toDot(flow));
  assert.equal(dot.id, 'odd-names');
  assert.equal(dot.edges.length, edges.length);
  assert.ok(dot.edges.includes('main-menu --#-> end'));

  // Names validation refuses still cannot break either syntax.
  const hostile: FlowFile = {
    id: 'say "x"',
    version: 1,
    start: 'a "b" <c> & [d]',
    states: {
      'a "b" <c> & [d]': { on: { 'dtmf:"': 'back\\slash' } },
      'back\\slash': { hangup: true },
    },
    policy: { fallback: 'back\\slash' },
  };
  const m = toMermaid(hostile);
  assert.match(m, /\["a #34;b#34; #60;c#62; #38; #91;d#93;"\]/);
  assert.equal(parseMermaid(m).edges.length, 3);
  const d = toDot(hostile);
  assert.match(d, /^digraph "say \\"x\\"" \{$/m);
  assert.match(d, /^ {2}"a \\"b\\" <c> & \[d\]" -> "back\\\\slash" \[label="\\""\];$/m);
  assert.equal(parseDot(d).edges.length, 3);
});

/** A flow using intents, conditions, global intents, speech collects and the give-up state. */
const pizza: FlowFile = {
  id: 'pizza',
  version: 1,
  start: 'menu',
  intents: {
    order: { examples: ['a pizza please'] },
    operator: { examples: ['agent'], global: 'human' },
    cancel: { examples: ['cancel'], global: 'bye' },
  },
  entities: { size: { values: { large: ['big'], small: [] } } },
  states: {
    menu: { say: 'Say order.', on: { order: 'size', 'dtmf:1': 'size' } },
    size: {
      say: 'Which size?',
      collect: { slot: 'size', entity: 'size', confirm: '{{size}}, right?' },
      next: 'count',
    },
    count: {
      say: 'How many?',
      collect: { slot: 'count', entity: 'number', digits: { max: 2, terminator: '#' } },
      next: [
        { if: 'size == "large" && count >= 2 && count <= 10 && size != "small"', goto: 'party' },
        { goto: 'done' },
      ],
    },
    party: { say: 'A party!', next: [{ if: 'count > 5', goto: 'done' }] },
    done: {
      say: 'Anything else?',
      on: { yes: [{ if: 'size in ["large"]', goto: 'size' }, { goto: 'menu' }], no: 'bye' },
    },
    human: { say: 'Transferring.', hangup: true },
    bye: { say: 'Bye.', hangup: true },
    sorry: { say: 'Sorry, something broke.', hangup: true },
  },
  policy: { supervisor: { onGiveUp: 'sorry' } },
};

test('intents, conditions, global intents, speech collects and the give-up state are drawn', () => {
  const result = validateFlow(pizza);
  assert.ok(result.ok, JSON.stringify(result.findings));
  const mermaid = toMermaid(pizza);
  const { edges, shapes } = parseMermaid(mermaid);
  const long = 'size == #34;large#34; #38;#38; count #62;= 2 #38;#38; count…';
  assert.deepEqual(edges, [
    'start ---> menu',
    'menu --order-> size',
    'menu --1-> size',
    'size --done-> count',
    `count --done: ${long}-> party`,
    'count --done: else-> done',
    'party --count #62; 5-> done',
    'done --yes: size in #91;#34;large#34;#93;-> size',
    'done --yes: else-> menu',
    'done --no-> bye',
    'any waiting state -.operator-> human',
    'any waiting state -.cancel-> bye',
    'give up -.-> sorry',
    ...['menu', 'size', 'count', 'done'].map((s) => `${s} -.${FALLBACK_LABEL}-> could not continue`),
    `party -.${NO_CHOICE_LABEL}-> could not continue`,
  ]);
  // The condition is cut to 40 characters before it is escaped.
  const cut = 'size == "large" && count >= 2 && count <= 10 && size != "small"'.slice(0, 39).trimEnd();
  assert.ok(toDot(pizza).includes(`label="done: ${cut.replaceAll('"', '\\"')}…"`));
  assert.equal(shapes.get('any_waiting'), '{{');
  assert.equal(shapes.get('giveup'), '{{');
  assert.equal(shapes.get('end_call'), '([');
  assert.match(mermaid, /s_size\["size<br\/>\(collect size: size\)<br\/>\(confirm\)"\]/);
  assert.match(mermaid, /s_count\["count<br\/>\(collect count: number or 1-2 digits, #35;\)"\]/);

  const dot = toDot(pizza);
  const unescapeMermaid = (e: string): string =>
    e.replace(/#(\d+);/g, (_, c: string) => String.fromCharCode(Number(c)));
  assert.deepEqual(
    parseDot(dot).edges.map((e) => e.replaceAll('\\"', '"')),
    edges.map(unescapeMermaid),
  );
  assert.match(dot, /^ {2}"\$any" \[label="any waiting state", shape=hexagon, style=dashed\];$/m);
  assert.match(dot, /^ {2}"\$any" -> "human" \[label="operator", style=dashed\];$/m);
  assert.match(dot, /^ {2}"count" -> "done" \[label="done: else"\];$/m);
});

test('one unconditional choice is drawn as a plain edge; no global intent, no "any waiting state"', () => {
  const flow: FlowFile = {
    id: 'plain',
    version: 1,
    start: 'a',
    intents: { help: { examples: ['help'] } },
    states: {
      a: { say: 'A.', next: [{ goto: 'b' }] },
      b: { say: 'Help?', on: { help: [{ goto: 'c' }] } },
      c: { say: 'Bye.', hangup: true },
    },
    policy: { fallback: 'c' },
  };
  assert.ok(validateFlow(flow).ok);
  const { edges, titles } = parseMermaid(toMermaid(flow));
  assert.deepEqual(edges, ['start ---> a', 'a ---> b', 'b --help-> c', `b -.${FALLBACK_LABEL}-> c`]);
  assert.deepEqual([...titles.values()], ['start', 'a', 'b', 'c']);
});
