/** Flow text and files: JSON syntax, duplicate keys, types, unknown keys, size limits, the validate CLI. */
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
  validateFlow,
  type Finding,
  type StateDef,
} from '../../../src/flow/index.ts';
import { generatedFlow } from '../../fixtures/generated-flow.ts';
import { captureConsole } from '../../fixtures/console.ts';
import { at, check, demoPath, errors, fixture, flowOf } from './validate-helpers.ts';

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

test('"$schema" must be a string', () => {
  const result = validateFlow({ ...flowOf({ hello: { say: 'Hi', hangup: true } }), $schema: 7 });
  assert.equal(result.ok, false);
  assert.equal(at(result.findings, '/$schema').length, 1);
});
