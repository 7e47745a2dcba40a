/**
 * Every action of the table (src/flow/actions/) carries a docs example, and docs/flows.md documents every key an
 * action owns: an example that stops validating, or a key added without docs, fails here.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ACTIONS } from '../../../src/flow/actions/index.ts';
import { validateFlow } from '../../../src/flow/index.ts';

const docs = readFileSync(new URL('../../../docs/flows.md', import.meta.url), 'utf8');

/** Every state name a JSON value leads to (`next`, `onError`, `on` values, choices' `goto`). */
function targets(state: Record<string, unknown>): string[] {
  const of = (to: unknown): string[] =>
    typeof to === 'string'
      ? [to]
      : Array.isArray(to)
        ? to.flatMap((c) => (typeof c === 'object' && c !== null ? of((c as { goto?: unknown }).goto) : []))
        : [];
  const on = (state.on ?? {}) as Record<string, unknown>;
  return [...of(state.next), ...of(state.onError), ...Object.values(on).flatMap(of)];
}

/** The example as the one state of a flow: a first state sets the slots it reads, stubs end where it leads. */
function flowAround(example: Record<string, unknown>) {
  const stubs = Object.fromEntries(
    targets(example)
      .filter((to) => to !== '$return')
      .map((to) => [to, { say: 'Goodbye.', hangup: true }]),
  );
  return {
    id: 'example',
    version: 1,
    start: 'setup',
    intents: { agent: { examples: ['agent', 'a person please'] } },
    subflows: { address: { start: 'street', states: { street: { say: 'Your street?', next: '$return' } } } },
    states: {
      setup: { set: { size: 'small', count: '1' }, next: 'example' },
      example,
      ...stubs,
    },
  };
}

for (const action of ACTIONS) {
  test(`the ${action.name} action's example is a valid state, and docs/flows.md documents its keys`, () => {
    const result = validateFlow(flowAround(action.example));
    const errors = result.findings.filter((f) => f.severity === 'error');
    assert.deepEqual(errors, []);
    for (const key of action.keys)
      assert.ok(docs.includes(`\`${key}\``), `docs/flows.md does not mention \`${key}\``);
  });
}
