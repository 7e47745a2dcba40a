import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { main } from '../../../src/cli/validate.ts';
import {
  MAX_FLOW_BYTES,
  checkFlowText,
  formatFindings,
  parseFlowText,
  staticChecks,
  validateFlow,
  type Finding,
  type FlowFile,
  type StateDef,
} from '../../../src/flow/index.ts';
import { generatedFlow } from '../../fixtures/generated-flow.ts';
import { captureConsole } from '../../fixtures/console.ts';

const fixture = (name: string): string => new URL(`../../fixtures/flows/${name}`, import.meta.url).pathname;
const demoPath = new URL('../../../flows/demo.json', import.meta.url).pathname;

async function check(name: string) {
  return checkFlowText(await readFile(fixture(name), 'utf8'));
}

const errors = (findings: Finding[]): Finding[] => findings.filter((f) => f.severity === 'error');
const at = (findings: Finding[], pointer: string): Finding[] => findings.filter((f) => f.pointer === pointer);

function flowOf(states: Record<string, StateDef>, extra: Partial<FlowFile> = {}): FlowFile {
  return { id: 't', version: 1, start: Object.keys(states)[0] ?? '', states, ...extra };
}

test('flows/demo.json validates with no findings', async () => {
  const result = checkFlowText(await readFile(demoPath, 'utf8'));
  assert.ok(result.ok, JSON.stringify(result.findings));
  assert.deepEqual(result.findings, []);
  assert.equal(Object.keys(result.flow.states).length, 6);
});

test('a DTMF key bound twice in one "on" is an error at the duplicate', async () => {
  const result = await check('duplicate-dtmf-key.json');
  assert.equal(result.ok, false);
  const dup = at(result.findings, '/states/menu/on/dtmf:1');
  assert.equal(dup.length, 1);
  assert.equal(dup[0]?.severity, 'error');
  assert.match(dup[0]?.message ?? '', /duplicate key "dtmf:1" \(line 8, column 53\)/);
  // JSON.parse would have accepted the same text.
  assert.doesNotThrow(() => void JSON.parse('{"a":1,"a":2}'));
  const parsed = parseFlowText('{"a":1,"a":2}');
  assert.ok(!parsed.ok && parsed.findings[0]?.pointer === '/a');
});

test('duplicate keys are found at any depth, with escaped pointers', () => {
  const parsed = parseFlowText('{"x": [0, {"a/b": 1, "a/b": 2}], "y": {"~": 1, "~": 2}}');
  assert.ok(!parsed.ok);
  assert.deepEqual(
    parsed.findings.map((f) => [f.severity, f.pointer]),
    [
      ['error', '/x/1/a~1b'],
      ['error', '/y/~0'],
    ],
  );
});

test('an unknown target is an error at the input, with a suggestion', async () => {
  const result = await check('unknown-target.json');
  assert.equal(result.ok, false);
  const [f, ...rest] = result.findings;
  assert.deepEqual(rest, []);
  assert.equal(f?.severity, 'error');
  assert.equal(f?.pointer, '/states/confirm/on/dtmf:1');
  assert.equal(f?.message, 'unknown state "chek"');
  assert.match(f?.hint ?? '', /did you mean "check"\?/);
});

test('an unreachable state is a warning and the flow still loads', async () => {
  const result = await check('unreachable-state.json');
  assert.ok(result.ok);
  assert.deepEqual(
    result.findings.map((f) => [f.severity, f.pointer]),
    [['warning', '/states/orphan']],
  );
});

test('the fallback and every "on" target count as ways in', () => {
  const flow = flowOf(
    {
      menu: { say: 'Press 1.', on: { 'dtmf:1': 'bye' } },
      bye: { say: 'Bye.', hangup: true },
      rescue: { say: 'Let us start over.', next: 'menu' },
    },
    { policy: { fallback: 'rescue' } },
  );
  assert.deepEqual(staticChecks(flow), []);
  delete flow.policy;
  assert.deepEqual(
    staticChecks(flow).map((f) => f.pointer),
    ['/states/rescue'],
  );
});

test('a "next" the machine never follows does not make its target reachable', () => {
  const findings = staticChecks(
    flowOf({
      menu: { say: 'Press 1.', on: { 'dtmf:1': 'bye' }, next: 'lost' },
      bye: { say: 'Bye.', hangup: true },
      lost: { say: 'Lost.', hangup: true },
    }),
  );
  assert.deepEqual(
    findings.map((f) => [f.severity, f.pointer]),
    [
      ['warning', '/states/menu/next'],
      ['warning', '/states/lost'],
    ],
  );
});

test('a slot spoken on a path that skips its collection is an error at the prompt', async () => {
  const result = await check('slot-before-collected.json');
  assert.equal(result.ok, false);
  assert.deepEqual(
    result.findings.map((f) => [f.severity, f.pointer]),
    [['error', '/states/confirm/say']],
  );
  assert.match(result.findings[0]?.message ?? '', /"menu" -> "confirm"/);
});

test('a slot is set only after the collecting state, not in its own prompts', () => {
  const collect = { slot: 'pin', digits: { max: 4 } };
  const findings = staticChecks(
    flowOf({
      ask: { say: 'Your pin was {{pin}}.', noMatchSay: 'Not {{pin}}.', collect, next: 'done' },
      done: { say: 'Thanks, {{pin|digits}}.', hangup: true },
    }),
  );
  assert.deepEqual(
    findings.map((f) => [f.severity, f.pointer]),
    [
      ['error', '/states/ask/say'],
      ['error', '/states/ask/noMatchSay'],
    ],
  );
});

test('the fallback out of a collecting state does not count as collecting', () => {
  const flow = flowOf(
    {
      ask: { say: 'Enter it.', collect: { slot: 'n', digits: { max: 3 } }, next: 'read' },
      read: { say: 'You entered {{n}}.', next: 'bye' },
      bye: { say: 'Bye.', hangup: true },
      oops: { say: 'Still {{n}}?', next: 'bye' },
    },
    { policy: { fallback: 'oops' } },
  );
  assert.deepEqual(
    staticChecks(flow).map((f) => f.pointer),
    ['/states/oops/say'],
  );
});

