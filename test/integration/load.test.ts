/**
 * `switchboard load` against a delayed agent (test/fakes/delayed-agent-server.ts) whose answers come a known delay
 * after each utterance: the generator's turn latency lands within that delay plus a margin, refused calls are
 * counted, an injected pause inside the agent's audio is a stall, a stream on a host not named is refused, and
 * --max-seconds ends the run.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { pcmToMulaw } from '../../src/audio/index.ts';
import { utteranceFrames, type Utterances } from '../../src/load/caller-audio.ts';
import type { LoadOptions } from '../../src/load/options.ts';
import { runLoad } from '../../src/load/scheduler.ts';
import { startDelayedAgent } from '../fakes/delayed-agent-server.ts';

const BIN = new URL('../../bin/switchboard.js', import.meta.url).pathname;
const DELAY_MS = 400;
/** Generous: timers on a busy 2-core machine run late, but never early. */
const MARGIN_MS = 250;

/** A 300 ms tone, loud in every frame: the delayed agent hears exactly where it ends. */
function tone(): Utterances {
  const pcm = new Int16Array(2400);
  for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000));
  return [utteranceFrames(pcmToMulaw(pcm))];
}

function options(url: string, overrides: Partial<LoadOptions> = {}): LoadOptions {
  return {
    url,
    flow: null,
    steps: [4],
    rampPerSecond: 20,
    holdMs: 4000,
    speech: { kind: 'silence' },
    everyMs: 1500,
    answerWithinMs: 1200,
    allowHosts: [],
    authToken: null,
    pid: null,
    maxSeconds: 60,
    json: false,
    ...overrides,
  };
}

test('turn latency is the injected delay plus a small margin, and every turn is answered', async () => {
  const agent = await startDelayedAgent({ replyDelayMs: DELAY_MS, authToken: 'secret' });
  try {
    const result = await runLoad(options(agent.url, { authToken: 'secret' }), tone());
    assert.equal(result.stopped, null);
    const [step] = result.steps;
    assert.ok(step);
    assert.equal(agent.counts.badSignatures, 0, 'requests are signed as Twilio signs them');
    assert.equal(step.connected, 4);
    assert.ok(step.turns.total >= 4, `turns: ${step.turns.total}`);
    assert.equal(step.turns.answered, step.turns.total);
    const p50 = step.turns.latencyMs.p50!;
    assert.ok(p50 >= DELAY_MS && p50 <= DELAY_MS + MARGIN_MS, `p50 ${p50} ms`);
    assert.ok(step.agentAudio.frameGaps > 0);
    assert.ok(step.server?.pid === process.pid, 'the fake runs in this process, found from its port');
  } finally {
    await agent.close();
  }
});

test('calls past the server limit are counted as refused: busy TwiML, <Reject> or HTTP 503', async () => {
  for (const refuseWith of ['busy', 'reject', 503] as const) {
    const agent = await startDelayedAgent({ replyDelayMs: DELAY_MS, maxCalls: 2, refuseWith });
    try {
      const result = await runLoad(options(agent.url, { steps: [2, 5], holdMs: 500 }), []);
      assert.deepEqual(
        result.steps.map((s) => [s.connected, s.refused, s.failed]),
        [
          [2, 0, 0],
          [0, 3, 0],
        ],
        String(refuseWith),
      );
      assert.equal(agent.counts.refused, 3);
      const why = { busy: 'busy message', reject: 'rejected', 503: 'HTTP 503' }[refuseWith];
      assert.deepEqual(result.steps[1]!.notConnected, { [why]: 3 });
      assert.equal(result.steps[1]!.active, 2);
    } finally {
      await agent.close();
    }
  }
});

test('a pause inside the agent audio is counted as a stall', async () => {
  const agent = await startDelayedAgent({ replyDelayMs: DELAY_MS, stall: { afterFrames: 10, ms: 200 } });
  try {
    const result = await runLoad(options(agent.url, { steps: [2] }), tone());
    const step = result.steps[0]!;
    assert.ok(agent.counts.answers > 0);
    assert.ok(step.agentAudio.stalls >= 1, `stalls: ${step.agentAudio.stalls}`);
    assert.ok(step.agentAudio.lateGaps >= step.agentAudio.stalls, 'a break heard is a late arrival too');
    // The caller heard the pause less what the agent had sent ahead of it.
    assert.ok(
      step.agentAudio.longestBreakMs >= 100 && step.agentAudio.longestBreakMs <= 260,
      `longest break ${step.agentAudio.longestBreakMs} ms`,
    );
    assert.ok(step.agentAudio.jitterP99Ms! >= 150, `jitter p99 ${step.agentAudio.jitterP99Ms}`);
  } finally {
    await agent.close();
  }
});

test('a stream on a host other than --url is refused before anything is sent to it', async () => {
  const agent = await startDelayedAgent({ replyDelayMs: DELAY_MS, streamHost: 'localhost' });
  try {
    const result = await runLoad(options(agent.url), []);
    assert.match(result.stopped ?? '', /streams to ws:\/\/localhost:\d+, which is not 127\.0\.0\.1:\d+/);
    assert.equal(result.steps.length, 0);
    const allowed = await runLoad(options(agent.url, { holdMs: 300, allowHosts: ['localhost'] }), []);
    assert.equal(allowed.stopped, null);
    assert.equal(allowed.steps[0]!.connected, 4);
    // A webhook that redirects elsewhere is not followed either.
    const redirecting = createServer((_req, res) => res.writeHead(307, { location: agent.url }).end());
    redirecting.listen(0, '127.0.0.1');
    await once(redirecting, 'listening');
    const port = (redirecting.address() as AddressInfo).port;
    const seen = agent.counts.connected;
    const redirected = await runLoad(options(`http://127.0.0.1:${port}`), []);
    redirecting.close();
    assert.match(redirected.stopped ?? '', /redirect \(HTTP 307\), which a load run does not follow/);
    assert.equal(agent.counts.connected, seen, 'no redirected call reached the agent');
  } finally {
    await agent.close();
  }
});

/** Runs the real command; resolves with its exit code and output. */
function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'load', ...args], {
      env: { ...process.env, TWILIO_AUTH_TOKEN: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('--max-seconds stops the run, hangs up its calls and exits 1', async () => {
  const agent = await startDelayedAgent({ replyDelayMs: DELAY_MS });
  try {
    const run = await cli([
      '--url',
      agent.url,
      '--calls',
      '2',
      '--hold',
      '10m',
      '--max-seconds',
      '2',
      '--json',
    ]);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /stopped after --max-seconds 2, with 0 of 1 steps done/);
    const result = JSON.parse(run.stdout) as { stopped: string; steps: { complete: boolean }[] };
    assert.equal(result.stopped, 'max-seconds');
    assert.deepEqual(
      result.steps.map((s) => s.complete),
      [false],
    );
  } finally {
    await agent.close();
  }
});

test('the command refuses a foreign stream with exit 1, and bad options with exit 2', async () => {
  const agent = await startDelayedAgent({ replyDelayMs: DELAY_MS, streamHost: 'localhost' });
  try {
    const refused = await cli(['--url', agent.url, '--calls', '1', '--hold', '1s']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /--allow-host/);
    const usage = await cli(['--calls', '1']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--url is required/);
    const unreachable = await cli(['--url', 'http://127.0.0.1:1', '--calls', '1', '--hold', '1s']);
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /cannot reach the server at http:\/\/127\.0\.0\.1:1/);
  } finally {
    await agent.close();
  }
});
