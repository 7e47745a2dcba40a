import assert from 'node:assert/strict';
import { test } from 'node:test';

import fc from 'fast-check';

import { isSwitchboardError } from '../../../src/errors.ts';
import {
  DEFAULT_FEATURIZER,
  Featurizer,
  featureHash,
  fnv1a32,
  validateFeaturizerConfig,
} from '../../../src/nlu/index.ts';
import type { FeaturizerConfig } from '../../../src/nlu/index.ts';

const defaults = new Featurizer(DEFAULT_FEATURIZER);

function nonzeros(v: Float32Array): [number, number][] {
  const out: [number, number][] = [];
  v.forEach((x, i) => {
    if (x !== 0) out.push([i, x]);
  });
  return out;
}

function norm(v: Float32Array): number {
  let s = 0;
  for (const x of v) s += x * x;
  return Math.sqrt(s);
}

/** Where a feature key lands and with which sign, as documented in featurizer.ts. */
function slot(key: string, dims: number): [number, number] {
  const h = featureHash(key);
  return [h & (dims - 1), h >>> 31 === 0 ? 1 : -1];
}

const SAMPLES = [
  'yes please',
  "I'd like to book a table for two at 7:30",
  'Café crème, s’il vous plaît',
  'こんにちは 世界',
  'no no no no no',
  'a',
  'transfer me to billing right now please',
];

test('the hash is FNV-1a (standard test vectors) and feature hashes are pinned', () => {
  assert.equal(fnv1a32(''), 0x811c9dc5);
  assert.equal(fnv1a32('a'), 0xe40c292c);
  assert.equal(fnv1a32('foobar'), 0xbf9cf968);
  // Changing any of these invalidates every trained model: retrain, do not re-pin.
  assert.equal(featureHash('w1\u0002yes'), 0x2fa52fca);
  assert.equal(featureHash('w2\u0002book\u0001a'), 0x0e943a68);
  assert.equal(featureHash('c3\u0002<ye'), 0x633660ba);
  assert.equal(featureHash('w1\u0002café'), 0x2093b408);
  assert.equal(featureHash('c2\u0002日本'), 0xe888505f);
});

test('features land where their documented keys hash, with the sign from bit 31', () => {
  const dims = 65536;
  const raw = { dims, sublinearTf: false, normalize: 'none' } as const;
  const cases: [Partial<FeaturizerConfig>, string, string[]][] = [
    [{ wordNgrams: [1], charNgrams: [] }, 'Yes!', ['w1\u0002yes']],
    [{ wordNgrams: [1], charNgrams: [] }, 'CAFÉ', ['w1\u0002café']],
    [{ wordNgrams: [2], charNgrams: [] }, 'book a', ['w2\u0002book\u0001a']],
    [{ wordNgrams: [], charNgrams: [3] }, 'yes', ['c3\u0002<ye', 'c3\u0002yes', 'c3\u0002es>']],
    [{ wordNgrams: [], charNgrams: [2] }, '日本', ['c2\u0002<日', 'c2\u0002日本', 'c2\u0002本>']],
    // An astral code point is one character of a char gram, four UTF-8 bytes of the hash.
    [{ wordNgrams: [], charNgrams: [3] }, '\u{20000}', ['c3\u0002<\u{20000}>']],
  ];
  for (const [config, text, keys] of cases) {
    const f = new Featurizer({ ...DEFAULT_FEATURIZER, ...raw, ...config });
    const expected = keys.map((k) => slot(k, dims)).sort((a, b) => a[0] - b[0]);
    assert.deepEqual(nonzeros(f.featurize(text)), expected, JSON.stringify(text));
  }
});

test('dense and sparse forms agree: same nonzero indices, sorted, same values', () => {
  const configs: FeaturizerConfig[] = [
    DEFAULT_FEATURIZER,
    { dims: 256, wordNgrams: [1, 2, 3], charNgrams: [2, 5], sublinearTf: false, normalize: 'none' },
  ];
  for (const config of configs) {
    const f = new Featurizer(config);
    for (const text of [...SAMPLES, '', '😀']) {
      const { indices, values } = f.sparse(text);
      const pairs = [...indices].map((index, k) => [index, values[k]!]);
      assert.deepEqual(pairs, nonzeros(f.featurize(text)), JSON.stringify(text));
      for (let k = 1; k < indices.length; k++) assert.ok(indices[k - 1]! < indices[k]!);
    }
  }
});

test('L2 norm is 1 for text with words; punctuation, emoji and empty text give all zeros', () => {
  for (const text of SAMPLES) assert.ok(Math.abs(norm(defaults.featurize(text)) - 1) < 1e-5, text);
  for (const text of ['', '   ', '?!...', '😀👍', '\u0000']) {
    const v = defaults.featurize(text);
    assert.equal(v.length, 4096);
    assert.deepEqual(nonzeros(v), [], JSON.stringify(text));
  }
});

test("normalize: 'none' and sublinearTf weight repeated words as documented", () => {
  const config = { ...DEFAULT_FEATURIZER, dims: 65536, wordNgrams: [1], charNgrams: [] };
  const [index, sign] = slot('w1\u0002no', 65536);
  const counts = new Featurizer({ ...config, sublinearTf: false, normalize: 'none' }).featurize('no no no');
  assert.deepEqual(nonzeros(counts), [[index, 3 * sign]]);
  const logs = new Featurizer({ ...config, sublinearTf: true, normalize: 'none' }).featurize('no no no');
  assert.deepEqual(nonzeros(logs), [[index, Math.fround(sign * (1 + Math.log(3)))]]);
});

