import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { memoryLogger } from '../../../src/observability/logger.ts';
import { promptFilePath, PromptStore } from '../../../src/speech/tts/prompt-store.ts';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sb-store-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const bytes = (n: number, fill = 0x10): Uint8Array => new Uint8Array(n).fill(fill);
const ago = (s: number): Date => new Date(Date.now() - s * 1000);

test('what is written is read back; an unknown key is null', async (t) => {
  const store = new PromptStore(await tempDir(t));
  assert.equal(await store.write('k1', bytes(300, 0x42)), true);
  assert.deepEqual(await store.read('k1'), bytes(300, 0x42));
  assert.equal(await store.read('k2'), null);
});

test('file names are a hash of the key, and no temporary file is left after a write', async (t) => {
  const dir = await tempDir(t);
  const store = new PromptStore(dir);
  await store.write('tone:sine:-:text:secret', bytes(10));
  const names = await readdir(dir);
  assert.equal(names.length, 1);
  assert.match(names[0]!, /^p2-[0-9a-f]{64}\.ulaw$/);
  assert.equal(join(dir, names[0]!), promptFilePath(dir, 'tone:sine:-:text:secret'));
});

test("the folder is its user's alone (0700, files 0600), made at once, and an older build's files are removed", async (t) => {
  const base = await tempDir(t);
  const dir = join(base, 'prompts');
  await mkdir(dir);
  // An older build named files by the hash alone, read-backs of callers' numbers among them.
  const legacy = join(dir, 'a'.repeat(64) + '.ulaw');
  await writeFile(legacy, bytes(10));
  const other = join(dir, 'notes.txt');
  await writeFile(other, 'not ours');
  const { logger, records } = memoryLogger();
  const store = new PromptStore(dir, { logger });
  await store.flush();
  assert.ok(
    records.some((r) => r.msg.startsWith('prompt files of an older build removed') && r.removed === 1),
  );
  assert.deepEqual(
    (await readdir(dir)).sort(),
    ['notes.txt'],
    'the legacy file went; what is not ours stays',
  );
  await store.write('k', bytes(10));
  assert.equal((await stat(promptFilePath(dir, 'k'))).mode & 0o777, 0o600);

  const fresh = join(base, 'fresh');
  await new PromptStore(fresh).flush();
  assert.equal((await stat(fresh)).mode & 0o777, 0o700);
});

test('empty audio is not written (it would read back as damaged)', async (t) => {
  const dir = await tempDir(t);
  const store = new PromptStore(dir);
  assert.equal(await store.write('k', bytes(0)), false);
  assert.deepEqual(await readdir(dir), []);
});

test('files already in the folder count toward the budget: the first write prunes the oldest', async (t) => {
  const dir = await tempDir(t);
  for (const [i, key] of ['old', 'mid', 'new'].entries()) {
    const path = promptFilePath(dir, key);
    await writeFile(path, bytes(1000));
    await utimes(path, ago(300 - i * 100), ago(300 - i * 100));
  }
  const store = new PromptStore(dir, { maxBytes: 3500 });
  await store.write('fresh', bytes(1000));
  await store.flush();
  assert.equal(await store.read('old'), null);
  assert.notEqual(await store.read('mid'), null);
  assert.notEqual(await store.read('new'), null);
  assert.notEqual(await store.read('fresh'), null);
});

test('a read marks a file recently used, so pruning spares it', async (t) => {
  const dir = await tempDir(t);
  for (const [i, key] of ['a', 'b'].entries()) {
    const path = promptFilePath(dir, key);
    await writeFile(path, bytes(1000));
    await utimes(path, ago(200 - i * 100), ago(200 - i * 100));
  }
  const store = new PromptStore(dir, { maxBytes: 2500 });
  assert.notEqual(await store.read('a'), null); // 'a' was the oldest; now 'b' is
  await store.write('c', bytes(1000));
  await store.flush();
  assert.notEqual(await store.read('a'), null);
  assert.equal(await store.read('b'), null);
});

test('pruning removes temporary files a crash left behind, not ones being written', async (t) => {
  const dir = await tempDir(t);
  const stale = join(dir, 'x.ulaw.1.dead.tmp');
  const recent = join(dir, 'y.ulaw.2.live.tmp');
  await writeFile(stale, bytes(10));
  await writeFile(recent, bytes(10));
  await utimes(stale, ago(3600), ago(3600));
  const store = new PromptStore(dir);
  await store.write('k', bytes(10));
  const names = await readdir(dir);
  assert.ok(!names.includes('x.ulaw.1.dead.tmp'));
  assert.ok(names.includes('y.ulaw.2.live.tmp'));
  assert.equal((await stat(promptFilePath(dir, 'k'))).size, 10);
});

test('two stores on one folder (two processes) see each other’s files, and a rewrite replaces whole', async (t) => {
  const dir = await tempDir(t);
  const one = new PromptStore(dir);
  const two = new PromptStore(dir);
  await Promise.all([one.write('k', bytes(500, 1)), two.write('k', bytes(800, 2))]);
  const read = await one.read('k');
  assert.ok(read);
  // Whichever rename came last won, entirely: never a mix of the two.
  assert.ok(
    (read.length === 500 && read.every((b) => b === 1)) ||
      (read.length === 800 && read.every((b) => b === 2)),
  );
  assert.equal((await readdir(dir)).length, 1);
});

test('a negative budget is refused', () => {
  assert.throws(() => new PromptStore('/tmp/x', { maxBytes: -1 }), RangeError);
});
