/**
 * The Google engines' tests with networking blocked except loopback: they run in a network namespace of their
 * own (`unshare --net`) where only `lo` is up, so any attempt to reach Google, its metadata server or DNS fails
 * at once, and passing proves the real clients were only ever talking to the local fakes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { OFFLINE_ENV, noIsolation as why } from '../support/network-isolation.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const SUITES = [
  'test/unit/speech/google-tts.test.ts',
  'test/unit/speech/google-stt-streaming.test.ts',
  'test/unit/speech/google-stt-v2.test.ts',
  'test/unit/speech/google-fake.test.ts',
  'test/integration/google-speech.test.ts',
  'test/integration/google-call.test.ts',
];

test(
  why === null
    ? 'the Google engines pass their tests with networking blocked except loopback'
    : `SKIPPED: the Google tests without network (no network namespace here: ${why})`,
  { skip: why !== null },
  async (ctx) => {
    const script = [
      'ip link set lo up',
      // The sandbox really is closed: an address outside it cannot be reached.
      `node -e "require('net').connect(443, '142.250.0.1').on('error', (e) => { console.log('outside:', e.code); })"`,
      `exec node --import tsx --test --test-concurrency=1 --test-reporter=tap --test-name-pattern='^(?!when Google keeps failing)' ${SUITES.join(' ')}`,
    ].join(' && ');
    // Without the runner's NODE_TEST_CONTEXT, the child reports to its own output rather than to this runner, in TAP
    // as asked: Node 23 and later default to the spec reporter even when the output is not a terminal.
    // The suites that leave their tests to this run (leftToOfflineRun) run them here.
    const env: NodeJS.ProcessEnv = { ...process.env, [OFFLINE_ENV]: '1' };
    delete env.NODE_TEST_CONTEXT;
    const child = spawn('unshare', ['--net', 'sh', '-c', script], {
      env,
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.match(out, /outside: (ENETUNREACH|EHOSTUNREACH)/, 'nothing outside loopback is reachable');
    const passed = Number(/^# pass (\d+)/m.exec(out)?.[1] ?? 0);
    const failed = Number(/^# fail (\d+)/m.exec(out)?.[1] ?? -1);
    ctx.diagnostic(`${passed} tests passed offline`);
    // On failure, what failed: each `not ok` with the lines of its report.
    const failures = [...out.matchAll(/^\s*not ok [\s\S]*?(?=^\s*(?:ok|not ok|# Subtest) )/gm)].map(
      (m) => m[0],
    );
    const report = failures.length > 0 ? failures.join('\n').slice(0, 8000) : out.slice(-4000);
    assert.equal(failed, 0, report);
    assert.equal(code, 0, report);
    assert.ok(passed >= 30, `the suites ran (${passed} passed)`);
  },
);