test('a slot collected in two states must be collected on every path', () => {
  const digits = { max: 3 };
  const states: Record<string, StateDef> = {
    menu: { say: 'Press 1, 2 or 3.', on: { 'dtmf:1': 'a', 'dtmf:2': 'b', 'dtmf:3': 'read' } },
    a: { say: 'Enter it.', collect: { slot: 'n', digits }, next: 'read' },
    b: { say: 'Enter it here.', collect: { slot: 'n', digits }, next: 'read' },
    read: { say: 'You entered {{n}}.', hangup: true },
  };
  assert.deepEqual(
    staticChecks(flowOf(states)).map((f) => f.pointer),
    ['/states/read/say'],
  );
  states.menu = { say: 'Press 1 or 2.', on: { 'dtmf:1': 'a', 'dtmf:2': 'b' } };
  assert.deepEqual(staticChecks(flowOf(states)), []);
});

test('states that only speak and move on in a cycle are an error naming the cycle', async () => {
  const result = await check('talking-loop.json');
  assert.equal(result.ok, false);
  assert.deepEqual(
    result.findings.map((f) => [f.severity, f.pointer]),
    [['error', '/states/news/next']],
  );
  assert.match(result.findings[0]?.message ?? '', /"news" -> "weather" -> "news"/);
});

test('a cycle through a state that waits for input is fine, and so is a silent state', () => {
  const findings = staticChecks(
    flowOf({
      hello: { say: 'Hi.', next: 'menu' },
      menu: { say: 'Press 1 to hear it again.', on: { 'dtmf:1': 'hello' } },
    }),
  );
  assert.deepEqual(findings, []);
  const silent = staticChecks(flowOf({ a: { next: 'a' } }));
  assert.deepEqual(
    silent.map((f) => [f.severity, f.pointer]),
    [['error', '/states/a/next']],
  );
});

test('a dead end is an error at the state', async () => {
  const result = await check('dead-end.json');
  assert.equal(result.ok, false);
  assert.deepEqual(
    result.findings.map((f) => [f.severity, f.pointer]),
    [['error', '/states/stuck']],
  );
});

test('text that is not JSON is an error with its line and column', async () => {
  const result = await check('not-json.json');
  assert.equal(result.ok, false);
  assert.deepEqual(
    result.findings.map((f) => [f.severity, f.pointer, f.message]),
    [['error', '', 'line 6, column 5: comments are not allowed in JSON']],
  );
  const comma = parseFlowText('{\n  "a": 1,\n}');
  assert.ok(!comma.ok);
  assert.match(comma.findings[0]?.message ?? '', /^line 3, column 1: trailing comma/);
  const missing = parseFlowText('{ "a": 1\n  "b": 2 }');
  assert.ok(!missing.ok);
  assert.match(missing.findings[0]?.message ?? '', /^line 2, column 3: expected ","/);
  for (const text of [
    '',
    '   ',
    '{"a": 1}}',
    '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[',
  ]) {
    const r = parseFlowText(text);
    assert.ok(!r.ok && r.findings.length === 1 && r.findings[0]?.severity === 'error', text);
  }
});

/** A flow file whose greeting was pasted from a document, with `quotes` around the prompt. */
function pastedFlow(open: string, close: string): string {
  return [
    '{',
    '  "id": "pizza",',
    '  "version": 1,',
    '  "start": "hello",',
    '  "states": {',
    '    "hello": {',
    `      "say": ${open}Welcome to Pizza Palace. Goodbye.${close},`,
    '      "hangup": true',
    '    }',
    '  }',
    '}',
  ].join('\n');
}

test('a curly quote from a word processor is named, with its line and column', async (ctx) => {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-validate-'));
  ctx.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'pizza.json');
  await writeFile(file, pastedFlow('\u201c', '\u201d'));
  const r = await captureConsole(ctx, () => main([file]));
  assert.equal(r.code, 1);
  assert.match(
    r.out,
    /pizza\.json: error line 7, column 14: unexpected character \u201c \(U\+201C, a curly quote\): JSON needs straight double quotes " \(hint: .*smart quotes\)/,
  );
  // A string opened straight and closed curly: the curly quote is what the author sees as its end.
  const closes = checkFlowText(pastedFlow('"', '\u201d'));
  assert.deepEqual(
    closes.findings.map((f) => f.message),
    [
      'line 7, column 14: unterminated string: \u201d (U+201D, a curly quote) at line 7, column 48 does not close it; JSON needs straight double quotes "',
    ],
  );
  // Other stray characters are named too; one that cannot be seen, by its code point alone.
  const messageOf = (text: string): string => {
    const parsed = parseFlowText(text);
    return parsed.ok ? '' : (parsed.findings[0]?.message ?? '');
  };
  assert.equal(
    messageOf("{'id': 1}"),
    `line 1, column 2: unexpected character ' (U+0027): JSON needs straight double quotes "`,
  );
  assert.equal(messageOf('{"id": @}'), 'line 1, column 8: unexpected character @ (U+0040)');
  assert.equal(messageOf('{"id":\u00a01}'), 'line 1, column 7: unexpected character U+00A0');
});

