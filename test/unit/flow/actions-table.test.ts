/**
 * Flow actions have one home each (src/flow/actions/): outside that folder, no code names an action by a string
 * literal (`'http'`) or reads an action's key off a state (`def.http`, `state.bargeIn`); it asks the table. The
 * few literals that name something else with the same word are listed below with what they are, each with the
 * exact token, so nothing new slips in.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { ACTIONS, STATE_KEYS } from '../../../src/flow/actions/index.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SRC = join(ROOT, 'src');
const ACTIONS_DIR = join(SRC, 'flow', 'actions');

/** Same word, other concept: `file: token` -> what it is. */
const OTHER_CONCEPTS: Record<string, string> = {
  "src/flow/events.ts: 'hangup'": 'the caller hanging up, an event',
  "src/flow/events.ts: 'on'": "a value of the context's `recording`: the call is being recorded",
  "src/flow/describe.ts: 'hangup'": 'the caller hanging up, an event',
  "src/flow/graph.ts: 'hangup'": 'the diagram shape of a state where the call ends',
  "src/flow/validate/policy.ts: 'say'": "the speechFailover policy's own `say`",
  "src/call/supervisor.ts: 'hangup'": 'the caller hanging up, an event',
  "src/telephony/call-control.ts: 'transfer'": "a Twilio REST request's name",
  "src/telephony/call-control.ts: 'hangup'": "a Twilio REST request's name",
  "src/telephony/call-control.ts: 'record'": "a Twilio REST request's name",
  "src/call/replay.ts: 'record'": "a journal record (the type of a replay step's `record`)",
  "src/telephony/twiml.ts: 'http'": 'a URL scheme',
  "src/simulator/caller.ts: 'say'": "a simulated caller's log entry",
  "src/simulator/caller.ts: 'hangup'": "a simulated caller's log entry",
  "src/cli/call.ts: 'say'": 'a command-line option',
  "src/cli/call.ts: 'hangup'": 'a command-line option',
  "src/config/env.ts: 'on'": 'the value of SOFTPHONE',
  "src/flow/validate.ts: 'on'":
    'the flow-level `on` (call events such as `machine`), a root key of a flow file',
  "src/config/env.ts: 'say'": 'a value of BUSY_ANSWER',
  "src/cli/load.ts: 'say'": "the load generator's synthesized caller lines (--say)",
  "src/load/options.ts: 'say'": "the load generator's synthesized caller lines (--say)",
  "src/tracing/call-spans.ts: 'call'": 'the span of a whole call',
};

const NAMES = new Set(ACTIONS.map((action) => action.name));
/** A receiver that is a state definition, by the names the code gives one. */
const STATE_RECEIVER = /(^|\.)(def|state|subDef|stateDef|copy)$/i;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return path === ACTIONS_DIR ? [] : files(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** `file: token` for every action named outside the actions folder. */
function namings(): Set<string> {
  const found = new Set<string>();
  for (const path of files(SRC)) {
    const file = relative(ROOT, path);
    const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) return;
      if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) && NAMES.has(node.text)) {
        found.add(`${file}: '${node.text}'`);
      }
      if (
        ts.isPropertyAccessExpression(node) &&
        STATE_KEYS.has(node.name.text) &&
        STATE_RECEIVER.test(node.expression.getText(source).replace(/\?$/, ''))
      ) {
        found.add(`${file}: def.${node.name.text}`);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

test('no code outside src/flow/actions/ names an action by string or reads its key off a state', () => {
  const unexpected = [...namings()].filter((token) => !(token in OTHER_CONCEPTS));
  assert.deepEqual(unexpected, [], 'ask the actions table (src/flow/actions/index.ts) instead');
});

test('the check finds what it looks for', () => {
  const source = "const x = def.http ?? state?.bargeIn; if (effect.type === 'transfer') {}";
  const found: string[] = [];
  const file = ts.createSourceFile('probe.ts', source, ts.ScriptTarget.Latest, true);
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteral(node) && NAMES.has(node.text)) found.push(node.text);
    if (ts.isPropertyAccessExpression(node) && STATE_KEYS.has(node.name.text)) found.push(node.name.text);
    ts.forEachChild(node, visit);
  };
  visit(file);
  assert.deepEqual(found.sort(), ['bargeIn', 'http', 'transfer']);
});
