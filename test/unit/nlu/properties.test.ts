import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

import fc from 'fast-check';

import {
  BUILTIN_ENTITIES,
  ExampleMatcher,
  entityFromDtmf,
  extractBuiltin,
  extractCustom,
  normalizeUtterance,
} from '../../../src/nlu/index.ts';

// Words the extractors react to, so generated utterances reach their deeper paths.
const vocabulary = fc.constantFrom(
  ...'one two five twenty hundred thousand a and point half oh double plus minus dozen the of march may third 3rd 12 555 3/14 2026-02-29 3:30 pm am quarter to past at noon oclock tomorrow monday next from yes no not sure right + - ( ) , .'.split(
    ' ',
  ),
);
const utterance = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.array(vocabulary, { maxLength: 12 }).map((w) => w.join(' ')),
);
const today = fc
  .date({ min: new Date('1990-01-01'), max: new Date('2100-12-31'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));

const FORMATS: Record<string, RegExp> = {
  yes: /^true$/,
  no: /^true$/,
  number: /^-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?$/,
  digits: /^[0-9]+$/,
  phone_number: /^\+?[0-9]{3,15}$/,
  date: /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/,
  time: /^([01][0-9]|2[0-3]):[0-5][0-9]$/,
};

test('extractBuiltin never throws and returns null or a value in canonical form', () => {
  fc.assert(
    fc.property(fc.constantFrom(...BUILTIN_ENTITIES), utterance, today, (entity, text, day) => {
      const value = extractBuiltin(entity, text, { today: day });
      assert.ok(value === null || FORMATS[entity]!.test(value), `${entity} gave ${value}`);
    }),
    { numRuns: 2000 },
  );
});

test('a spoken date is never before today unless a year was said', () => {
  fc.assert(
    fc.property(fc.array(vocabulary, { maxLength: 8 }), today, (w, day) => {
      const text = w.join(' ');
      const value = extractBuiltin('date', text, { today: day });
      if (value !== null && !/[0-9]{4}|yesterday|\/[0-9]/.test(text))
        assert.ok(value >= day, `${value} < ${day}`);
    }),
  );
});

test('entityFromDtmf never throws and returns null or a canonical value', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...BUILTIN_ENTITIES),
      fc.stringMatching(/^[0-9*#]{0,20}$/),
      (entity, digits) => {
        const value = entityFromDtmf(entity, digits);
        assert.ok(value === null || FORMATS[entity]!.test(value), `${entity} gave ${value}`);
      },
    ),
  );
});

test('extractCustom never throws and returns one of the canonical values', () => {
  fc.assert(
    fc.property(
      fc.dictionary(fc.string({ minLength: 1 }), fc.array(fc.string(), { maxLength: 3 }), { maxKeys: 5 }),
      utterance,
      (values, text) => {
        const value = extractCustom(values, text);
        assert.ok(value === null || Object.hasOwn(values, value));
      },
    ),
  );
});

test('a canonical value said alone is always found', () => {
  fc.assert(
    fc.property(fc.stringMatching(/^[a-z]{1,8}( [a-z]{1,8}){0,2}$/), (name) => {
      assert.equal(extractCustom({ [name]: [] }, `um ${name.toUpperCase()}!`), name);
    }),
  );
});

test('ExampleMatcher never throws, and matches each example to its intent through normalization', () => {
  fc.assert(
    fc.property(
      fc.array(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 5 }),
      utterance,
      (examples, text) => {
        const matcher = new ExampleMatcher({ only: { examples } }, { builtins: false });
        const match = matcher.match(text);
        assert.ok(match === null || (match.intent === 'only' && match.confidence === 1));
        for (const example of examples) {
          const expected = normalizeUtterance(example) === '' ? null : { intent: 'only', confidence: 1 };
          assert.deepEqual(matcher.match(` ${example.toUpperCase()} `), expected === null ? null : expected);
        }
      },
    ),
  );
});

test('normalizeUtterance is idempotent', () => {
  fc.assert(
    fc.property(utterance, (text) => {
      const once = normalizeUtterance(text);
      assert.equal(normalizeUtterance(once), once);
    }),
  );
});

/** The only files of src/nlu that reach outside it: the model runtime loads files and the native runtime, the
 * trainer hashes its data (training/data.ts), the model cache and its training worker use the disk and a thread. Everything else
 * (featurizer, extractors, forward pass) stays pure. */
const OUTSIDE: Record<string, readonly string[]> = {
  'onnx-session.ts': ['node:fs/promises', 'onnxruntime-node'],
  'training/data.ts': ['node:crypto'],
  'model-dir.ts': ['node:fs/promises', 'node:path'],
  'model-cache.ts': ['node:crypto', 'node:fs', 'node:fs/promises', 'node:path'],
  'train-worker.ts': ['node:worker_threads'],
  'classify-worker.ts': ['node:worker_threads'],
  'worker-model.ts': ['node:worker_threads'],
  'worker-thread.ts': ['node:worker_threads'],
  'promotion.ts': ['node:fs/promises', 'node:path'],
  'transformer/intent-model.ts': ['node:crypto', 'node:fs/promises', 'node:path'],
  'transformer/model-folder.ts': ['node:fs/promises', 'node:path', '@huggingface/tokenizers'],
  'transformer/text-classifier.ts': ['onnxruntime-node'],
};

test('src/nlu imports only itself and the error registry, but for the runtime, the tokenizer and the trainer', () => {
  const dir = new URL('../../../src/nlu/', import.meta.url);
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length >= 5);
  for (const file of files) {
    const text = readFileSync(new URL(file, dir), 'utf8');
    for (const m of text.matchAll(/(?:from\s+|import\()'([^']+)'/g)) {
      const spec = m[1]!;
      if (OUTSIDE[file]?.includes(spec)) continue;
      const depth = file.split('/').length - 1;
      const escapes = spec.startsWith('../../'.repeat(depth + 1));
      assert.ok(spec.startsWith('.') && (!escapes || spec.endsWith('/errors.ts')), `${file} imports ${spec}`);
    }
  }
});
