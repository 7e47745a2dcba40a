/**
 * `switchboard replay`'s difference report as a developer meets it: a recorded call replayed against a flow
 * changed since, where a key now leads elsewhere through a decision state. The report names the record and what
 * it is, the state it came in, where the call went and where the replay went, with the states passed on the way.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseJsonLines } from '../../src/journal/records.ts';

const BIN = new URL('../../bin/switchboard.js', import.meta.url).pathname;
const FLOWS = new URL('../../flows/', import.meta.url).pathname;
const LOG = new URL('../replay/pizza-keypad.jsonl', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'sb-replay-report-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('a changed flow is reported with the record in words, the state it came in, and both paths', () => {
  // The pizzeria now hands orders of three or more to a person: confirming goes through a decision state.
  const flow = JSON.parse(readFileSync(join(FLOWS, 'pizza.json'), 'utf8')) as {
    version: number;
    states: Record<string, { on?: Record<string, string> } & Record<string, unknown>>;
  };
  flow.version += 1;
  flow.states.confirm!.on = { ...flow.states.confirm!.on, yes: 'big-order', 'dtmf:1': 'big-order' };
  flow.states['big-order'] = { next: [{ if: 'count >= 3', goto: 'human' }, { goto: 'place' }] };
  writeFileSync(join(tmp, 'pizza.json'), JSON.stringify(flow, null, 2));

  // The recorded caller ordered four and pressed 1 to confirm.
  const { records } = parseJsonLines(readFileSync(LOG, 'utf8'));
  const confirmed = records.findLast(
    (r) => r.kind === 'in' && r.event.type === 'dtmf' && r.event.digit === '1',
  );
  assert.ok(confirmed);

  const run = spawnSync(process.execPath, [BIN, 'replay', LOG], {
    env: { ...process.env, FLOWS_DIR: tmp, MODELS_DIR: join(tmp, 'models') },
    encoding: 'utf8',
  });
  assert.equal(run.status, 1, run.stdout + run.stderr);
  const out = run.stdout;
  assert.match(out, /DIFFERS \(pizza recorded on v2, replayed on v3\)/);
  assert.ok(
    out.includes(`at record ${confirmed.seq}: caller pressed 1 in state \`confirm\``),
    `the record and what it is:\n${out}`,
  );
  assert.match(out, /\n {2}state: +recorded `place`, the replay went to `human`\n/);
  assert.match(out, /\n {2}recorded path: +confirm → place\b/);
  assert.match(out, /\n {2}replayed path: +confirm → big-order → human\n/);
  assert.match(
    out,
    /\n {2}recorded effects: +timer t9 cancelled\n +web request place\.10: POST http:\/\/[^/]+\/orders\n/,
  );
  assert.match(
    out,
    /\n {2}replayed effects: +timer t9 cancelled\n +said “Please hold while I connect you\.”/,
  );
  // One screen: a heading and a few lines, not JSON dumps.
  assert.ok(out.trimEnd().split('\n').length <= 12, out);
});
