/**
 * The prompt cache's disk tier: synthesized prompts kept across restarts, and shared by processes on one machine,
 * as one file of mu-law bytes per prompt, exactly as the engine returned them (before trimming), named by a hash
 * of the prompt's key. Files are written under a temporary name and renamed, so a reader (in this process or
 * another) sees a whole file or none; an empty file (a crash between rename and flush) is a miss. All I/O is
 * async and best effort: a failure is logged and costs a synthesis, never a prompt.
 *
 * The folder is made 0700 and each file 0600: only the server's user reads them. Files are named `p2-<hash>`;
 * older builds also kept prompts made from callers' data here, so a prompt file of another name is removed when
 * the folder is first scanned.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../observability/logger.ts';

export interface PromptStoreOptions {
  /** Budget for the files' bytes; the least recently written or read go first. Default 256 MiB. */
  maxBytes?: number;
  logger?: Logger;
}

export const DEFAULT_MAX_DISK_BYTES = 256 * 1024 * 1024;

const EXT = '.ulaw';
/** Files of this build's naming; other `.ulaw` files were written before prompts were filtered for caller data. */
const PREFIX = 'p2-';
const TMP_EXT = '.tmp';
/** A pruning removes files until the total is this share of the budget, so it does not run again at once. */
const PRUNE_TO = 0.9;
/** Temporary files older than this were left by a crash (a write takes milliseconds): pruning removes them. */
const STALE_TMP_MS = 10 * 60 * 1000;

/** Where the prompt under `key` is stored in `dir`: a SHA-256 of the key, so no text reaches the file system. */
export function promptFilePath(dir: string, key: string): string {
  return join(dir, PREFIX + createHash('sha256').update(key).digest('hex') + EXT);
}

/** A folder of synthesized prompts, bounded in bytes. */
export class PromptStore {
  readonly dir: string;
  readonly #maxBytes: number;
  readonly #logger: Logger | undefined;
  /** The folder exists and `#bytes` was scanned; made at the first write, again after a failure. */
  #ready: Promise<void> | undefined;
  /** Bytes in the folder as this process knows them: a scan plus its own writes since (not other processes'). */
  #bytes = 0;
  #pruning: Promise<void> | undefined;
  readonly #writes = new Set<Promise<boolean>>();
  #legacyRemoved = 0;

  constructor(dir: string, options: PromptStoreOptions = {}) {
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_DISK_BYTES;
    if (!(maxBytes >= 0)) throw new RangeError('maxDiskBytes must be a number >= 0');
    this.dir = dir;
    this.#maxBytes = maxBytes;
    this.#logger = options.logger;
    // Now, not at the first write: files an older build left go at start-up. A failure is retried then.
    this.#prepare().catch(noop);
  }

  /** The mu-law bytes stored under `key`, or null (missing, empty or unreadable). Never rejects. */
  async read(key: string): Promise<Uint8Array | null> {
    const path = promptFilePath(this.dir, key);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (err) {
      const code = errorCode(err);
      if (code !== 'ENOENT' && code !== 'ENOTDIR') {
        this.#logger?.warn('prompt cache file unreadable', { key, code });
      }
      return null;
    }
    if (bytes.length === 0) return null;
    // Marks it recently used for pruning; a failure only makes it go sooner.
    const now = new Date();
    await utimes(path, now, now).catch(noop);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Store `mulaw` under `key`; resolves to whether it was written, and never rejects (failures are logged). */
  write(key: string, mulaw: Uint8Array): Promise<boolean> {
    const write = this.#write(key, mulaw).finally(() => this.#writes.delete(write));
    this.#writes.add(write);
    return write;
  }

  /** Resolves once the start-up scan, every write started so far, and any pruning they started are done. */
  async flush(): Promise<void> {
    await this.#ready?.catch(noop);
    while (this.#writes.size > 0) await Promise.all(this.#writes);
    while (this.#pruning) await this.#pruning;
  }

  async #write(key: string, mulaw: Uint8Array): Promise<boolean> {
    // Empty audio would read back as a damaged file; a file over the whole budget would be pruned at once.
    if (mulaw.length === 0 || mulaw.length > this.#maxBytes) return false;
    const path = promptFilePath(this.dir, key);
    // Unique per process and write: two processes writing the same prompt each rename a whole file of their own.
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}${TMP_EXT}`;
    try {
      await this.#prepare();
      await writeFile(tmp, mulaw, { flag: 'wx', mode: 0o600 });
      await rename(tmp, path);
    } catch (err) {
      this.#logger?.warn('prompt cache file not written', { key, code: errorCode(err) });
      await unlink(tmp).catch(noop);
      return false;
    }
    // A file replaced in place is counted twice; that only brings the next pruning (which recounts) forward.
    this.#bytes += mulaw.length;
    if (this.#bytes > this.#maxBytes) this.#prune();
    return true;
  }

  #prepare(): Promise<void> {
    this.#ready ??= (async () => {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      this.#bytes = (await this.#scan()).reduce((sum, f) => sum + f.size, 0);
      if (this.#legacyRemoved > 0)
        this.#logger?.info("prompt files of an older build removed (they may hold callers' data)", {
          removed: this.#legacyRemoved,
        });
    })().catch((err: unknown) => {
      this.#ready = undefined;
      throw err;
    });
    return this.#ready;
  }

  /** Remove the least recently used files until the folder is well under budget; one pruning at a time. */
  #prune(): void {
    this.#pruning ??= this.#pruneNow()
      .catch((err: unknown) => this.#logger?.warn('prompt cache pruning failed', { code: errorCode(err) }))
      .finally(() => (this.#pruning = undefined));
  }

  async #pruneNow(): Promise<void> {
    const files = await this.#scan();
    files.sort((a, b) => a.mtimeMs - b.mtimeMs || (a.path < b.path ? -1 : 1));
    let bytes = files.reduce((sum, f) => sum + f.size, 0);
    const target = this.#maxBytes * PRUNE_TO;
    let removed = 0;
    for (const file of files) {
      if (bytes <= target) break;
      try {
        await unlink(file.path);
      } catch (err) {
        // Gone already: another process pruned it.
        if (errorCode(err) !== 'ENOENT') throw err;
      }
      bytes -= file.size;
      removed++;
    }
    this.#bytes = bytes;
    this.#logger?.debug('prompt cache pruned', { removed, bytes });
  }

  /** Every prompt file with its size and time; removes temporary files a crash left behind. */
  async #scan(): Promise<{ path: string; size: number; mtimeMs: number }[]> {
    const names = await readdir(this.dir);
    const now = Date.now();
    const files: { path: string; size: number; mtimeMs: number }[] = [];
    for (const name of names) {
      const path = join(this.dir, name);
      const isTmp = name.endsWith(TMP_EXT);
      if (!isTmp && !name.endsWith(EXT)) continue;
      const info = await stat(path).catch(() => null);
      if (!info?.isFile()) continue;
      if (isTmp) {
        if (now - info.mtimeMs > STALE_TMP_MS) await unlink(path).catch(noop);
      } else if (!name.startsWith(PREFIX)) {
        await unlink(path).catch(noop);
        this.#legacyRemoved++;
      } else {
        files.push({ path, size: info.size, mtimeMs: info.mtimeMs });
      }
    }
    return files;
  }
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'UNKNOWN';
}

function noop(): void {}
