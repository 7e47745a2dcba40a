import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mock, test, type TestContext } from 'node:test';
import { main } from '../../../src/cli/graph.ts';
import {
  DONE_LABEL,
  ERROR_LABEL,
  FALLBACK_LABEL,
  NO_CHOICE_LABEL,
  describeHttp,
  flowGraph,
  mermaidId,
  toDot,
  toMermaid,
} from '../../../src/flow/graph.ts';
import { validateFlow, type FlowFile } from '../../../src/flow/index.ts';

const DEMO_PATH = new URL('../../../flows/demo.json', import.meta.url).pathname;

async function demo(): Promise<FlowFile> {
  const result = validateFlow(JSON.parse(await readFile(DEMO_PATH, 'utf8')));
  assert.ok(result.ok);
  return result.flow;
}

/** An edge read back from a diagram, keyed by the nodes' first label lines so both formats compare. */
type Edge = string;
const edgeKey = (from: string, to: string, label: string | null, dashed: boolean): Edge =>
  `${from} -${dashed ? '.' : '-'}${label ?? ''}-> ${to}`;

const MERMAID_NODE = /^ {2}([A-Za-z0-9_]+)(\(\(|\(\[|\[|\{\{)"([^"]*)"(\)\)|\]\)|\]|\}\})$/;
const MERMAID_EDGE = /^ {2}([A-Za-z0-9_]+) (-->|-\.->)(?:\|"([^"]*)"\|)? ([A-Za-z0-9_]+)$/;

function parseMermaid(text: string): {
  titles: Map<string, string>;
  edges: Edge[];
  shapes: Map<string, string>;
} {
  const lines = text.split('\n');
  assert.equal(lines[0], 'flowchart TD');
  assert.equal(lines.at(-1), '', 'ends with a newline');
  const titles = new Map<string, string>();
  const shapes = new Map<string, string>();
  const edges: Edge[] = [];
  for (const line of lines.slice(1, -1)) {
    const node = MERMAID_NODE.exec(line);
    const edge = MERMAID_EDGE.exec(line);
    if (node) {
      assert.ok(!titles.has(node[1]!), `node ${node[1]} declared once`);
      titles.set(node[1]!, node[3]!.split('<br/>')[0]!);
      shapes.set(node[1]!, node[2]!);
    } else if (edge) {
      const [, from, arrow, label, to] = edge;
      assert.ok(titles.has(from!) && titles.has(to!), `edge between declared nodes: ${line}`);
      edges.push(edgeKey(titles.get(from!)!, titles.get(to!)!, label ?? null, arrow === '-.->'));
    } else {
      assert.fail(`unexpected mermaid line: ${JSON.stringify(line)}`);
    }
  }
  return { titles, edges, shapes };
}

const DOT_STRING = String.raw`"((?:[^"\\]|\\.)*)"`;
const DOT_NODE = new RegExp(String.raw`^ {2}${DOT_STRING} \[(.*)\];$`);
const DOT_EDGE = new RegExp(String.raw`^ {2}${DOT_STRING} -> ${DOT_STRING}(?: \[(.*)\])?;$`);
const DOT_ATTR = new RegExp(String.raw`(\w+)=(?:${DOT_STRING}|([\w.]+))`, 'g');

function attrs(text: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of (text ?? '').matchAll(DOT_ATTR)) out.set(m[1]!, m[2] ?? m[3]!);
  return out;
}

function parseDot(text: string): { id: string; titles: Map<string, string>; edges: Edge[] } {
  assert.ok(text.endsWith('}\n'), 'ends with the closing brace and a newline');
  let depth = 0;
  for (const ch of text.replace(new RegExp(DOT_STRING, 'g'), '""')) {
    if (ch === '{') depth += 1;
    if (ch === '}') depth -= 1;
    assert.ok(depth >= 0, 'braces never close before they open');
  }
  assert.equal(depth, 0, 'balanced braces');
  const lines = text.split('\n');
  const header = new RegExp(String.raw`^digraph ${DOT_STRING} \{$`).exec(lines[0]!);
  assert.ok(header, `digraph header: ${lines[0]}`);
  assert.equal(lines[1], '  rankdir=LR;');
  const titles = new Map<string, string>();
  const edges: Edge[] = [];
  for (const line of lines.slice(2, -2)) {
    const edge = DOT_EDGE.exec(line);
    const node = DOT_NODE.exec(line);
    if (edge) {
      const [, from, to, list] = edge;
      const a = attrs(list);
      assert.ok(titles.has(from!) && titles.has(to!), `edge between declared nodes: ${line}`);
      edges.push(
        edgeKey(titles.get(from!)!, titles.get(to!)!, a.get('label') ?? null, a.get('style') === 'dashed'),
      );
    } else if (node) {
      titles.set(node[1]!, (attrs(node[2]).get('label') ?? 'start').split('\\n')[0]!);
    } else if (line !== '  node [shape=box, style=rounded];') {
      assert.fail(`unexpected dot line: ${JSON.stringify(line)}`);
    }
  }
  return { id: header[1]!, titles, edges };
}

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

/** A flow with web requests (with and without onError) and transfers (with and without onError). */
const orders: FlowFile = {
  id: 'orders',
  version: 1,
  start: 'ask',
  states: {
    ask: { say: 'How many?', collect: { slot: 'count', entity: 'number' }, next: 'order' },
    order: {
      say: 'One moment.',
      http: { url: 'https://api.example.com/v1/orders?n={{count}}', map: { eta: '/eta' } },
      next: [{ if: 'eta > 30', goto: 'slow' }, { goto: 'done' }],
      onError: 'agent',
    },
    slow: { say: 'That takes {{eta}} minutes.', next: 'status' },
    status: { http: { method: 'GET', url: '{{env.STATUS_URL}}/ping' }, next: 'done' },
    done: { say: 'Thanks.', hangup: true },
    agent: { say: 'Putting you through.', transfer: '{{env.SUPPORT_LINE}}', onError: 'bye' },
    bye: { say: 'Goodbye.', hangup: true },
  },
  policy: { fallback: 'bye' },
};

test('web requests show method and host, transfers hide the number; "done" and "error" edges', () => {
  const result = validateFlow(orders);
  assert.ok(result.ok, JSON.stringify(result.findings));
  assert.deepEqual(result.findings, []);
  const mermaid = toMermaid(orders);
  const { edges, shapes } = parseMermaid(mermaid);
  assert.deepEqual(edges, [
    'start ---> ask',
    'ask --done-> order',
    `order --${DONE_LABEL}: eta #62; 30-> slow`,
    `order --${DONE_LABEL}: else-> done`,
    `order --${ERROR_LABEL}-> agent`,
    'slow ---> status',
    'status --done-> done',
    `agent --${ERROR_LABEL}-> bye`,
    `ask -.${FALLBACK_LABEL}-> bye`,
    // Without onError, a failure goes to the fallback: dashed.
    `status -.${ERROR_LABEL}-> bye`,
  ]);
  assert.match(mermaid, /s_order\["order<br\/>\(POST api\.example\.com\)"\]/);
  assert.match(mermaid, /s_status\["status<br\/>\(GET #123;#123;env\.STATUS_URL#125;#125;\)"\]/);
  assert.match(mermaid, /s_agent\(\["agent<br\/>\(transfer\)"\]\)/);
  assert.equal(shapes.get(mermaidId('agent')), '([');
  assert.ok(!mermaid.includes('SUPPORT_LINE'), 'the number is not drawn');
  assert.ok(!mermaid.includes('v1') && !mermaid.includes('?n='), 'the path and query are not drawn');

  const dot = toDot(orders);
  assert.match(dot, /^ {2}"order" \[label="order\\n\(POST api\.example\.com\)"\];$/m);
  assert.match(dot, /^ {2}"agent" \[label="agent\\n\(transfer\)", peripheries=2\];$/m);
  assert.match(dot, /^ {2}"status" -> "bye" \[label="error", style=dashed\];$/m);
  const unescape = (e: string): string =>
    e.replace(/#(\d+);/g, (_, c: string) => String.fromCharCode(Number(c)));
  assert.deepEqual(parseDot(dot).edges, edges.map(unescape));
});

test('without a fallback, a failing request or transfer ends at "could not continue"', () => {
  const flow: FlowFile = {
    id: 'no-fallback',
    version: 1,
    start: 'look',
    states: {
      look: { http: { url: 'https://x.example/a', map: { n: '/n' } }, next: [{ if: 'n', goto: 'agent' }] },
      agent: { transfer: '+15555550100' },
    },
  };
  assert.ok(validateFlow(flow).ok, JSON.stringify(validateFlow(flow).findings));
  const { edges } = parseMermaid(toMermaid(flow));
  assert.deepEqual(edges, [
    'start ---> look',
    'look --done: n-> agent',
    `look -.${NO_CHOICE_LABEL}-> could not continue`,
    `look -.${ERROR_LABEL}-> could not continue`,
    `agent -.${ERROR_LABEL}-> could not continue`,
  ]);
  assert.ok(!toMermaid(flow).includes('555') && !toDot(flow).includes('555'), 'the number is not drawn');
});

test('the request note: method and host only, never credentials; cut to 40 characters', () => {
  assert.equal(describeHttp({ url: 'https://api.example.com/orders/{{id}}' }), 'POST api.example.com');
  assert.equal(
    describeHttp({ method: 'PUT', url: 'http://user:secret@h.example:8080/x' }),
    'PUT h.example:8080',
  );
  assert.equal(describeHttp({ method: 'GET', url: '{{ env.BASE }}/v1?x=1' }), 'GET {{ env.BASE }}');
  assert.equal(describeHttp({ url: 'https://{{env.HOST}}.example.com/x' }), 'POST {{env.HOST}}.example.com');
  assert.equal(describeHttp({ url: 'https://h.example?q={{phone}}' }), 'POST h.example');
  const long = describeHttp({ method: 'DELETE', url: `https://${'a'.repeat(60)}.example/x` });
  assert.equal(long.length, 40);
  assert.ok(long.startsWith('DELETE aaaa') && long.endsWith('…'));
  // Hostile text stays inside the label in both formats.
  const flow: FlowFile = {
    id: 'hostile',
    version: 1,
    start: 'a',
    states: {
      a: { http: { url: 'https://"];x[<b>|{{env.A}}/' }, next: 'b', onError: 'b' },
      b: { say: 'Bye.', hangup: true },
    },
  };
  assert.ok(validateFlow(flow).ok);
  const mermaid = toMermaid(flow);
  assert.equal(parseMermaid(mermaid).edges.length, 3);
  assert.match(mermaid, /\(POST #34;#93;;x#91;#60;b#62;#124;#123;#123;env\.A#125;#125;\)/);
  assert.equal(parseDot(toDot(flow)).edges.length, 3);
});

/** Runs the CLI with console output captured; the console is restored even when main throws. */
async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = mock.method(console, 'log', (...a: unknown[]) => void out.push(a.join(' ')));
  const error = mock.method(console, 'error', (...a: unknown[]) => void err.push(a.join(' ')));
  try {
    const code = await main(args);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mock.restore();
    error.mock.restore();
  }
}

async function tempDir(ctx: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-graph-'));
  ctx.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('graph CLI: a good file prints the diagram; -o writes it; a flow id is read from FLOWS_DIR', async (ctx) => {
  const flow = await demo();
  const good = await run([DEMO_PATH]);
  assert.equal(good.code, 0);
  assert.equal(`${good.out}\n`, toMermaid(flow));
  assert.equal(good.err, '');

  const dir = await tempDir(ctx);
  const file = join(dir, 'demo.dot');
  const written = await run([DEMO_PATH, '--format', 'dot', '-o', file]);
  assert.equal(written.code, 0);
  assert.equal(await readFile(file, 'utf8'), toDot(flow));

  await writeFile(join(dir, 'mine.json'), await readFile(DEMO_PATH, 'utf8'));
  const saved = process.env.FLOWS_DIR;
  process.env.FLOWS_DIR = dir;
  try {
    const byId = await run(['mine', '--format=dot']);
    assert.equal(byId.code, 0);
    assert.equal(`${byId.out}\n`, toDot(flow));
  } finally {
    if (saved === undefined) delete process.env.FLOWS_DIR;
    else process.env.FLOWS_DIR = saved;
  }

  const help = await run(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.out, /usage: switchboard graph FLOW/);
});

test('graph CLI: invalid flow, bad JSON and missing files exit 1; bad usage exits 2', async (ctx) => {
  const dir = await tempDir(ctx);
  const invalid = join(dir, 'invalid.json');
  await writeFile(invalid, JSON.stringify({ id: 'x', version: 1, start: 'a', states: { a: { next: 'b' } } }));
  const bad = await run([invalid]);
  assert.equal(bad.code, 1);
  assert.equal(bad.out, '');
  assert.match(bad.err, /invalid\.json: error \/states\/a\/next unknown state "b" \(hint: known states: a\)/);
  assert.match(bad.err, /invalid\.json: 1 error, 0 warnings/);

  const notJson = join(dir, 'broken.json');
  await writeFile(notJson, '{ "id": ');
  const broken = await run([notJson]);
  assert.equal(broken.code, 1);
  assert.match(broken.err, /broken\.json: error .*line 1, column \d+/);

  const missing = await run([join(dir, 'nope.json')]);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /cannot read .*nope\.json: no such file/);
  assert.doesNotMatch(missing.err, /\n\s+at /, 'no stack trace');

  const format = await run([DEMO_PATH, '--format', 'svg']);
  assert.equal(format.code, 2);
  assert.match(format.err, /unknown --format "svg" \(use mermaid or dot\)/);

  assert.equal((await run([])).code, 2);
  assert.equal((await run([DEMO_PATH, '--colour'])).code, 2);
});
