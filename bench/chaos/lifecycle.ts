/**
 * How a chaos run ends, whatever way it ends. A hard timeout or a first Ctrl-C *stops* the run: calls hang up,
 * faults stop, and what was gathered is still checked and printed. Cleanups (server processes, the network
 * namespace, the private PostgreSQL, temporary folders) are synchronous and run once at process exit, also after
 * a second Ctrl-C, SIGTERM or an uncaught error, so nothing the bench made outlives it.
 */

import { setMaxListeners } from 'node:events';

const cleanups: { name: string; run: () => void }[] = [];
let cleanedUp = false;
const controller = new AbortController();
// Every call's streams listen to it: many more than the default ten.
setMaxListeners(0, controller.signal);
let reason: string | null = null;
let onStop: () => void = () => {};

/** Aborted when the run is asked to stop; calls and fault loops listen to it. */
export const stopSignal: AbortSignal = controller.signal;

/** Resolves when the run is asked to stop. */
export const stopped: Promise<void> = new Promise((resolve) => (onStop = resolve));

/** Why the run stopped early, or null while it goes on. */
export const stopReason = (): string | null => reason;

/** Ask the run to stop; the first reason given wins. */
export function stop(why: string): void {
  if (reason !== null) return;
  reason = why;
  console.log(`\n!! stopping: ${why}; checking and printing what was gathered`);
  controller.abort();
  onStop();
}

/**
 * Register a synchronous cleanup, run at exit in reverse order of registration; returns a function that runs it
 * now (once) and unregisters it.
 */
export function atExit(name: string, run: () => void): () => void {
  const entry = { name, run };
  cleanups.push(entry);
  return () => {
    const i = cleanups.indexOf(entry);
    if (i < 0) return;
    cleanups.splice(i, 1);
    runOne(entry);
  };
}

/** Run every registered cleanup now (idempotent). */
export function cleanUpAll(): void {
  if (cleanedUp) return;
  cleanedUp = true;
  for (const entry of cleanups.splice(0).reverse()) runOne(entry);
}

function runOne(entry: { name: string; run: () => void }): void {
  try {
    entry.run();
  } catch (err) {
    // One failed cleanup must not keep the others from running.
    console.error(`!! cleanup "${entry.name}" failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Install the handlers: exit runs the cleanups; Ctrl-C stops, a second one (or SIGTERM) quits at once. */
export function installHandlers(hardTimeoutMs: number): void {
  process.on('exit', cleanUpAll);
  process.on('SIGINT', () => {
    if (reason !== null) quit(130);
    stop('interrupted (Ctrl-C again to quit at once)');
  });
  process.on('SIGTERM', () => quit(143));
  process.on('uncaughtException', (err) => {
    console.error('!! uncaught error:', err);
    quit(1);
  });
  const hard = setTimeout(() => stop(`hard timeout of ${hardTimeoutMs / 60_000} min`), hardTimeoutMs);
  hard.unref();
  // If even the wind-down hangs, leave anyway: the 'exit' handler cleans up.
  setTimeout(() => {
    console.log('!! the wind-down did not finish in time; exiting');
    quit(1);
  }, hardTimeoutMs + 180_000).unref();
}

function quit(code: number): never {
  cleanUpAll();
  process.exit(code);
}