test('a slot mistyped in a template or a condition gets "did you mean"', async (ctx) => {
  const r = await captureConsole(ctx, () => main([fixture('template-slot-typo.json')]));
  assert.equal(r.code, 1);
  assert.match(
    r.out,
    /error \/states\/confirm\/say template uses slot "readyby", which no state collects or sets \(hint: did you mean "readyBy"\? known slots: readyBy\)/,
  );
  assert.match(
    r.out,
    /error \/states\/confirm\/next\/0\/if condition uses slot "readyby", which no state collects or sets \(hint: did you mean "readyBy"\?/,
  );
  // With no slot stored anywhere there is nothing to suggest or list.
  const none = validateFlow(flowOf({ hi: { say: 'Hello {{name}}.', hangup: true } }));
  assert.deepEqual(
    none.findings.map((f) => [f.message, f.hint]),
    [['template uses slot "name", which no state collects or sets', undefined]],
  );
});

test('wrong types are errors at each field', async () => {
  const result = await check('wrong-types.json');
  assert.equal(result.ok, false);
  assert.deepEqual(
    result.findings.map((f) => [f.severity, f.pointer]),
    [
      ['error', '/version'],
      ['error', '/states/hello/hangup'],
    ],
  );
});

test('unknown keys are errors at the key', async () => {
  const result = await check('unknown-keys.json');
  assert.equal(result.ok, false);
  assert.deepEqual(
    result.findings.map((f) => [f.severity, f.pointer]),
    [['error', '/states/hello/sya']],
  );
});

test('a key has one spelling: "dtmf:a" is not "dtmf:A"', () => {
  const result = validateFlow(
    flowOf({
      menu: { say: 'Press A.', on: { 'dtmf:A': 'bye', 'dtmf:a': 'bye' } },
      bye: { say: 'Bye.', hangup: true },
    }),
  );
  assert.ok(!result.ok);
  assert.deepEqual(
    result.findings.map((f) => f.pointer),
    ['/states/menu/on/dtmf:a'],
  );
});

test('a "__proto__" key stays data and is reported as unknown', () => {
  const result = checkFlowText(
    '{"id":"p","version":1,"start":"a","states":{"a":{"hangup":true}},"__proto__":{}}',
  );
  assert.ok(!result.ok);
  assert.deepEqual(
    result.findings.map((f) => f.pointer),
    ['/__proto__'],
  );
});

test('a duplicate key is reported along with the rest of the file', () => {
  const result = checkFlowText('{"id":"d","version":1,"version":2,"start":"a","states":{"a":{"next":"zz"}}}');
  assert.ok(!result.ok);
  assert.deepEqual(
    result.findings.map((f) => f.pointer),
    ['/version', '/states/a/next'],
  );
});

test('a generated 500-state flow validates', () => {
  const flow = generatedFlow(100);
  assert.equal(Object.keys(flow.states).length, 500);
  const result = checkFlowText(JSON.stringify(flow));
  assert.ok(result.ok, JSON.stringify(result.findings.slice(0, 3)));
  assert.deepEqual(result.findings, []);
  // The same flow with one read-back reachable without its entry must fail, so the check did run.
  const broken = generatedFlow(100);
  broken.states.s250 = { say: 'Skip ahead.', on: { 'dtmf:1': 's252' } };
  const r = validateFlow(broken);
  assert.ok(!r.ok);
  assert.deepEqual(
    errors(r.findings).map((f) => f.pointer),
    ['/states/s252/say'],
  );
});

test('a 5 MB flow gets a clear result: checked below the limit, refused above it', () => {
  const perBlock = JSON.stringify(generatedFlow(100)).length / 100;
  let blocks = Math.floor(MAX_FLOW_BYTES / perBlock);
  let flow = generatedFlow(blocks);
  // Longer state names make later blocks larger; shrink until the text fits.
  while (JSON.stringify(flow).length > MAX_FLOW_BYTES)
    flow = generatedFlow((blocks = Math.floor(blocks * 0.98)));
  const text = JSON.stringify(flow);
  assert.ok(text.length > MAX_FLOW_BYTES * 0.9 && text.length <= MAX_FLOW_BYTES, String(text.length));
  const result = checkFlowText(text);
  assert.ok(result.ok, JSON.stringify(result.findings.slice(0, 3)));

  // Every state unreachable and every target unknown: many findings, each short.
  const bad: Record<string, StateDef> = {};
  const names = Object.keys(flow.states);
  for (const name of names) bad[name] = { say: 'Hello {{x}}.', next: `${name}_missing` };
  const badText = JSON.stringify({ id: 'bad', version: 1, start: 's0', states: bad });
  assert.ok(badText.length <= MAX_FLOW_BYTES);
  const badResult = checkFlowText(badText);
  assert.ok(!badResult.ok);
  assert.equal(badResult.findings.length, names.length * 2);
  assert.ok(badResult.findings.every((f) => (f.hint ?? '').length < 200 && f.message.length < 200));
  const report = formatFindings('big.json', badResult.findings);
  assert.ok(report.split('\n').length < 300);
  assert.match(report, /big\.json: \d+ errors, 0 warnings$/);

  const over = checkFlowText(`${text}${' '.repeat(MAX_FLOW_BYTES - text.length + 1)}`);
  assert.ok(!over.ok);
  assert.equal(over.findings.length, 1);
  assert.equal(over.findings[0]?.pointer, '');
  assert.match(over.findings[0]?.message ?? '', /too large to be a flow: 5\.0 MiB, the limit is 5 MiB/);
});

test('formatFindings puts errors first and ends with a summary', () => {
  const report = formatFindings('flows/pizza.json', [
    { severity: 'warning', pointer: '/states/old', message: 'state "old" is unreachable' },
    {
      severity: 'error',
      pointer: '/states/confirm/on/dtmf:1',
      message: 'unknown state "chek"',
      hint: 'known states: a',
    },
    { severity: 'error', pointer: '', message: 'line 1, column 2: expected a value' },
  ]);
  assert.equal(
    report,
    [
      'flows/pizza.json: error /states/confirm/on/dtmf:1 unknown state "chek" (hint: known states: a)',
      'flows/pizza.json: error line 1, column 2: expected a value',
      'flows/pizza.json: warning /states/old state "old" is unreachable',
      'flows/pizza.json: 2 errors, 1 warning',
    ].join('\n'),
  );
});

test('validate prints ok for a valid file and exits 0', async (ctx) => {
  const r = await captureConsole(ctx, () => main([demoPath]));
  assert.equal(r.code, 0);
  assert.equal(r.out, `${demoPath}: ok (6 states)`);
  assert.equal(r.err, '');
});

test('validate prints warnings but still exits 0', async (ctx) => {
  const file = fixture('unreachable-state.json');
  const r = await captureConsole(ctx, () => main([file]));
  assert.equal(r.code, 0);
  assert.match(r.out, /: warning \/states\/orphan state "orphan" is unreachable/);
  assert.match(r.out, /: ok \(3 states, 1 warning\)$/);
});

test('validate exits 1 when any file has an error, reporting every file', async (ctx) => {
  const missing = fixture('does-not-exist.json');
  const r = await captureConsole(ctx, () => main([demoPath, fixture('talking-loop.json'), missing]));
  assert.equal(r.code, 1);
  assert.match(r.out, /talking-loop\.json: error \/states\/news\/next talking loop/);
  assert.match(r.out, /does-not-exist\.json: error cannot read the file: no such file/);
  assert.match(r.out, /demo\.json: ok \(6 states\)/);
  assert.match(r.out, /3 files: 2 with errors$/);
});

test('validate --json prints file, ok and findings', async (ctx) => {
  const r = await captureConsole(ctx, () => main(['--json', demoPath, fixture('duplicate-dtmf-key.json')]));
  assert.equal(r.code, 1);
  const parsed = JSON.parse(r.out) as { file: string; ok: boolean; findings: Finding[] }[];
  assert.deepEqual(
    parsed.map((p) => [p.file, p.ok, p.findings.map((f) => `${f.severity} ${f.pointer}`)]),
    [
      [demoPath, true, []],
      [fixture('duplicate-dtmf-key.json'), false, ['error /states/menu/on/dtmf:1', 'warning /states/hours']],
    ],
  );
});

test('validate without files or with an unknown option is a usage error', async (ctx) => {
  const none = await captureConsole(ctx, () => main([]));
  assert.equal(none.code, 2);
  assert.match(none.err, /name at least one flow file/);
  const bad = await captureConsole(ctx, () => main(['--nope', demoPath]));
  assert.equal(bad.code, 2);
  assert.match(bad.err, /usage: switchboard validate/);
  const help = await captureConsole(ctx, () => main(['--help']));
  assert.equal(help.code, 0);
  assert.match(help.out, /--json/);
});

test('policy apologies are templates too: a slot no state collects is an error there', () => {
  const result = validateFlow(
    flowOf(
      { hello: { say: 'Hi', on: { 'dtmf:1': 'hello' } } },
      { policy: { noMatchSay: 'Sorry {{name}}.' } },
    ),
  );
  assert.equal(result.ok, false);
  assert.match(
    at(result.findings, '/policy/noMatchSay')[0]?.message ?? '',
    /slot "name", which no state collects/,
  );
});

test('"$schema" must be a string', () => {
  const result = validateFlow({ ...flowOf({ hello: { say: 'Hi', hangup: true } }), $schema: 7 });
  assert.equal(result.ok, false);
  assert.equal(at(result.findings, '/$schema').length, 1);
});

/** Each fixture breaks one rule of the extended language: [file, ok, [severity, pointer, message pattern][]]. */
const LANGUAGE_FIXTURES: [string, boolean, [Finding['severity'], string, RegExp][]][] = [
  [
    'intent-duplicate-example.json',
    false,
    [
      ['warning', '/intents/hours/examples/2', /example "Opening hours!" is listed twice/],
      ['error', '/intents/sales/examples/3', /example "when are you OPEN" already belongs to intent "hours"/],
    ],
  ],
  [
    'intent-undefined.json',
    false,
    [['error', '/states/menu/on/operater', /^intent "operater" is not defined$/]],
  ],
  ['entity-builtin-name.json', false, [['error', '/entities/date', /"date" is a built-in entity/]]],
  [
    'entity-duplicate-synonym.json',
    false,
    [['error', '/entities/size/values/small/1', /"Big" already means "large"/]],
  ],
  [
    'collect-unknown-entity.json',
    false,
    [['error', '/states/ask/collect/entity', /entity "sizes" is not defined/]],
  ],
  ['collect-without-input.json', false, [['error', '/states/ask/collect', /needs "digits" .*"entity"/]]],
  [
    'condition-syntax.json',
    false,
    [['error', '/states/check/on/yes/0/if', /^invalid condition at offset 5: unknown operator "="/]],
  ],
  [
    'choice-unknown-key.json',
    false,
    [
      ['error', '/states/route/next/0/when', /unknown property "when"/],
      ['warning', '/states/route/next/1', /choice 1 is never taken: choice 0 has no "if"/],
    ],
  ],
  ['choice-unreachable.json', true, [['warning', '/states/route/next/1', /choice 1 is never taken/]]],
  [
    'condition-slot-unknown.json',
    false,
    [['error', '/states/route/next/0/if', /condition uses slot "vip", which no state collects or sets/]],
  ],
  [
    'condition-before-collected.json',
    true,
    [
      [
        'warning',
        '/states/route/next/0/if',
        /slot "n" may be read before it is collected: the path "menu" -> "route"/,
      ],
    ],
  ],
  [
    'decision-loop.json',
    false,
    [['error', '/states/route/next', /talking loop: "route" -> "again" -> "route"/]],
  ],
  [
    'retry-prompts.json',
    false,
    [
      ['error', '/states/menu/resumeSay', /resumeSay must be non-empty text/],
      ['error', '/states/menu/noInputSay', /must not be an empty list/],
      ['error', '/states/menu/noMatchSay/1', /noMatchSay must be non-empty text/],
      ['error', '/policy/noMatchSay', /must not be an empty list/],
    ],
  ],
  [
    'set-bad.json',
    false,
    [
      ['error', '/states/hello/set/first name', /slot name/],
      ['error', '/states/hello/set/greeting', /slot value must be text/],
    ],
  ],
  ['give-up-unknown.json', false, [['error', '/policy/supervisor/onGiveUp', /^unknown state "sory"$/]]],
];

test('each rule of intents, entities, targets, conditions, set and retries has its finding', async () => {
  for (const [file, ok, expected] of LANGUAGE_FIXTURES) {
    const result = await check(file);
    assert.equal(result.ok, ok, `${file}: ${JSON.stringify(result.findings)}`);
    assert.deepEqual(
      result.findings.map((f) => [f.severity, f.pointer]),
      expected.map(([severity, pointer]) => [severity, pointer]),
      file,
    );
    expected.forEach(([, , pattern], i) => assert.match(result.findings[i]?.message ?? '', pattern, file));
  }
});

test('an undefined intent and an undefined entity get a suggestion and the known names', async () => {
  const intent = (await check('intent-undefined.json')).findings[0];
  assert.match(
    intent?.hint ?? '',
    /did you mean "operator"\? known intents: yes, no, repeat, cancel, operator/,
  );
  const entity = (await check('collect-unknown-entity.json')).findings[0];
  assert.match(entity?.hint ?? '', /did you mean "size"\?.*phone_number, size/);
  const duplicate = (await check('intent-duplicate-example.json')).findings[1];
  assert.match(duplicate?.hint ?? '', /first at \/intents\/hours\/examples\/0/);
  const condition = (await check('condition-syntax.json')).findings[0];
  assert.match(condition?.hint ?? '', /from there it reads: = "large"/);
});

const menuWith = (on: StateDef['on'], extra: Partial<FlowFile> = {}): FlowFile =>
  flowOf(
    {
      menu: { say: 'Say something.', on },
      bye: { say: 'Bye.', hangup: true },
      human: { say: 'Transferring.', hangup: true },
    },
    extra,
  );

test('"on" takes keys, built-in intents and the flow\'s intents, and nothing else', () => {
  const intents = { operator: { examples: ['agent'] } };
  const ok = validateFlow(
    menuWith(
      { 'dtmf:1': 'bye', yes: 'bye', no: 'bye', repeat: 'menu', cancel: 'bye', operator: 'human' },
      { intents },
    ),
  );
  assert.ok(ok.ok, JSON.stringify(ok.findings));
  const bad = validateFlow(menuWith({ operator: 'human', help: 'bye', 'dtmf:12': 'bye' }));
  assert.deepEqual(
    errors(bad.findings).map((f) => [f.pointer, f.message]),
    [
      ['/states/menu/on/operator', 'intent "operator" is not defined'],
      ['/states/menu/on/help', 'intent "help" is not defined'],
      ['/states/menu/on/dtmf:12', 'unknown input "dtmf:12"'],
    ],
  );
});

test('intents and entities: names, shapes and global targets are checked', () => {
  const result = validateFlow(
    menuWith(
      { yes: 'bye' },
      {
        intents: {
          'talk-to-human': { examples: ['agent'] },
          empty: { examples: [] },
          blank: { examples: ['?!'] },
          lost: { examples: ['where am i'], global: 'nowhere' },
          typo: { examples: ['oops'], globel: 'bye' } as never,
        },
        entities: {
          size: { values: {} },
          colour: { values: { red: 'crimson' } } as never,
          'my-entity': { values: { a: [] } },
        },
      },
    ),
  );
  assert.deepEqual(
    errors(result.findings).map((f) => f.pointer),
    [
      '/intents/talk-to-human',
      '/intents/empty/examples',
      '/intents/blank/examples/0',
      '/intents/lost/global',
      '/intents/typo/globel',
      '/entities/size/values',
      '/entities/colour/values/red',
      '/entities/my-entity',
    ],
  );
});

test('a flow example that is also a built-in example is a warning, unless the flow redefines the built-in', () => {
  const intents = { agree: { examples: ['Okay!', 'fine by me'] } };
  const result = validateFlow(menuWith({ agree: 'bye', 'dtmf:0': 'human' }, { intents }));
  assert.ok(result.ok);
  assert.deepEqual(
    result.findings.map((f) => [f.severity, f.pointer]),
    [['warning', '/intents/agree/examples/0']],
  );
  assert.match(result.findings[0]?.message ?? '', /built-in intent "yes"; "agree" takes it/);
  const redefined = validateFlow(
    menuWith({ agree: 'bye', 'dtmf:0': 'human' }, { intents: { ...intents, yes: { examples: ['yes'] } } }),
  );
  assert.deepEqual(redefined.ok && redefined.findings, []);
});

test('a target is a state name or a non-empty list of choices with an existing goto', () => {
  const result = validateFlow(
    flowOf({
      a: { say: 'A.', next: [] },
      b: { say: 'B.', next: [{ if: 'x', goto: 'nowhere' }, 'c'] as never },
      c: { say: 'C.', next: [{ if: '', goto: 'a' }, { if: 'x' } as never] },
      d: { say: 'D.', next: 7 as never },
      e: { say: 'E.', collect: { slot: 'x', entity: 'number' }, next: 'a' },
    }),
  );
  assert.deepEqual(
    errors(result.findings).map((f) => f.pointer),
    [
      '/states/a/next',
      '/states/b/next/0/goto',
      '/states/b/next/1',
      '/states/c/next/0/if',
      '/states/c/next/1',
      '/states/d/next',
    ],
  );
});

test('collect: an entity, keypad digits, or both; validate, invalidSay and confirm may use the slot', () => {
  const states = (collect: StateDef['collect']): Record<string, StateDef> => ({
    ask: { say: 'How many?', collect, next: 'bye' },
    bye: { say: 'Bye.', hangup: true },
  });
  for (const collect of [
    { slot: 'n', entity: 'number' },
    { slot: 'n', digits: { max: 2 } },
    {
      slot: 'n',
      entity: 'number',
      digits: { max: 2 },
      validate: 'n >= 1 && n <= 10',
      invalidSay: '{{n}} is not between 1 and 10.',
      confirm: 'That was {{n}}, right?',
    },
  ]) {
    const result = validateFlow(flowOf(states(collect)));
    assert.ok(result.ok, JSON.stringify(result.findings));
    assert.deepEqual(result.findings, []);
  }
  const bad = validateFlow(
    flowOf(
      states({
        slot: 'n',
        entity: 'number',
        validate: 'n >',
        invalidSay: ' ',
        confirm: 'Right, {{m}}?',
        extra: 1,
      } as never),
    ),
  );
  assert.deepEqual(
    errors(bad.findings).map((f) => f.pointer),
    [
      '/states/ask/collect/extra',
      '/states/ask/collect/validate',
      '/states/ask/collect/invalidSay',
      '/states/ask/collect/confirm',
    ],
  );
});

test('"set" counts as collecting: its slots may be spoken and tested downstream, not before', () => {
  const states: Record<string, StateDef> = {
    hello: { say: 'Hi.', on: { 'dtmf:1': 'tag', 'dtmf:2': 'read' } },
    tag: { set: { who: 'caller', label: '{{who}} x', empty: '' }, say: 'Tagged {{who}}.', next: 'read' },
    read: { say: 'You are {{who}}.', next: [{ if: 'who == "caller"', goto: 'bye' }, { goto: 'bye' }] },
    bye: { say: 'Bye.', hangup: true },
  };
  const findings = validateFlow(flowOf(states)).findings;
  assert.deepEqual(
    findings.map((f) => [f.severity, f.pointer]),
    [
      ['error', '/states/tag/set/label'],
      ['error', '/states/read/say'],
      ['warning', '/states/read/next/0/if'],
    ],
  );
  assert.match(findings[0]?.message ?? '', /worked out before any is stored/);
  assert.match(findings[1]?.message ?? '', /the path "hello" -> "read" never collects or sets it/);
  states.hello = { say: 'Hi.', on: { 'dtmf:1': 'tag' } };
  states.tag = { set: { who: 'caller' }, say: 'Tagged {{who}}.', next: 'read' };
  assert.deepEqual(validateFlow(flowOf(states)).findings, []);
});

test("a collecting state's next conditions read its own slot; its prompts do not have it yet", () => {
  const findings = staticChecks(
    flowOf({
      ask: {
        say: 'Size? Last time {{size}}.',
        collect: { slot: 'size', entity: 'number', confirm: '{{size}}, right?' },
        next: [{ if: 'size > 2', goto: 'big' }, { goto: 'bye' }],
      },
      big: { say: 'Big {{size}}.', hangup: true },
      bye: { say: 'Bye.', hangup: true },
    }),
  );
  assert.deepEqual(
    findings.map((f) => [f.severity, f.pointer]),
    [['error', '/states/ask/say']],
  );
});

test('global intents lead from every waiting state, unless the state binds the intent itself', () => {
  const intents = { operator: { examples: ['agent'], global: 'human' } };
  const states: Record<string, StateDef> = {
    menu: { say: 'Press 1.', on: { 'dtmf:1': 'ask' } },
    ask: { say: 'Number?', collect: { slot: 'n', entity: 'number' }, next: 'bye' },
    human: { say: 'Transferring, caller {{n}}.', hangup: true },
    bye: { say: 'Bye.', hangup: true },
  };
  // Reached through the global from "menu", before "n" is collected.
  assert.deepEqual(
    staticChecks(flowOf(states, { intents })).map((f) => [f.severity, f.pointer]),
    [['error', '/states/human/say']],
  );
  // Without the global, "human" is unreachable.
  assert.deepEqual(
    staticChecks(flowOf(states)).map((f) => [f.severity, f.pointer]),
    [['warning', '/states/human']],
  );
  // A state that handles the intent itself does not take the global.
  states.menu = { say: 'Press 1.', on: { 'dtmf:1': 'ask', operator: 'bye' } };
  states.ask = { say: 'Number?', collect: { slot: 'n', entity: 'number' }, next: 'human' };
  states.human = { say: 'Transferring, caller {{n}}.', hangup: true };
  assert.deepEqual(
    staticChecks(flowOf(states, { intents })).map((f) => [f.severity, f.pointer]),
    [['error', '/states/human/say']],
    'still reachable from "ask" by the global, before n is stored',
  );
});

test('the give-up state is a second root: reachable from anywhere, before any slot is collected', () => {
  const states: Record<string, StateDef> = {
    ask: { say: 'Number?', collect: { slot: 'n', digits: { max: 2 } }, next: 'bye' },
    bye: { say: 'Bye {{n}}.', hangup: true },
    sorry: { say: 'Sorry.', next: 'read' },
    read: { say: 'We had {{n}}.', hangup: true },
  };
  const withGiveUp = flowOf(states, { policy: { supervisor: { onGiveUp: 'sorry' } } });
  assert.deepEqual(
    staticChecks(withGiveUp).map((f) => [f.severity, f.pointer]),
    [['error', '/states/read/say']],
  );
  assert.deepEqual(
    staticChecks(flowOf(states)).map((f) => [f.severity, f.pointer]),
    [
      ['warning', '/states/sorry'],
      ['warning', '/states/read'],
    ],
  );
});

test('a prompt whose next choices may all fail falls through to the fallback', () => {
  const states: Record<string, StateDef> = {
    ask: { say: 'Number?', collect: { slot: 'n', entity: 'number' }, next: 'check' },
    check: { say: 'Checking.', next: [{ if: 'n > 5', goto: 'bye' }] },
    rescue: { say: 'Let us try again.', next: 'ask' },
    bye: { say: 'Bye.', hangup: true },
  };
  const fallback = { policy: { fallback: 'rescue' } };
  assert.deepEqual(staticChecks(flowOf(states, fallback)), []);
  // An unconditional last choice never falls through, and "ask" waits, so the fallback is reachable still.
  states.check = { say: 'Checking.', next: [{ if: 'n > 5', goto: 'bye' }, { goto: 'bye' }] };
  assert.deepEqual(staticChecks(flowOf(states, fallback)), []);
  // A fall-through into a state that loops back without waiting is a talking loop.
  const loop = staticChecks(
    flowOf(
      {
        ask: { say: 'Number?', collect: { slot: 'n', entity: 'number' }, next: 'check' },
        check: { say: 'Checking.', next: [{ if: 'n > 5', goto: 'bye' }] },
        rescue: { say: 'Again.', next: 'check' },
        bye: { say: 'Bye.', hangup: true },
      },
      fallback,
    ),
  );
  assert.deepEqual(
    loop.map((f) => [f.severity, f.pointer]),
    [
      ['error', '/states/check/next'],
      // The fallback from "ask" before "n" is stored leads to "check" too.
      ['warning', '/states/check/next/0/if'],
    ],
  );
  assert.match(loop[0]?.message ?? '', /"check" -> "rescue" -> "check"/);
});

test("a talking loop is found through any of a state's choices, reported once per loop", () => {
  const findings = staticChecks(
    flowOf({
      ask: { say: 'Number?', collect: { slot: 'n', entity: 'number' }, next: 'a' },
      a: { next: [{ if: 'n > 1', goto: 'b' }, { goto: 'c' }] },
      b: { say: 'B.', next: 'a' },
      c: { say: 'C.', next: [{ if: 'n', goto: 'a' }, { goto: 'ask' }] },
      d: { say: 'D.', next: 'd' },
    }),
  );
  assert.deepEqual(
    findings.map((f) => [f.severity, f.pointer, /"[^"]+"(?: -> "[^"]+")+/.exec(f.message)?.[0]]),
    [
      ['error', '/states/a/next', '"a" -> "b" -> "a"'],
      ['error', '/states/d/next', '"d" -> "d"'],
      ['warning', '/states/d', undefined],
    ],
  );
});

