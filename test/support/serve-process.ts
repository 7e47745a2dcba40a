/** The real server as a child process, for tests of what `switchboard serve` prints and does. */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { copyExampleFlows } from '../fixtures/example-flows.ts';

const BIN = new URL('../../bin/switchboard.js', import.meta.url).pathname;

export interface Served {
  child: ChildProcessByStdio<null, Readable, Readable>;
  url: string;
  banner: string;
  /** JSON log records printed so far. */
  logs: () => Record<string, unknown>[];
  exited: Promise<number | null>;
}

/**
 * Starts the real `switchboard serve` (bin/switchboard.js) on a free port, unauthenticated, with `env` on top;
 * resolves once its banner is printed. Without FLOWS_DIR in `env` it serves a copy of the example flows.
 */
export async function serve(env: Record<string, string>): Promise<Served> {
  // Not flows/ itself: the flows a user adds there must not change what a test sees.
  const examples = env.FLOWS_DIR ? null : await copyExampleFlows();
  const child = spawn(process.execPath, [BIN, 'serve'], {
    env: {
      ...process.env,
      ...(examples ? { FLOWS_DIR: examples.dir } : {}),
      PORT: '0',
      HOST: '',
      TWILIO_AUTH_TOKEN: '',
      PUBLIC_URL: '',
      // Each test's prompts come from its own engine: none are left over on disk from another run.
      PROMPT_CACHE_DIR: 'off',
      // One process unless a test asks for workers: most tests read one process's logs and signals.
      WORKERS: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve)).then(async (code) => {
    await examples?.remove();
    return code;
  });
  // Generous: training four intent models and warming the engines takes ~15 s on a busy 2-core machine.
  const deadline = Date.now() + 60_000;
  while (!/listening on http:\/\/\S+/.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`server did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  await new Promise((r) => setTimeout(r, 100)); // the rest of the banner
  const url = /listening on (http:\/\/\S+)/.exec(out)![1]!;
  const logs = () =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { child, url, banner: out, logs, exited };
}
