import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { flowSchemaText, SCHEMA_FILE } from '../../../scripts/flow-schema.ts';
import { DTMF_KEYS } from '../../../src/common/dtmf.ts';
import { validateFlow } from '../../../src/flow/validate.ts';
import { EXAMPLE_FLOWS, exampleFlowFile } from '../../fixtures/example-flows.ts';

const schemaText = await readFile(SCHEMA_FILE, 'utf8');
const schema = JSON.parse(schemaText) as Record<string, unknown>;
// Strict, so an unknown keyword or a loose type fails here rather than being ignored by editors; except
// strictRequired, which objects to the combination rules naming properties their parent schema declares.
const checkSchema = new Ajv2020({ strict: true, strictRequired: false, allErrors: true }).compile(schema);

const schemaAccepts = (flow: unknown): boolean => checkSchema(flow);

/** A valid flow using every feature, for the invalid cases to break one thing at a time. */
const base = {
  $schema: './flow.schema.json',
  id: 'base',
  version: 1,
  language: 'en-US',
  voice: 'rms',
  start: 'menu',
  states: {
    menu: { say: 'Press 1 to leave a number.', on: { 'dtmf:1': 'ask', 'dtmf:#': 'bye' }, noMatchSay: 'Hmm.' },
    ask: {
      say: 'Enter your number, then the pound key.',
      collect: { slot: 'number', digits: { min: 3, max: 15, terminator: '#' } },
      next: 'confirm',
      noInputSay: 'Still there?',
    },
    confirm: { say: 'You entered {{number|digits}}.', next: 'bye' },
    bye: { say: 'Goodbye.', hangup: true },
  },
  policy: {
    noInputMs: 6000,
    maxRetries: 2,
    fallback: 'bye',
    noInputSay: 'Sorry?',
    noMatchSay: 'Pardon?',
    supervisor: { maxRestarts: 3, withinMs: 60_000 },
  },
};

/** The base flow with the value at `pointer` replaced, or removed when `value` is undefined. */
function variant(pointer: string, value: unknown, from: object = base): unknown {
  const flow = structuredClone(from) as Record<string, unknown>;
  const keys = pointer.split('/').slice(1);
  const last = keys.pop() ?? '';
  let parent: Record<string, unknown> = flow;
  for (const key of keys) parent = parent[key] as Record<string, unknown>;
  if (value === undefined) delete parent[last];
  else parent[last] = value;
  return flow;
}

/** A valid flow using every feature of the spoken-input language. */
const rich = {
  $schema: './flow.schema.json',
  id: 'pizza',
  version: 3,
  start: 'greet',
  intents: {
    order: { examples: ['I want a pizza', 'order please'] },
    operator: { examples: ['agent', 'a real person'], global: 'transfer' },
    cancel: { examples: ['cancel', 'stop'], global: 'bye' },
  },
  entities: { size: { values: { large: ['big', 'family size'], small: [] } } },
  states: {
    greet: {
      say: 'Welcome. Say order, or press 1.',
      set: { label: '' },
      on: { order: 'size', 'dtmf:1': 'size', repeat: 'greet' },
      noMatchSay: ['Sorry?', 'Say order, or press 1.'],
      noInputSay: 'Are you there?',
      resumeSay: 'Where were we? Say order, or press 1.',
    },
    size: {
      say: 'Large or small?',
      collect: { slot: 'size', entity: 'size', confirm: 'That was {{size}}, right?' },
      next: 'count',
    },
    count: {
      say: 'How many?',
      collect: {
        slot: 'count',
        entity: 'number',
        digits: { max: 2, terminator: '#' },
        validate: 'count >= 1 && count <= 10',
        invalidSay: 'Between one and ten, please.',
      },
      next: 'route',
    },
    route: {
      set: { label: '{{count}} {{size}}' },
      next: [{ if: 'size == "large" && count >= 2', goto: 'party' }, { goto: 'done' }],
    },
    party: { say: 'A party! {{label}} pizzas.', next: 'done' },
    done: {
      say: 'Is that all?',
      on: { yes: 'bye', no: [{ if: 'size in ["large"] || !label', goto: 'size' }, { goto: 'count' }] },
    },
    transfer: { say: 'Transferring you.', hangup: true },
    bye: { say: 'Goodbye.', hangup: true },
    sorry: { say: 'Sorry, something went wrong.', hangup: true },
  },
  policy: {
    fallback: 'bye',
    noInputSay: ['Are you there?', ''],
    noMatchSay: 'Pardon?',
    supervisor: { maxRestarts: 2, onGiveUp: 'sorry' },
  },
};