/** Each fixture breaks one rule of web requests, transfers, onError or env templates. */
const ACTION_FIXTURES: [string, boolean, [Finding['severity'], string, RegExp][]][] = [
  ['http-without-next.json', false, [['error', '/states/order/http', /needs "next"/]]],
  [
    'http-url.json',
    false,
    [['error', '/states/order/http/url', /must start with "http:\/\/" or "https:\/\/"/]],
  ],
  [
    'http-method.json',
    false,
    [['error', '/states/order/http/method', /one of GET, POST, PUT, PATCH, DELETE/]],
  ],
  ['http-get-body.json', false, [['error', '/states/order/http/body', /^a GET request has no body$/]]],
  [
    'http-headers.json',
    false,
    [
      ['error', '/states/order/http/headers/X Token', /header name is letters, digits and "-"/],
      ['error', '/states/order/http/headers/Idempotency-Key', /Idempotency-Key is set by Switchboard/],
      ['error', '/states/order/http/headers/content-type', /also given as "Content-Type"/],
    ],
  ],
  [
    'http-limits.json',
    false,
    [
      ['error', '/states/order/http/timeoutMs', /from 100 to 30000/],
      ['error', '/states/order/http/retries', /from 0 to 5/],
    ],
  ],
  [
    'http-map.json',
    false,
    [
      ['error', '/states/order/http/map/order id', /slot name/],
      ['error', '/states/order/http/map/eta', /JSON pointer/],
      ['error', '/states/order/http/map/code', /JSON pointer/],
    ],
  ],
  ['http-with-input.json', false, [['error', '/states/order/http', /cannot also wait for input/]]],
  ['http-hangup.json', false, [['error', '/states/order/hangup', /web request cannot also hang up/]]],
  [
    'http-transfer.json',
    false,
    [['error', '/states/order/transfer', /web request or transfers the call, not both/]],
  ],
  ['transfer-number.json', false, [['error', '/states/agent/transfer', /must be an E\.164 number/]]],
  ['transfer-next.json', false, [['error', '/states/agent/next', /transfers the call has no "next"/]]],
  ['transfer-hangup.json', false, [['error', '/states/agent/hangup', /transfers the call does not hang up/]]],
  ['transfer-with-input.json', false, [['error', '/states/agent/transfer', /cannot also wait for input/]]],
  [
    'on-error-misplaced.json',
    false,
    [['error', '/states/hello/onError', /onError applies only to a state with "http" or "transfer"/]],
  ],
  ['on-error-unknown.json', false, [['error', '/states/order/onError', /^unknown state "sory"$/]]],
  [
    'env-name.json',
    false,
    [
      ['error', '/states/order/say', /"\{\{env\.Region\}\}" is not an environment variable name/],
      ['error', '/states/order/http/url', /"\{\{env\.orders_url\}\}" is not an environment variable name/],
    ],
  ],
  [
    'http-slot-on-error.json',
    false,
    [
      [
        'error',
        '/states/sorry/say',
        /slot "orderId" may be spoken before it is collected: the path "order" -> "sorry"/,
      ],
    ],
  ],
  [
    'http-body-slot.json',
    false,
    [['error', '/states/order/http/body/items/0/name', /slot "pizza", which no state collects or sets/]],
  ],
  [
    'http-slot-in-request.json',
    false,
    [
      [
        'error',
        '/states/order/http/url',
        /slot "orderId" may be used before it is collected.*before the answer is stored/,
      ],
    ],
  ],
];

