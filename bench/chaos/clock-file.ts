/**
 * Stepping one server's wall clock while it runs, with libfaketime (Debian package `faketime`): the server is
 * started with the library preloaded and reading its offset from a file of its own; writing "+300s" there steps
 * every wall-clock read of that process (Date.now in the server, the journal's times, pg, the logs) five
 * minutes forward within a second, as an NTP step would. The monotonic clock, which timers and durations use, is
 * left alone (FAKETIME_DONT_FAKE_MONOTONIC), as a real step leaves it.
 */
import { existsSync, writeFileSync } from 'node:fs';

const LIBRARIES = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1',
  '/usr/lib/faketime/libfaketimeMT.so.1',
];

/** The preloadable libfaketime, or null when the `faketime` package is not installed. */
export function faketimeLibrary(): string | null {
  return LIBRARIES.find((path) => existsSync(path)) ?? null;
}

/** One process's clock offset, in a file libfaketime reads at most once a second. */
export class ClockFile {
  readonly path: string;
  #offsetS = 0;

  constructor(path: string) {
    this.path = path;
    this.set(0);
  }

  /** The offset from the real clock now, in seconds. */
  get offsetS(): number {
    return this.#offsetS;
  }

  /** Step the clock to `offsetS` seconds from the real clock. */
  set(offsetS: number): void {
    this.#offsetS = offsetS;
    writeFileSync(this.path, `${offsetS >= 0 ? '+' : ''}${offsetS}s\n`);
  }

  /** The environment that makes a process read its clock through this file. */
  env(library: string): Record<string, string> {
    return {
      LD_PRELOAD: library,
      FAKETIME_TIMESTAMP_FILE: this.path,
      FAKETIME_CACHE_DURATION: '1',
      FAKETIME_DONT_FAKE_MONOTONIC: '1',
    };
  }
}