/** A valid flow with a web request, a transfer and environment templates. */
const acting = {
  $schema: './flow.schema.json',
  id: 'orders',
  version: 1,
  start: 'ask',
  states: {
    ask: { say: 'How many?', collect: { slot: 'count', entity: 'number' }, next: 'order' },
    order: {
      say: 'One moment.',
      http: {
        method: 'POST',
        url: '{{env.ORDERS_URL}}/orders',
        headers: { Authorization: 'Bearer {{env.ORDERS_TOKEN}}', 'X-Shop': 'main' },
        body: { count: '{{count}}', rush: false, items: [{ kind: 'pizza' }] },
        timeoutMs: 3000,
        retries: 2,
        map: { orderId: '/id', eta: '/delivery/minutes' },
      },
      next: [{ if: 'eta > 30', goto: 'slow' }, { goto: 'done' }],
      onError: 'agent',
    },
    slow: { say: 'Order {{orderId|digits}} takes {{eta}} minutes.', hangup: true },
    done: { say: 'Order {{orderId}} is on its way.', hangup: true },
    agent: { say: 'Putting you through.', transfer: '{{env.SUPPORT_LINE}}', onError: 'desk' },
    desk: { transfer: '+15555550100' },
  },
};

/** The acting flow with the value at `pointer` replaced, or removed when `value` is undefined. */
function actingVariant(pointer: string, value: unknown): unknown {
  return variant(pointer, value, acting);
}

/** The rich flow with the value at `pointer` replaced, or removed when `value` is undefined. */
function richVariant(pointer: string, value: unknown): unknown {
  return variant(pointer, value, rich);
}

/** A flow calling one sub-flow twice, the second time with a conditional next. */
const calling = {
  id: 'calling',
  version: 1,
  start: 'home',
  subflows: {
    address: {
      start: 'zip',
      states: {
        zip: { say: 'Zip code?', collect: { slot: 'zip', digits: { max: 5 } }, next: '$return' },
      },
    },
  },
  states: {
    home: { call: 'address', set: { kind: 'home' }, next: 'work' },
    work: { call: 'address', next: [{ if: 'zip == "12345"', goto: 'near' }, { goto: 'bye' }] },
    near: { say: 'Near {{kind}} {{zip}}.', next: 'bye' },
    bye: { say: 'Bye.', hangup: true },
  },
};
const callingVariant = (pointer: string, value: unknown): unknown => variant(pointer, value, calling);

