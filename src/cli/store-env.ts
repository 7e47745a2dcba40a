/**
 * What the commands that read journals share: the store STORE_URL names, opened with JOURNAL_KEY's keys, and
 * the failures they report in one line.
 */
import { isSwitchboardError } from '../errors.ts';
import { keyringFromEnv } from '../journal/keyring.ts';
import { openStore } from '../journal/open-store.ts';
import type { SealedStore } from '../journal/sealed-store.ts';
import { Logger } from '../observability/logger.ts';

/** The journal store of STORE_URL (sqlite:./data/switchboard.db unless set); its warnings go to stderr. */
export function openStoreFromEnv(): Promise<SealedStore> {
  const logger = new Logger({ level: 'warn', sink: (r) => process.stderr.write(JSON.stringify(r) + '\n') });
  const url = process.env.STORE_URL?.trim() || 'sqlite:./data/switchboard.db';
  return openStore(url, { logger, keyring: keyringFromEnv(process.env) });
}

/** A failure a command explains in its own words; anything else is described by its code and message. */
export class CommandFailure extends Error {}

export function describeFailure(err: unknown): string {
  if (err instanceof CommandFailure) return err.message;
  return isSwitchboardError(err) ? `${err.code}: ${err.message}` : String(err);
}
