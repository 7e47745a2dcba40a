/** The flow schema itself, and flows it and validateFlow both accept: examples, variants, docs/flows.md. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { flowSchemaText } from '../../../scripts/flow-schema.ts';
import { DTMF_KEYS } from '../../../src/common/dtmf.ts';
import { validateFlow } from '../../../src/flow/validate.ts';
import { EXAMPLE_FLOWS, exampleFlowFile } from '../../fixtures/example-flows.ts';
import {
  acting,
  actingVariant,
  base,
  calling,
  checkSchema,
  rich,
  richVariant,
  schema,
  schemaAccepts,
  schemaText,
  variant,
} from './schema-fixture.ts';

test('the committed flows/flow.schema.json is what scripts/flow-schema.ts generates', async () => {
  assert.equal(schemaText, await flowSchemaText(), 'out of date: run npm run schema');
});

test('the schema is JSON Schema 2020-12 with $defs only', () => {
  assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
  assert.equal(typeof schema.$id, 'string');
  assert.equal(typeof schema.title, 'string');
  assert.equal(typeof schema.description, 'string');
  const defs = schema.$defs as Record<string, unknown>;
  const objects: Record<string, unknown>[] = [];
  const walk = (node: unknown): void => {
    if (typeof node !== 'object' || node === null) return;
    if (Array.isArray(node)) return node.forEach(walk);
    const o = node as Record<string, unknown>;
    assert.ok(!('definitions' in o), 'no draft-07 definitions');
    if (typeof o.$ref === 'string') {
      const name = /^#\/\$defs\/(\w+)$/.exec(o.$ref)?.[1];
      assert.ok(name !== undefined && name in defs, `$ref ${o.$ref} resolves in $defs`);
    }
    if ('properties' in o) objects.push(o);
    Object.values(o).forEach(walk);
  };
  walk(schema);
  for (const o of objects) {
    if (o.type === 'object') assert.equal(o.additionalProperties, false, 'flow objects refuse unknown keys');
  }
  assert.deepEqual(Object.keys(defs).sort(), [
    'CollectDef',
    'DigitsDef',
    'EntityDef',
    'FlowOn',
    'FlowPolicy',
    'HttpDef',
    'IntentDef',
    'ModelDef',
    'RetryPrompt',
    'SpeechFailoverPolicy',
    'StateDef',
    'SubflowDef',
    'SupervisorPolicy',
    'Target',
    'TargetChoice',
    'TransferDef',
  ]);
});

test('every example flow passes the schema and validateFlow', async () => {
  for (const id of EXAMPLE_FLOWS) {
    const flow: unknown = JSON.parse(await readFile(exampleFlowFile(id), 'utf8'));
    assert.ok(schemaAccepts(flow), `${id}: ${JSON.stringify(checkSchema.errors)}`);
    assert.ok(validateFlow(flow).ok, `${id}: ${JSON.stringify(validateFlow(flow))}`);
  }
});

test('valid variants pass both the schema and validateFlow', () => {
  const valid: [string, unknown][] = [
    ['the base flow', base],
    ['a flow calling a sub-flow', calling],
    ['a minimal flow', { id: 'x', version: 1, start: 'a', states: { a: { say: 'Bye.', hangup: true } } }],
    ['a state with only next', variant('/states/confirm', { next: 'bye' })],
    ['digits with only max', variant('/states/ask/collect/digits', { max: 4 })],
    ['digits with only a terminator', variant('/states/ask/collect/digits', { terminator: '*' })],
    ['hangup false with next', variant('/states/confirm/hangup', false)],
    ['noInputMs at its maximum', variant('/policy/noInputMs', 120_000)],
    ['maxRetries 0', variant('/policy/maxRetries', 0)],
    ['an empty policy apology', variant('/policy/noInputSay', '')],
    ['every feature of spoken input', rich],
    ['a web request, a transfer and env templates', acting],
    [
      'a GET without a body',
      actingVariant('/states/order/http', {
        method: 'GET',
        url: 'https://x.example/quote?n={{count}}',
        map: { orderId: '/id', eta: '/eta' },
      }),
    ],
    ['a url that is a template', actingVariant('/states/order/http/url', '{{ env.ORDERS_URL }}')],
    ['a map to the whole answer', actingVariant('/states/order/http/map/eta', '')],
    ['a map pointer with escapes', actingVariant('/states/order/http/map/eta', '/a~1b/~0c/0')],
    [
      'http with no say and no onError',
      actingVariant('/states/order', {
        http: { url: 'http://x.example', map: { orderId: '/id', eta: '/eta' } },
        next: 'done',
      }),
    ],
    [
      'a transfer as the only state',
      { id: 't', version: 1, start: 'a', states: { a: { transfer: '+4930123456' } } },
    ],
    ['a transfer mixing a number and a template', actingVariant('/states/desk/transfer', '+1555{{env.EXT}}')],
    [
      'a last choice with a condition',
      richVariant('/states/route/next/1', { if: 'count > 0', goto: 'done' }),
    ],
    ['an empty synonym list', richVariant('/entities/size/values/large', [])],
    [
      'a built-in intent given examples and made global',
      richVariant('/intents/repeat', { examples: ['again'], global: 'greet' }),
    ],
    ['an entity-only collect', richVariant('/states/count/collect', { slot: 'count', entity: 'number' })],
    ['a keypad-only collect', richVariant('/states/count/collect', { slot: 'count', digits: { max: 2 } })],
    ['a slot cleared with an empty value', richVariant('/states/route/set/label', '')],
    ['no policy', variant('/policy', undefined)],
    ['an answering machine leading to a state', variant('/on', { machine: 'bye' })],
    [
      'a call recorded from its start, with a sensitive state',
      variant(
        '/record',
        'This call is recorded, {{call.vars.name}}.',
        variant('/states/ask/sensitive', true) as object,
      ),
    ],
    ['a state that starts the recording', variant('/states/confirm/record', 'Recorded for {{env.SHOP}}.')],
    [
      'sensitive false beside a record line',
      variant('/states/menu', { ...base.states.menu, record: 'Recorded.', sensitive: false }),
    ],
    [
      'every keypad key',
      variant('/states/menu/on', Object.fromEntries([...DTMF_KEYS].map((k) => [`dtmf:${k}`, 'bye']))),
    ],
  ];
  for (const [name, flow] of valid) {
    assert.ok(schemaAccepts(flow), `${name}: schema says ${JSON.stringify(checkSchema.errors)}`);
    const result = validateFlow(flow);
    assert.ok(result.ok, `${name}: validateFlow says ${JSON.stringify(result)}`);
  }
});

test('the flow using every feature validates without findings', () => {
  const result = validateFlow(rich);
  assert.ok(result.ok);
  assert.deepEqual(result.findings, []);
});

test('every JSON example in docs/flows.md passes the schema and validateFlow without findings', async () => {
  const docs = await readFile(fileURLToPath(new URL('../../../docs/flows.md', import.meta.url)), 'utf8');
  const blocks = [...docs.matchAll(/^```json\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? '');
  assert.ok(blocks.length >= 13, `only ${blocks.length} examples found`);
  const ids = new Set<string>();
  for (const block of blocks) {
    // A block is a whole flow, or a `"policy": {...}` member shown on its own.
    const value = JSON.parse(block.trimStart().startsWith('{') ? block : `{${block}}`) as Record<
      string,
      unknown
    >;
    const flow =
      'states' in value
        ? value
        : { id: 'policy', version: 1, start: 'a', states: { a: { say: 'Hi.', hangup: true } }, ...value };
    assert.ok(
      'states' in value || Object.keys(value).join() === 'policy',
      `not a flow or a policy: ${block}`,
    );
    if (typeof flow.id === 'string') ids.add(flow.id);
    assert.ok(schemaAccepts(flow), `${block}\nschema: ${JSON.stringify(checkSchema.errors)}`);
    const result = validateFlow(flow);
    assert.ok(result.ok, `${block}\n${JSON.stringify(result.findings)}`);
    assert.deepEqual(result.findings, [], block);
  }
  assert.equal(ids.size, blocks.length, 'each example has its own id');
});