test('case, punctuation and spacing do not change the vector', () => {
  const pairs: [string, string][] = [
    ['Yes, PLEASE!', 'yes please'],
    ["  I'd   like a   TABLE. ", 'id like a table'],
    ['\uFF39\uFF25\uFF33', 'yes'],
  ];
  for (const [a, b] of pairs) assert.deepEqual(defaults.featurize(a), defaults.featurize(b), a);
});

test('word order matters with bigrams and not with unigrams alone', () => {
  const a = 'book a table';
  const b = 'table a book';
  const bigrams = new Featurizer({ ...DEFAULT_FEATURIZER, wordNgrams: [1, 2], charNgrams: [] });
  assert.notDeepEqual(bigrams.featurize(a), bigrams.featurize(b));
  assert.notDeepEqual(defaults.featurize(a), defaults.featurize(b));
  const unigrams = new Featurizer({ ...DEFAULT_FEATURIZER, wordNgrams: [1], charNgrams: [] });
  assert.deepEqual(unigrams.featurize(a), unigrams.featurize(b));
  // Char grams are per word, so they do not see order either.
  const withChars = new Featurizer({ ...DEFAULT_FEATURIZER, wordNgrams: [1], charNgrams: [3, 4] });
  assert.deepEqual(withChars.featurize(a), withChars.featurize(b));
});

test('out is reused: the same object comes back with its previous contents cleared', () => {
  const out = new Float32Array(4096).fill(7);
  assert.equal(defaults.featurize('yes please', out), out);
  assert.deepEqual(out, defaults.featurize('yes please'));
  defaults.featurize('transfer me to billing', out);
  assert.deepEqual(out, defaults.featurize('transfer me to billing'));
  assert.equal(defaults.featurize('', out), out);
  assert.deepEqual(nonzeros(out), []);
  assert.throws(
    () => defaults.featurize('yes', new Float32Array(100)),
    (err) => isSwitchboardError(err, 'NLU_CONFIG_INVALID') && err.data['field'] === 'out',
  );
});

test('featurize with out returns the same buffer and the same values over 10k calls', () => {
  const text =
    'hi there I would like to move my appointment from Tuesday to Thursday afternoon if that is at all possible';
  assert.equal(text.split(' ').length, 20);
  const expected = defaults.featurize(text);
  const out = new Float32Array(4096);
  for (let i = 0; i < 10_000; i++) assert.equal(defaults.featurize(text, out), out);
  assert.deepEqual(out, expected);
});

test('config validation names the bad field', () => {
  const bad: [unknown, string][] = [
    [{ dims: 1000 }, 'dims'],
    [{ dims: 128 }, 'dims'],
    [{ dims: 131072 }, 'dims'],
    [{ dims: '4096' }, 'dims'],
    [{ dimz: 4096 }, 'dimz'],
    [{ wordNgrams: [0] }, 'wordNgrams'],
    [{ wordNgrams: [1, 1] }, 'wordNgrams'],
    [{ wordNgrams: 'bigrams' }, 'wordNgrams'],
    [{ charNgrams: [7] }, 'charNgrams'],
    [{ charNgrams: [2.5] }, 'charNgrams'],
    [{ wordNgrams: [], charNgrams: [] }, 'wordNgrams'],
    [{ lowercase: false }, 'lowercase'],
    [{ sublinearTf: 'yes' }, 'sublinearTf'],
    [{ normalize: 'l1' }, 'normalize'],
    [null, 'config'],
    [[4096], 'config'],
  ];
  for (const [config, field] of bad) {
    const check = (err: unknown) =>
      isSwitchboardError(err, 'NLU_CONFIG_INVALID') &&
      err.data['field'] === field &&
      err.message.includes(field);
    assert.throws(() => validateFeaturizerConfig(config), check, JSON.stringify(config));
    assert.throws(() => new Featurizer(config as FeaturizerConfig), check, JSON.stringify(config));
  }
  assert.deepEqual(validateFeaturizerConfig({}), { ...DEFAULT_FEATURIZER });
  assert.deepEqual(validateFeaturizerConfig({ dims: 256, charNgrams: [] }), {
    ...DEFAULT_FEATURIZER,
    dims: 256,
    charNgrams: [],
  });
});

test('long text is cut at 1000 normalized characters, cheaply and without error', () => {
  const f = new Featurizer({
    dims: 65536,
    wordNgrams: [1],
    charNgrams: [],
    sublinearTf: false,
    normalize: 'none',
  });
  const [index, sign] = slot('w1\u0002abcd', 65536);
  // 2000 words of 4 letters; the first 1000 characters hold exactly 200 of them.
  assert.deepEqual(nonzeros(f.featurize('abcd '.repeat(2000))), [[index, 200 * sign]]);
  const huge = 'Lorem ipsum, dolor sit amet! '.repeat(40_000);
  const v = defaults.featurize(huge);
  assert.ok(v.every(Number.isFinite));
  assert.ok(Math.abs(norm(v) - 1) < 1e-5);
  // A cut through a surrogate pair drops the half character instead of hashing it.
  const astral = new Featurizer({ dims: 65536, wordNgrams: [1], charNgrams: [] });
  assert.deepEqual(astral.featurize('a'.repeat(999) + '\u{20000}'), astral.featurize('a'.repeat(999)));
});

test('random strings never throw and give finite vectors of norm 0 or 1', () => {
  const out = new Float32Array(4096);
  fc.assert(
    fc.property(
      fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ unit: 'grapheme' })),
      (text) => {
        defaults.featurize(text, out);
        let s = 0;
        for (const x of out) {
          assert.ok(Number.isFinite(x));
          s += x * x;
        }
        assert.ok(s === 0 || Math.abs(Math.sqrt(s) - 1) < 1e-5);
      },
    ),
    { numRuns: 10_000 },
  );
});