test('each rule of http, transfer, onError and env templates has its finding', async () => {
  for (const [file, ok, expected] of ACTION_FIXTURES) {
    const result = await check(file);
    assert.equal(result.ok, ok, `${file}: ${JSON.stringify(result.findings)}`);
    assert.deepEqual(
      result.findings.map((f) => [f.severity, f.pointer]),
      expected.map(([severity, pointer]) => [severity, pointer]),
      file,
    );
    expected.forEach(([, , pattern], i) => assert.match(result.findings[i]?.message ?? '', pattern, file));
  }
});

/** An order flow: ask, send the order, read back what the service answered. */
function orderFlow(order: Partial<StateDef> = {}, extra: Partial<FlowFile> = {}): FlowFile {
  return flowOf(
    {
      ask: { say: 'How many?', collect: { slot: 'count', entity: 'number' }, next: 'order' },
      order: {
        say: 'One moment.',
        http: {
          method: 'POST',
          url: '{{env.ORDERS_URL}}/orders',
          headers: { Authorization: 'Bearer {{env.ORDERS_TOKEN}}' },
          body: {
            count: '{{count}}',
            items: [{ kind: 'pizza', note: '{{env.SHOP_NAME|digits}}' }],
            rush: false,
          },
          timeoutMs: 3000,
          retries: 1,
          map: { orderId: '/id', eta: '/delivery/minutes', whole: '' },
        },
        next: [{ if: 'eta > 30', goto: 'slow' }, { goto: 'done' }],
        onError: 'agent',
        ...order,
      },
      slow: { say: 'Order {{orderId|digits}} takes {{eta}} minutes, sorry.', hangup: true },
      done: { say: 'Order {{orderId}} is on its way.', hangup: true },
      agent: { say: 'Let me put you through.', transfer: '{{env.SUPPORT_LINE}}', onError: 'bye' },
      bye: { say: 'Please call again later. Goodbye.', hangup: true },
    },
    extra,
  );
}

