import assert from 'node:assert/strict';
import { test } from 'node:test';

import { normalizeUtterance } from '../../../src/nlu/index.ts';

test('normalizeUtterance lower-cases, drops punctuation and collapses spaces', () => {
  const table: [string, string][] = [
    ['Yes!', 'yes'],
    ['  Say   that\tagain? ', 'say that again'],
    ["I'd like a pizza.", 'id like a pizza'],
    ['That\u2019s RIGHT', 'thats right'],
    ['forty-two', 'forty two'],
    ['3:30 p.m.', '3 30 p m'],
    ['\uFF39\uFF25\uFF33', 'yes'], // full-width letters fold under NFKC
    ['Caf\u0065\u0301', 'caf\u00e9'], // combining accent composes
    ['...', ''],
    ['', ''],
  ];
  for (const [input, expected] of table)
    assert.equal(normalizeUtterance(input), expected, JSON.stringify(input));
});
