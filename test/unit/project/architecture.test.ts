import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';

const SRC = new URL('../../../src/', import.meta.url).pathname;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Every module each source file imports, as `folder` for project folders or the package/builtin name. */
function imports(): { file: string; folder: string; target: string }[] {
  const out: { file: string; folder: string; target: string }[] = [];
  for (const path of files(SRC)) {
    const file = relative(SRC, path);
    const folder = file.includes('/') ? file.split('/')[0]! : '';
    const text = readFileSync(path, 'utf8');
    for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g)) {
      const spec = (m[1] ?? m[2])!;
      const target = spec.startsWith('.') ? relative(SRC, join(path, '..', spec)).split('/')[0]! : spec;
      out.push({ file, folder, target: target.endsWith('.ts') ? '' : target });
    }
  }
  return out;
}

const edges = imports();

function violations(folder: string, allowed: (target: string) => boolean): string[] {
  return edges
    .filter((e) => e.folder === folder && !allowed(e.target))
    .map((e) => `${e.file} -> ${e.target}`);
}

test('audio/ is pure: it imports only itself, the error registry and Buffer', () => {
  assert.deepEqual(
    violations('audio', (t) => t === 'audio' || t === '' || t === 'node:buffer'),
    [],
  );
});

test('common/ holds shared definitions only: it imports nothing', () => {
  assert.deepEqual(
    violations('common', (t) => t === 'common' || t === ''),
    [],
  );
});

test('flow/ is pure: no I/O, only xstate, the JSON parser and nlu/ (for normalization) besides itself', () => {
  assert.deepEqual(
    violations(
      'flow',
      (t) =>
        t === 'flow' || t === 'nlu' || t === 'common' || t === '' || t === 'xstate' || t === 'jsonc-parser',
    ),
    [],
  );
});

test('telephony/ never imports call/, server/, flow/ or the CLI', () => {
  assert.deepEqual(
    violations('telephony', (t) => !['call', 'server', 'flow', 'cli', 'simulator'].includes(t)),
    [],
  );
});

test('call/ does not reach up into server/, cli/ or the simulator', () => {
  assert.deepEqual(
    violations('call', (t) => !['server', 'cli', 'simulator'].includes(t)),
    [],
  );
});

test('web/ only renders: flows and journal records in, HTML out; no server, call or CLI', () => {
  assert.deepEqual(
    violations(
      'web',
      (t) => !['server', 'call', 'cli', 'simulator', 'speech', 'node:fs', 'node:http'].includes(t),
    ),
    [],
  );
  assert.ok(
    edges.some((e) => e.folder === 'web'),
    'web/ is seen by this check',
  );
});

test('only the CLI imports the CLI, and nothing in src/ imports tests', () => {
  assert.deepEqual(
    edges.filter((e) => (e.target === 'cli' && e.folder !== 'cli') || e.target.includes('test/')),
    [],
  );
});

test('the simulated caller speaks the protocol without the server internals', () => {
  assert.deepEqual(
    violations('simulator', (t) => !['server', 'call', 'flow'].includes(t)),
    [],
  );
});
