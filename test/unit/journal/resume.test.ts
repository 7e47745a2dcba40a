import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StartEntry } from '../../../src/journal/records.ts';
import { resumeRefusal } from '../../../src/journal/resume.ts';

const start: StartEntry = { kind: 'start', flow: 'pizza', flowVersion: 3, modelVersion: null, params: {} };

test('a call resumes on the flow and version it started on', () => {
  assert.equal(resumeRefusal(start, 'pizza', 3), null);
});

test('another version, another flow, or no such flow loaded: RESUME_REFUSED, saying which', () => {
  for (const [flow, loaded] of [
    ['pizza', 4],
    ['pizza', 2],
    ['pasta', 3],
    ['pizza', undefined],
  ] as const) {
    const err = resumeRefusal(start, flow, loaded);
    assert.ok(err, `${flow} v${loaded}`);
    assert.equal(err.code, 'RESUME_REFUSED');
    assert.deepEqual(err.data, { flow: 'pizza', flowVersion: 3, loadedVersion: loaded ?? null });
  }
});

test('a call that never began starts over: only the flow being loaded matters', () => {
  assert.equal(resumeRefusal(null, 'demo', 1), null);
  const err = resumeRefusal(null, 'demo', undefined);
  assert.ok(err);
  assert.equal(err.code, 'RESUME_REFUSED');
  assert.deepEqual(err.data, { flow: 'demo', flowVersion: null, loadedVersion: null });
});
