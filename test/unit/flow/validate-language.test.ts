/** The spoken-input language: intents, entities, "on" inputs, choices, collect, retries, listening. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateFlow, type Finding, type FlowFile, type StateDef } from '../../../src/flow/index.ts';
import { check, errors, flowOf } from './validate-helpers.ts';

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
