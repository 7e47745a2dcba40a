/** Shared by the schema-*.test.ts files: the committed schema compiled strictly, and valid flows to vary. */
import { readFile } from 'node:fs/promises';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { SCHEMA_FILE } from '../../../scripts/flow-schema.ts';

export const schemaText = await readFile(SCHEMA_FILE, 'utf8');
export const schema = JSON.parse(schemaText) as Record<string, unknown>;
// Strict, so an unknown keyword or a loose type fails here rather than being ignored by editors; except
// strictRequired, which objects to the combination rules naming properties their parent schema declares.
export const checkSchema = new Ajv2020({ strict: true, strictRequired: false, allErrors: true }).compile(
  schema,
);

export const schemaAccepts = (flow: unknown): boolean => checkSchema(flow);

/** A valid flow using every feature, for the invalid cases to break one thing at a time. */
export const base = {
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
export function variant(pointer: string, value: unknown, from: object = base): unknown {
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
export const rich = {
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
export const acting = {
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
export function actingVariant(pointer: string, value: unknown): unknown {
  return variant(pointer, value, acting);
}

/** The rich flow with the value at `pointer` replaced, or removed when `value` is undefined. */
export function richVariant(pointer: string, value: unknown): unknown {
  return variant(pointer, value, rich);
}

/** A flow calling one sub-flow twice, the second time with a conditional next. */
export const calling = {
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
export const callingVariant = (pointer: string, value: unknown): unknown => variant(pointer, value, calling);
