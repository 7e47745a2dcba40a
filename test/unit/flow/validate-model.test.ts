/** A flow's `model`: where a model trained elsewhere is, and how its labels map onto the flow's intents. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateFlow } from '../../../src/flow/index.ts';
import { at, errors, flowOf } from './validate-helpers.ts';

const base = (model: unknown) =>
  validateFlow({
    ...flowOf({
      ask: { say: 'How can I help?', on: { refill: 'done' } },
      done: { say: 'Bye.', hangup: true },
    }),
    intents: { refill: { examples: ['refill my prescription'] } },
    model,
  });

test('a model with a path, a label map and a threshold is accepted', () => {
  const result = base({
    path: '../models/pharmacy',
    labels: { LABEL_0: 'refill', LABEL_1: 'yes', oos: null },
    threshold: 0.4,
  });
  assert.deepEqual(errors(result.findings), []);
  assert.ok(result.ok);
  assert.equal(result.flow.model?.path, '../models/pharmacy');
});

test('each problem with a model is reported at its JSON pointer', () => {
  const cases: [unknown, string, RegExp][] = [
    ['models/x', '/model', /model must be an object/],
    [{}, '/model/path', /path must name the model's folder/],
    [{ path: '  ' }, '/model/path', /path must name/],
    [{ path: 'm', threshold: 1.5 }, '/model/threshold', /from 0 to 1/],
    [{ path: 'm', threshold: '0.5' }, '/model/threshold', /from 0 to 1/],
    [{ path: 'm', labels: ['refill'] }, '/model/labels', /map model labels to intent names/],
    [
      { path: 'm', labels: { LABEL_0: 'refil' } },
      '/model/labels/LABEL_0',
      /"refil" is not an intent of this flow/,
    ],
    [{ path: 'm', labels: { LABEL_0: 3 } }, '/model/labels/LABEL_0', /maps to an intent name, or to null/],
    [{ path: 'm', dir: 'x' }, '/model/dir', /unknown property "dir"/],
  ];
  for (const [model, pointer, message] of cases) {
    const result = base(model);
    assert.equal(result.ok, false, JSON.stringify(model));
    const found = at(errors(result.findings), pointer);
    assert.equal(found.length, 1, `${JSON.stringify(model)}: ${JSON.stringify(result.findings)}`);
    assert.match(found[0]!.message, message);
  }
});