const invalid: [string, unknown][] = [
  ['a state name with "--"', callingVariant('/states/a--b', { say: 'Hi.', next: 'bye' })],
  [
    'a sub-flow state name with "--"',
    callingVariant('/subflows/address/states/a--b', { say: 'Hi.', next: 'zip' }),
  ],
  ['a calling state without next', callingVariant('/states/home/next', undefined)],
  ['a calling state that speaks', callingVariant('/states/home/say', 'Hi.')],
  ['a calling state that collects', callingVariant('/states/home/collect', { slot: 'x', entity: 'number' })],
  ['a calling state that hangs up', callingVariant('/states/home/hangup', true)],
  ['a calling state with on', callingVariant('/states/home/on', { yes: 'bye' })],
  ['a sub-flow state that calls', callingVariant('/subflows/address/states/zip/call', 'address')],
  ['a sub-flow without states', callingVariant('/subflows/address/states', {})],
  ['a sub-flow without start', callingVariant('/subflows/address/start', undefined)],
  ['unknown key in a sub-flow', callingVariant('/subflows/address/end', 'zip')],
  ['a call that is not a name', callingVariant('/states/home/call', 'an address')],
  ['intent name with "-"', richVariant('/intents/talk-to-human', { examples: ['agent'] })],
  ['intent without examples', richVariant('/intents/order/examples', [])],
  ['an empty example', richVariant('/intents/order/examples', [''])],
  ['unknown key in an intent', richVariant('/intents/order/globel', 'bye')],
  ['a global that is not a state name', richVariant('/intents/operator/global', 'the desk')],
  ['entity named as a built-in', richVariant('/entities/number', { values: { one: [] } })],
  ['entity without values', richVariant('/entities/size/values', {})],
  ['a synonym list that is text', richVariant('/entities/size/values/large', 'big')],
  ['an empty synonym', richVariant('/entities/size/values/small', [''])],
  ['unknown key in an entity', richVariant('/entities/size/synonyms', {})],
  ['unknown key in a choice', richVariant('/states/route/next/0/when', 'count > 2')],
  ['a choice without goto', richVariant('/states/route/next/1', { if: 'size' })],
  ['an empty condition', richVariant('/states/route/next/0/if', ' ')],
  ['an empty target list', richVariant('/states/route/next', [])],
  ['an on target list that is empty', richVariant('/states/done/on/no', [])],
  ['collect with neither digits nor entity', richVariant('/states/size/collect', { slot: 'size' })],
  ['an empty confirm', richVariant('/states/size/collect/confirm', '')],
  ['an empty invalidSay', richVariant('/states/count/collect/invalidSay', ' ')],
  ['a set slot name with a space', richVariant('/states/route/set', { 'my label': 'x' })],
  ['a set value that is a number', richVariant('/states/route/set/label', 2)],
  ['an empty list of retry prompts in a state', richVariant('/states/greet/noMatchSay', [])],
  ['an empty retry prompt in a state list', richVariant('/states/greet/noMatchSay', ['Sorry?', ''])],
  ['an empty list of retry prompts in the policy', richVariant('/policy/noInputSay', [])],
  ['an empty resumeSay', richVariant('/states/greet/resumeSay', '')],
  ['onGiveUp that is not a state name', richVariant('/policy/supervisor/onGiveUp', 'say sorry')],
  ['an entity name that is not a name', richVariant('/states/size/collect/entity', 'pizza size')],
  ['unknown key at the root', variant('/colour', 'red')],
  ['unknown key in a state', variant('/states/menu/sya', 'Hi')],
  ['unknown key in collect', variant('/states/ask/collect/slots', 'n')],
  ['unknown key in digits', variant('/states/ask/collect/digits/maximum', 3)],
  ['unknown key in policy', variant('/policy/noInput', 5000)],
  ['unknown key in supervisor', variant('/policy/supervisor/giveUp', 'bye')],
  ['id starting with "-"', variant('/id', '-base')],
  ['id with a space', variant('/id', 'my flow')],
  ['id of 65 characters', variant('/id', 'a'.repeat(65))],
  ['version 0', variant('/version', 0)],
  ['version 1.5', variant('/version', 1.5)],
  ['on key "press 1"', variant('/states/menu/on', { 'press 1': 'ask' })],
  ['on key "dtmf:E"', variant('/states/menu/on', { 'dtmf:E': 'ask' })],
  ['on key "dtmf:12"', variant('/states/menu/on', { 'dtmf:12': 'ask' })],
  ['digits max 0', variant('/states/ask/collect/digits/max', 0)],
  ['digits min 65', variant('/states/ask/collect/digits/min', 65)],
  ['terminator "x"', variant('/states/ask/collect/digits/terminator', 'x')],
  ['digits with neither max nor terminator', variant('/states/ask/collect/digits', { min: 2 })],
  ['slot with a space', variant('/states/ask/collect/slot', 'my number')],
  ['noInputMs 10', variant('/policy/noInputMs', 10)],
  ['noInputMs 120001', variant('/policy/noInputMs', 120_001)],
  ['maxRetries 11', variant('/policy/maxRetries', 11)],
  ['maxRestarts -1', variant('/policy/supervisor/maxRestarts', -1)],
  ['withinMs 0', variant('/policy/supervisor/withinMs', 0)],
  ['empty say', variant('/states/menu/say', '')],
  ['blank say', variant('/states/menu/say', ' \n\t')],
  ['empty noInputSay in a state', variant('/states/ask/noInputSay', '')],
  ['states empty', variant('/states', {})],
  ['state name starting with a digit', variant('/states/1st', { say: 'Hi.', hangup: true })],
  ['state name starting with "$"', variant('/states/$boot', { say: 'Hi.', hangup: true })],
  ['id not a string', variant('/id', 5)],
  ['version a string', variant('/version', '1')],
  ['states an array', variant('/states', [base.states.menu])],
  ['a state not an object', variant('/states/bye', 'Goodbye.')],
  ['hangup a string', variant('/states/bye/hangup', 'yes')],
  ['say a number', variant('/states/menu/say', 1)],
  ['on a list', variant('/states/menu/on', ['dtmf:1'])],
  ['policy a string', variant('/policy', 'strict')],
  ['language a number', variant('/language', 1)],
  ['missing id', variant('/id', undefined)],
  ['missing start', variant('/start', undefined)],
  ['missing states', variant('/states', undefined)],
  ['collect without next', variant('/states/ask/next', undefined)],
  ['collect and on together', variant('/states/ask/on', { 'dtmf:0': 'menu' })],
  ['a dead end', variant('/states/confirm/next', undefined)],
  ['hangup while waiting for input', variant('/states/menu/hangup', true)],
  ['a target that is not a state name', variant('/states/confirm/next', 'good bye')],
  ['not an object', ['menu']],
  ['null', null],
  ['http without next', actingVariant('/states/order/next', undefined)],
  ['http without url', actingVariant('/states/order/http/url', undefined)],
  ['an ftp url', actingVariant('/states/order/http/url', 'ftp://x.example/orders')],
  ['a url without a scheme', actingVariant('/states/order/http/url', 'api.example.com/orders')],
  ['method FETCH', actingVariant('/states/order/http/method', 'FETCH')],
  ['a GET with a body', actingVariant('/states/order/http/method', 'GET')],
  ['a DELETE with a body', actingVariant('/states/order/http/method', 'DELETE')],
  ['a header name with a space', actingVariant('/states/order/http/headers/X Shop', 'a')],
  ['an Idempotency-Key header', actingVariant('/states/order/http/headers/idempotency-key', 'k')],
  ['a header value that is a number', actingVariant('/states/order/http/headers/X-Shop', 1)],
  ['a body that is a list', actingVariant('/states/order/http/body', ['x'])],
  ['timeoutMs 99', actingVariant('/states/order/http/timeoutMs', 99)],
  ['timeoutMs 30001', actingVariant('/states/order/http/timeoutMs', 30_001)],
  ['retries 6', actingVariant('/states/order/http/retries', 6)],
  ['retries 1.5', actingVariant('/states/order/http/retries', 1.5)],
  ['a map slot with a "-"', actingVariant('/states/order/http/map/order-id', '/id')],
  ['a map pointer without "/"', actingVariant('/states/order/http/map/eta', 'eta')],
  ['a map pointer with "~2"', actingVariant('/states/order/http/map/eta', '/a~2b')],
  ['unknown key in http', actingVariant('/states/order/http/verb', 'GET')],
  ['http that waits for input', actingVariant('/states/order/on', { 'dtmf:1': 'done' })],
  ['http that hangs up', actingVariant('/states/order/hangup', true)],
  ['http and transfer', actingVariant('/states/order/transfer', '+15555550100')],
  ['a transfer number with spaces', actingVariant('/states/desk/transfer', '+1 555 555 0100')],
  ['a transfer number without "+"', actingVariant('/states/desk/transfer', '15555550100')],
  ['an empty transfer', actingVariant('/states/desk/transfer', '')],
  ['a transfer with next', actingVariant('/states/desk/next', 'done')],
  ['a transfer that hangs up', actingVariant('/states/desk/hangup', true)],
  ['a transfer that collects', actingVariant('/states/desk/collect', { slot: 'x', entity: 'number' })],
  ['onError on a prompt state', actingVariant('/states/ask/onError', 'done')],
  ['onError that is not a state name', actingVariant('/states/order/onError', 'the desk')],
];

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
    'FlowPolicy',
    'HttpDef',
    'IntentDef',
    'RetryPrompt',
    'SpeechFailoverPolicy',
    'StateDef',
    'SubflowDef',
    'SupervisorPolicy',
    'Target',
    'TargetChoice',
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

