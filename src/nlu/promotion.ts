/**
 * Which model version of a flow is live when it is not the one trained from the flow's own examples: a
 * candidate promoted by `switchboard models promote`, recorded as `live.json` beside the flow's versions in the
 * model cache, with the versions live before it for `rollback`. A promotion holds only while the flow's own
 * examples are those it was promoted over (`over`): edit the flow, and its own model is live again.
 */
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SwitchboardError } from '../errors.ts';
import type { ModelCache } from './model-cache.ts';
import { MODEL_JSON } from './model-dir.ts';

export const PROMOTION_FILE = 'live.json';

export interface Promotion {
  /** The version live for new calls. */
  version: string;
  /** The flow's own version when it was promoted. */
  over: string;
  /** ISO time of the promotion. */
  at: string;
  /** Versions promoted before it, most recent last; rollback goes back through them. */
  previous: string[];
}

const VERSION = /^[A-Za-z0-9_-]{1,64}$/;

/** The flow's promotion, or null when none (or a record that does not parse, which is logged by the caller). */
export async function readPromotion(cache: ModelCache, flow: string): Promise<Promotion | null> {
  let text: string;
  try {
    text = await readFile(cache.folder(flow, PROMOTION_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const value = JSON.parse(text) as Partial<Promotion>;
  if (
    typeof value.version !== 'string' ||
    !VERSION.test(value.version) ||
    typeof value.over !== 'string' ||
    !Array.isArray(value.previous) ||
    !value.previous.every((v) => typeof v === 'string' && VERSION.test(v))
  )
    throw new SwitchboardError(
      'NLU_MODEL_INVALID',
      `${PROMOTION_FILE} of flow ${flow} is not a promotion record`,
      {
        flow,
      },
    );
  return { version: value.version, over: value.over, at: String(value.at ?? ''), previous: value.previous };
}

/** Writes (or, with null, removes) the promotion record; a reader sees the old record or the new one. */
export async function writePromotion(
  cache: ModelCache,
  flow: string,
  promotion: Promotion | null,
): Promise<void> {
  const target = cache.folder(flow, PROMOTION_FILE);
  if (promotion === null) {
    await rm(target, { force: true });
    return;
  }
  await mkdir(join(target, '..'), { recursive: true });
  const temp = `${target}.tmp-${process.pid}-${Date.now()}`;
  await writeFile(temp, `${JSON.stringify(promotion, null, 2)}\n`);
  await rename(temp, target);
}

/** The model versions cached for a flow (folders holding a model), sorted. */
export async function cachedVersions(cache: ModelCache, flow: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(join(cache.folder(flow, PROMOTION_FILE), '..'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const versions: string[] = [];
  for (const name of names.filter((n) => VERSION.test(n)).sort())
    if (
      await readFile(join(cache.folder(flow, name), MODEL_JSON)).then(
        () => true,
        () => false,
      )
    )
      versions.push(name);
  return versions;
}