test('a web request, its mapped slots, a transfer and env templates validate without findings', () => {
  const result = validateFlow(orderFlow());
  assert.ok(result.ok, JSON.stringify(result.findings));
  assert.deepEqual(result.findings, []);
  const literal = orderFlow();
  literal.states.agent = { say: 'Transferring.', transfer: '+442071838750', onError: 'bye' };
  assert.deepEqual(validateFlow(literal).findings, []);
});

test('env names are never slots: no "no state collects it", no "read before collected"', () => {
  const result = validateFlow(
    flowOf({ hi: { say: 'Welcome to {{ env.SHOP_NAME }}, {{env._X1|digits}}.', hangup: true } }),
  );
  assert.deepEqual(result.findings, []);
  // A slot of the same spelling without "env." is a slot, and must be collected.
  const slot = validateFlow(flowOf({ hi: { say: 'Welcome to {{SHOP_NAME}}.', hangup: true } }));
  assert.deepEqual(
    errors(slot.findings).map((f) => [f.pointer, f.message]),
    [['/states/hi/say', 'template uses slot "SHOP_NAME", which no state collects or sets']],
  );
  const filter = validateFlow(flowOf({ hi: { say: '{{env.SHOP|loud}}', hangup: true } }));
  assert.match(errors(filter.findings)[0]?.message ?? '', /unknown template filter "loud"/);
  const bad = validateFlow(flowOf({ hi: { say: '{{env.}} {{env.1X}} {{env.A.B}}', hangup: true } }));
  assert.equal(errors(bad.findings).length, 3);
});