test('what only validateFlow can tell: the schema accepts these, validateFlow refuses them', () => {
  const cases: [string, unknown, string][] = [
    ['an undefined intent', richVariant('/states/done/on/maybe', 'bye'), '/states/done/on/maybe'],
    [
      'an undefined entity',
      richVariant('/states/size/collect/entity', 'colour'),
      '/states/size/collect/entity',
    ],
    [
      'a condition that does not parse',
      richVariant('/states/route/next/0/if', 'size = 2'),
      '/states/route/next/0/if',
    ],
    [
      'an example under two intents',
      richVariant('/intents/cancel/examples/1', 'Agent!'),
      '/intents/cancel/examples/1',
    ],
    [
      'a synonym under two values',
      richVariant('/entities/size/values/small', ['BIG']),
      '/entities/size/values/small/0',
    ],
    ['a goto to no state', richVariant('/states/route/next/1/goto', 'gone'), '/states/route/next/1/goto'],
    [
      'a condition on a slot never stored',
      richVariant('/states/route/next/0/if', 'vip'),
      '/states/route/next/0/if',
    ],
    [
      'an env name in lower case',
      actingVariant('/states/order/http/url', '{{env.orders_url}}/orders'),
      '/states/order/http/url',
    ],
    [
      'a header repeated in another case',
      actingVariant('/states/order/http/headers/x-shop', 'b'),
      '/states/order/http/headers/x-shop',
    ],
    [
      'a transfer template with an uncollected slot',
      actingVariant('/states/desk/transfer', '{{desk_number}}'),
      '/states/desk/transfer',
    ],
    ['a call of an undefined sub-flow', callingVariant('/states/home/call', 'adress'), '/states/home/call'],
    ['"$return" outside a sub-flow', callingVariant('/states/near/next', '$return'), '/states/near/next'],
    [
      'a sub-flow target naming a state of the flow',
      callingVariant('/subflows/address/states/zip/next', 'bye'),
      '/subflows/address/states/zip/next',
    ],
    [
      'a sub-flow start that is not one of its states',
      callingVariant('/subflows/address/start', 'street'),
      '/subflows/address/start',
    ],
    [
      'a sub-flow speaking a slot before any path collects it',
      callingVariant('/subflows/address/states/zip/say', 'Zip code for {{street}}?'),
      '/subflows/address/states/zip/say',
    ],
    [
      'a mapped slot spoken on the error path',
      actingVariant('/states/desk', { say: 'Order {{orderId}} failed.', transfer: '+15555550100' }),
      '/states/desk/say',
    ],
  ];
  for (const [name, flow, pointer] of cases) {
    assert.ok(schemaAccepts(flow), `${name}: schema says ${JSON.stringify(checkSchema.errors)}`);
    const result = validateFlow(flow);
    assert.equal(result.ok, false, name);
    assert.deepEqual(
      result.findings.filter((f) => f.severity === 'error').map((f) => f.pointer),
      [pointer],
      name,
    );
  }
});

test('invalid flows are refused by both the schema and validateFlow', () => {
  assert.ok(invalid.length >= 100);
  for (const [name, flow] of invalid) {
    assert.equal(schemaAccepts(flow), false, `${name}: the schema accepts it`);
    assert.equal(validateFlow(flow).ok, false, `${name}: validateFlow accepts it`);
  }
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
