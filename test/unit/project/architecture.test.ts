/**
 * The shape of src/: which folders may import which, no import cycles between files, shared definitions in one
 * place, and files small enough to read. Each failure names the offending files.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SRC = join(ROOT, 'src');

function files(dir: string, ext = /\.ts$/): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path, ext) : ext.test(path) ? [path] : [];
  });
}

/** One import: the importing file and folder (relative to src/), and the module it names. */
interface Edge {
  file: string;
  folder: string;
  /** The project file imported, relative to src/ (e.g. `audio/frames.ts`); null for a package or builtin. */
  resolved: string | null;
  /** The imported folder, `` for a root file such as errors.ts, or the package/builtin name. */
  target: string;
  typeOnly: boolean;
}

const IMPORT =
  /(?:import|export)(\s+type)?\s[^'"]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)|^import\s+'([^']+)'/gm;

/** The modules a file imports; `typeOnly` for `import type` / `export type`, which vanish at run time. */
function imported(text: string): { spec: string; typeOnly: boolean }[] {
  return [...text.matchAll(IMPORT)].map((m) => ({
    spec: (m[2] ?? m[3] ?? m[4])!,
    typeOnly: m[1] !== undefined,
  }));
}

function specifiers(text: string): string[] {
  return imported(text).map((i) => i.spec);
}

function folderOf(file: string): string {
  return file.includes('/') ? file.split('/')[0]! : '';
}

const edges: Edge[] = files(SRC).flatMap((path) => {
  const file = relative(SRC, path);
  return imported(readFileSync(path, 'utf8')).map(({ spec, typeOnly }): Edge => {
    if (!spec.startsWith('.'))
      return { file, folder: folderOf(file), resolved: null, target: spec, typeOnly };
    const resolved = relative(SRC, join(dirname(path), spec));
    return { file, folder: folderOf(file), resolved, target: folderOf(resolved), typeOnly };
  });
});

function violations(folder: string, allowed: (target: string) => boolean): string[] {
  return edges
    .filter((e) => e.folder === folder && !allowed(e.target))
    .map((e) => `${e.file} -> ${e.target}`);
}

test('audio/ is pure: it imports only itself, common/, the error registry and Buffer', () => {
  assert.deepEqual(
    violations('audio', (t) => t === 'audio' || t === 'common' || t === '' || t === 'node:buffer'),
    [],
  );
});

test('common/ holds shared definitions only: it imports nothing, not even the rest of the project', () => {
  assert.deepEqual(
    violations('common', (t) => t === 'common'),
    [],
  );
  assert.ok(
    edges.some((e) => e.target === 'common'),
    'common/ is used, so this check sees it',
  );
});

test('flow/ is pure: no I/O, only xstate, the JSON parser, nlu/ (for normalization) and common/ besides itself', () => {
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

test('outbound/ places calls below the call and the server: no call/, server/, cli/ or simulator', () => {
  assert.deepEqual(
    violations('outbound', (t) => !['call', 'server', 'cli', 'simulator', 'speech', 'web'].includes(t)),
    [],
  );
  assert.ok(
    edges.some((e) => e.folder === 'outbound'),
    'outbound/ exists, so this check sees it',
  );
});

test('transfer/ is below the call and the server: no call/, server/, cli/ or simulator', () => {
  assert.deepEqual(
    violations('transfer', (t) => !['call', 'server', 'cli', 'simulator', 'speech', 'web'].includes(t)),
    [],
  );
  assert.ok(
    edges.some((e) => e.folder === 'transfer'),
    'transfer/ exists, so this check sees it',
  );
});

test('learning/ reads journals and trains models: only journal/, nlu/, flow/ and below', () => {
  assert.deepEqual(
    violations(
      'learning',
      (t) => ['learning', 'journal', 'nlu', 'flow', 'common', ''].includes(t) || t.startsWith('node:'),
    ),
    [],
  );
  assert.ok(
    edges.some((e) => e.folder === 'learning'),
    'learning/ exists, so this check sees it',
  );
});

test('campaign/ is a client of the calls API: no server, call, journal or speech internals', () => {
  assert.deepEqual(
    violations('campaign', (t) => !['server', 'call', 'journal', 'speech', 'cli', 'simulator'].includes(t)),
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
    edges
      .filter((e) => (e.target === 'cli' && e.folder !== 'cli') || (e.resolved ?? '').startsWith('../'))
      .map((e) => `${e.file} -> ${e.resolved ?? e.target}`),
    [],
  );
});

test('the simulated caller speaks the protocol without the server internals', () => {
  assert.deepEqual(
    violations('simulator', (t) => !['server', 'call', 'flow'].includes(t)),
    [],
  );
});

test('the load generator speaks the protocol without the server internals', () => {
  assert.deepEqual(
    violations('load', (t) => !['server', 'call', 'flow', 'journal'].includes(t)),
    [],
  );
});

test('tracing reaches neither the server nor the CLI, and nothing below the server reaches tracing', () => {
  assert.deepEqual(
    violations('tracing', (t) => !['server', 'cli', 'simulator', 'load'].includes(t)),
    [],
  );
  for (const folder of ['call', 'journal', 'observability', 'speech', 'flow', 'audio']) {
    assert.deepEqual(
      violations(folder, (t) => t !== 'tracing'),
      [],
    );
  }
});

test('every relative import in src/ names a file that exists', () => {
  assert.deepEqual(
    edges
      .filter((e) => e.resolved !== null && !existsSync(join(SRC, e.resolved)))
      .map((e) => `${e.file} -> ${e.resolved}`),
    [],
  );
});

/** src/ as a graph: each file and the project files it imports, with whether every such import is type-only. */
function graph(): Map<string, Map<string, boolean>> {
  const g = new Map<string, Map<string, boolean>>();
  for (const e of edges) {
    if (!g.has(e.file)) g.set(e.file, new Map());
    if (e.resolved === null) continue;
    const out = g.get(e.file)!;
    out.set(e.resolved, (out.get(e.resolved) ?? true) && e.typeOnly);
  }
  return g;
}

/** The knots of files that import each other (Tarjan's strongly connected components of more than one file). */
function knots(g: Map<string, Map<string, boolean>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of g.get(v)!.keys()) {
      if (!g.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const knot: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      knot.push(w);
    } while (w !== v);
    if (knot.length > 1 || g.get(v)!.has(v)) found.push(knot.sort());
  };
  for (const v of [...g.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

/** The shortest cycle through the first file of a knot, as `a -> b -> a` (breadth-first within the knot). */
function shortestCycle(g: Map<string, Map<string, boolean>>, knot: string[]): string[] {
  const inKnot = new Set(knot);
  const start = knot[0]!;
  const from = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i]!;
    for (const w of g.get(v)!.keys()) {
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(from.get(path[0]!)!);
        return [...path, start];
      }
      if (inKnot.has(w) && !from.has(w)) {
        from.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

test('no import cycles between files in src/ (type-only imports count too)', () => {
  const g = graph();
  const found = knots(g).map((knot) => {
    const cycle = shortestCycle(g, knot);
    const typeOnly = cycle.slice(1).map((to, i) => g.get(cycle[i]!)!.get(to) === true);
    const kind = typeOnly.every(Boolean)
      ? 'type imports only'
      : typeOnly.some(Boolean)
        ? 'type and run-time imports'
        : 'at run time';
    return `${cycle.join(' -> ')} (${kind}; ${knot.length} files in this knot: ${knot.join(', ')})`;
  });
  assert.deepEqual(
    found,
    [],
    'each entry: one cycle, then every file that imports its way back to itself with it',
  );
});

const MAX_CALL_FILE_LINES = 400;

test(`no file in src/call/ is over ${MAX_CALL_FILE_LINES} lines`, () => {
  const long = files(join(SRC, 'call'))
    .map((path) => ({ file: relative(SRC, path), lines: readFileSync(path, 'utf8').split('\n').length - 1 }))
    .filter((f) => f.lines > MAX_CALL_FILE_LINES)
    .map((f) => `${f.file}: ${f.lines} lines`);
  assert.deepEqual(long, []);
});

/** Code that is not a test: src/, the benches, scripts, and the fakes, fixtures and support of the tests. */
function nonTestCode(): string[] {
  return [
    ...files(SRC),
    ...['bench', 'scripts', 'test/fakes', 'test/fixtures', 'test/support'].flatMap((dir) =>
      existsSync(join(ROOT, dir)) ? files(join(ROOT, dir)) : [],
    ),
  ];
}

test('benches, scripts and test helpers import fixtures, fakes and support modules, never *.test.ts files', () => {
  const offending = nonTestCode().flatMap((path) =>
    specifiers(readFileSync(path, 'utf8'))
      .filter((spec) => spec.endsWith('.test.ts'))
      .map((spec) => `${relative(ROOT, path)} -> ${spec}`),
  );
  assert.deepEqual(offending, []);
});

/**
 * Definitions with one home. `pattern` finds a copy; a file in `pending` still had one when this check was
 * written, and its owner was told what to change. No new file may add a copy.
 */
const ONE_HOME: { concept: string; home: string[]; pattern: RegExp; pending: string[] }[] = [
  {
    concept: 'the 20 ms frame (8 kHz, 160 samples)',
    home: ['src/audio/frames.ts'],
    pattern: /\b(?:FRAME_MS\s*=\s*20|FRAME\w*\s*=\s*160|SAMPLE_RATE\s*=\s*8_?000)\b/,
    pending: [],
  },
  {
    concept: 'the DTMF alphabet',
    home: ['src/common/dtmf.ts'],
    pattern: /0123456789\*#ABCD|\[0-9\*#A-D\]\+/,
    pending: [],
  },
  {
    concept: 'the E.164 pattern',
    home: ['src/common/e164.ts'],
    pattern: /\\\+\[1-9\]\\d\{6,14\}/,
    pending: [],
  },
  {
    concept: 'XML escaping',
    home: ['src/common/xml.ts'],
    pattern: /function (?:un)?escapeXml\b/,
    pending: [],
  },
  {
    concept: 'month and weekday names',
    home: ['src/common/calendar.ts'],
    pattern: /'[Jj]anuary'|'[Ss]unday'|'[Mm]onday'/,
    pending: [],
  },
  {
    concept: 'error families (errorFamily / isErrorFamily in errors.ts, not prefix tests on codes)',
    home: ['src/errors.ts'],
    pattern:
      /\.startsWith\('(?:MEDIA|HTTP|FLOW|CALL|TWILIO|AUDIO|TTS|STT|VAD|NLU|JOURNAL|STORE|RESUME|REPLAY|CONFIG)_'\)/,
    pending: [],
  },
  {
    concept: 'retryability (the typed SwitchboardError.retryable and isRetryable, never data.retryable)',
    home: ['src/errors.ts'],
    pattern: /\bdata\??\.retryable\b|data\[['"]retryable['"]\]/,
    pending: [],
  },
  {
    concept: "the type of a call's start record",
    home: ['src/journal/records.ts'],
    pattern: /type StartEntry\s*=/,
    pending: [],
  },
  {
    concept: 'the check that a call may resume on the loaded flow',
    home: ['src/journal/resume.ts'],
    pattern: /'the flow version the call runs is not loaded here'/,
    pending: [],
  },
  {
    concept: 'the speech engine names TTS and STT accept (the registry checks its tables against them)',
    home: ['src/speech/engine-names.ts'],
    pattern:
      /'flite'\s*\|\s*'google'|'pocketsphinx'\s*\|\s*'google'|\((?:flite or google|pocketsphinx, google or off)\)/,
    pending: [],
  },
  {
    concept: "pocketsphinx's warm-up sentence",
    home: ['src/speech/stt/warm-up.ts'],
    pattern: /'Thanks for calling\. How can I help you today\?/,
    pending: [],
  },
];

for (const { concept, home, pattern, pending } of ONE_HOME) {
  test(`one home for ${concept}: ${home.join(', ')}`, () => {
    const copies = nonTestCode()
      .map((path) => relative(ROOT, path))
      .filter((file) => !home.includes(file) && !pending.includes(file))
      .filter((file) => pattern.test(readFileSync(join(ROOT, file), 'utf8')));
    assert.deepEqual(copies, [], `copies of ${concept}: import it from ${home.join(', ')} instead`);
  });
}