test('mapped slots are stored on the success path only', () => {
  // The error path reads a mapped slot.
  const onError = orderFlow({ onError: 'slow' });
  assert.deepEqual(
    errors(validateFlow(onError).findings).map((f) => f.message.slice(0, 13)),
    ['slot "eta" ma', 'slot "orderId'],
  );
  assert.ok(errors(validateFlow(onError).findings).every((f) => f.pointer === '/states/slow/say'));
  // A condition of onError reads a mapped slot: a warning, it sees the slot empty.
  const condition = orderFlow({ onError: [{ if: 'orderId', goto: 'done' }, { goto: 'agent' }] });
  const findings = validateFlow(condition).findings;
  assert.deepEqual(
    findings.map((f) => [f.severity, f.pointer]),
    [
      ['warning', '/states/order/onError/0/if'],
      // onError leads to "done" too, which speaks the slot.
      ['error', '/states/done/say'],
    ],
  );
  // The request itself cannot use what its answer will fill.
  const own = orderFlow();
  own.states.order = { ...own.states.order, say: 'Looking up {{eta}}.' };
  assert.deepEqual(
    errors(validateFlow(own).findings).map((f) => f.pointer),
    ['/states/order/say'],
  );
});

test('http and transfer states are ways in and out: onError, and the fallback when it is absent', () => {
  const flow = orderFlow({ onError: undefined }, { policy: { fallback: 'bye' } });
  delete flow.states.order?.onError;
  // "agent" is now reached by nothing.
  assert.deepEqual(
    staticChecks(flow).map((f) => [f.severity, f.pointer]),
    [['warning', '/states/agent']],
  );
  // Without onError on the transfer either, "bye" stays reachable through the fallback.
  flow.states.order = { ...flow.states.order, onError: 'agent' };
  flow.states.agent = { say: 'Transferring.', transfer: '+15555550100' };
  assert.deepEqual(staticChecks(flow), []);
  delete flow.policy;
  assert.deepEqual(
    staticChecks(flow).map((f) => [f.severity, f.pointer]),
    [['warning', '/states/bye']],
  );
});

