/**
 * The committed corpus: test/fuzz/corpus/<target>/, one input per file, read as bytes. Seeds are small inputs
 * worth starting from; `crash-*` files reproduce failures found and fixed, and every run replays them first.
 * Inputs found at run time are written elsewhere (`--corpus-out`), named by their SHA-1 like libFuzzer's.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CORPUS_DIR = fileURLToPath(new URL('./corpus/', import.meta.url));

export interface CorpusEntry {
  name: string;
  input: Buffer;
}

/** The committed inputs of `target`, in name order; none when it has no folder. */
export function loadCorpus(target: string, dir: string = join(CORPUS_DIR, target)): CorpusEntry[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .map((name) => ({ name, input: readFileSync(join(dir, name)) }));
}

/** Writes `input` under `dir` as `<prefix><sha1>`; returns the path. */
export function saveInput(dir: string, input: Buffer, prefix = ''): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, prefix + createHash('sha1').update(input).digest('hex'));
  writeFileSync(path, input);
  return path;
}
