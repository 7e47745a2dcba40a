/**
 * The project's npm settings (.npmrc and package.json's allowScripts): npm commands run here print no warnings,
 * and each dependency's install script is allowed or denied on purpose, so installs are quiet too.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Runs `npm args` in the project as from a fresh shell: without the npm_* variables of an npm that started this
 * test, and with empty user and global npmrc files, so only the project's own settings are read.
 */
async function npm(
  ctx: TestContext,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const home = await mkdtemp(join(tmpdir(), 'switchboard-npm-'));
  ctx.after(() => rm(home, { recursive: true, force: true }));
  const [user, global] = [join(home, 'user-npmrc'), join(home, 'global-npmrc')];
  await writeFile(user, '');
  await writeFile(global, '');
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  return new Promise((resolve) => {
    execFile(
      'npm',
      args,
      {
        cwd: ROOT,
        env: {
          ...env,
          npm_config_userconfig: user,
          npm_config_globalconfig: global,
          npm_config_update_notifier: 'false',
        },
      },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test('npx in the project prints no npm warning', async (ctx) => {
  const { code, stdout, stderr } = await npm(ctx, ['exec', '--no', '--', 'prettier', '--version']);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^\d+\.\d+\.\d+/);
  assert.doesNotMatch(stderr, /npm warn/i);
});

test('every install script among the dependencies is allowed or denied in allowScripts (skipped on an npm without allowScripts)', async (ctx) => {
  const { code, stdout, stderr } = await npm(ctx, ['install-scripts', 'ls', '--json']);
  if (/Unknown command/.test(stdout + stderr)) {
    ctx.skip('this npm does not read allowScripts');
    return;
  }
  assert.equal(code, 0, stderr);
  const pending = (JSON.parse(stdout) as { allowScripts: { name: string }[] }).allowScripts;
  assert.deepEqual(
    pending.map((p) => p.name),
    [],
    'install would warn that these are not covered by allowScripts',
  );
});

test("onnxruntime-node's install script is denied: it downloads CUDA libraries the CPU build never loads", () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    allowScripts?: Record<string, boolean>;
  };
  assert.equal(pkg.allowScripts?.['onnxruntime-node'], false);
});