test('a transfer is an end: no dead end; an http state needs next but no onError', () => {
  const transfer = validateFlow(flowOf({ agent: { say: 'Transferring.', transfer: '+15555550100' } }));
  assert.ok(transfer.ok, JSON.stringify(transfer.findings));
  const silent = validateFlow(
    flowOf({
      look: { http: { method: 'GET', url: 'https://x.example/{{env.ID}}' }, next: 'bye' },
      bye: { say: 'Bye.', hangup: true },
    }),
  );
  assert.deepEqual(silent.findings, []);
});

test('a cycle through a web request is not a talking loop: the call waits on the network', () => {
  const states: Record<string, StateDef> = {
    poll: { say: 'Checking your order.', http: { method: 'GET', url: 'https://x.example/s' }, next: 'wait' },
    wait: { say: 'Still cooking.', next: 'poll' },
  };
  assert.deepEqual(staticChecks(flowOf(states)), []);
  // The same cycle without the request talks forever.
  states.poll = { say: 'Checking your order.', next: 'wait' };
  assert.deepEqual(
    staticChecks(flowOf(states)).map((f) => [f.severity, f.pointer]),
    [['error', '/states/poll/next']],
  );
});

test('http and transfer shapes: wrong types and unknown keys are errors where they are', () => {
  const result = validateFlow(
    flowOf({
      a: { http: 'https://x.example' as never, next: 'b' },
      b: {
        http: {
          url: ' ',
          verb: 'GET',
          headers: { A: 1 },
          body: ['x'],
          map: 'id',
        } as never,
        next: 'c',
      },
      c: {
        http: { url: 'https://x.example', method: null, body: { deep: [[{ t: '{{nope}}' }]] } } as never,
        next: 'd',
      },
      d: { transfer: 15555550100 as never },
      e: { transfer: '{{ bad', onError: 'd' },
    }),
  );
  assert.deepEqual(
    errors(result.findings).map((f) => f.pointer),
    [
      '/states/a/http',
      '/states/b/http/verb',
      '/states/b/http/url',
      '/states/b/http/headers/A',
      '/states/b/http/body',
      '/states/b/http/map',
      '/states/c/http/method',
      '/states/c/http/body/deep/0/0/t',
      '/states/d/transfer',
      '/states/e/transfer',
    ],
  );
});

test('a body nested thousands deep is checked without overflowing the stack', () => {
  let body: unknown = '{{missing}}';
  for (let i = 0; i < 20_000; i++) body = [body];
  const flow = flowOf({
    a: { http: { url: 'https://x.example', body: { deep: body } }, next: 'b' },
    b: { say: 'Bye.', hangup: true },
  });
  const result = validateFlow(flow);
  assert.deepEqual(
    errors(result.findings).map((f) => f.message),
    ['template uses slot "missing", which no state collects or sets'],
  );
});

test('bargeIn and endOfTurnMs take only their documented values', () => {
  const flow = (state: Record<string, unknown>): FlowFile => ({
    id: 'listen',
    version: 1,
    start: 'ask',
    states: {
      ask: { say: 'Yes or no?', on: { yes: 'bye', no: 'bye' }, ...state },
      bye: { say: 'Bye.', hangup: true },
    },
  });
  for (const ok of [
    { bargeIn: true },
    { bargeIn: false },
    { bargeIn: 'dtmf' },
    { endOfTurnMs: 200 },
    { endOfTurnMs: 5000 },
  ])
    assert.ok(validateFlow(flow(ok)).ok, JSON.stringify(ok));
  for (const [bad, pointer] of [
    [{ bargeIn: 'speech' }, '/states/ask/bargeIn'],
    [{ bargeIn: 1 }, '/states/ask/bargeIn'],
    [{ endOfTurnMs: 150 }, '/states/ask/endOfTurnMs'],
    [{ endOfTurnMs: 700.5 }, '/states/ask/endOfTurnMs'],
    [{ endOfTurnMs: '700' }, '/states/ask/endOfTurnMs'],
  ] as const) {
    const result = validateFlow(flow(bad));
    assert.ok(!result.ok, JSON.stringify(bad));
    assert.deepEqual(
      errors(result.findings).map((f) => f.pointer),
      [pointer],
    );
  }
});
