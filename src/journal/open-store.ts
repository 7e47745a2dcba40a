/**
 * Opens the journal store STORE_URL names: `sqlite:PATH` (the default, a file relative to the working
 * directory), `postgres://...` / `postgresql://...`, or `memory:` (nothing kept past the process). Each store's driver is loaded only when it is asked for,
 * so an SQLite server never pays for loading pg at start-up.
 */
import { SwitchboardError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { Keyring } from './keyring.ts';
import { SealedStore } from './sealed-store.ts';
import type { JournalStore } from './store.ts';

export const DEFAULT_STORE_URL = 'sqlite:./data/switchboard.db';

export interface OpenStoreOptions {
  logger: Logger;
  /** Keys that seal records' personal fields (JOURNAL_KEY); none: records are written in clear. */
  keyring?: Keyring;
}

/**
 * The store for `url`, opened (schema created or migrated), sealing and opening records with the keyring (even
 * an empty one, so records sealed elsewhere are read with their personal fields withheld, never half-read).
 * Closes it again if opening fails.
 */
export async function openStore(url: string, options: OpenStoreOptions): Promise<SealedStore> {
  let store: JournalStore;
  if (url === 'memory:') {
    const { MemoryStore } = await import('./memory.ts');
    store = new MemoryStore();
  } else if (url.startsWith('sqlite:') && url.length > 'sqlite:'.length) {
    const { SqliteStore } = await import('./sqlite.ts');
    store = new SqliteStore(url.slice('sqlite:'.length), options);
  } else if (/^postgres(ql)?:\/\//.test(url)) {
    const { PostgresStore } = await import('./postgres.ts');
    store = new PostgresStore(url, options);
  } else {
    // The URL itself is not repeated: it may carry a password.
    throw new SwitchboardError('CONFIG_INVALID', 'STORE_URL must be sqlite:PATH, postgres://... or memory:');
  }
  try {
    await store.open();
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  return new SealedStore(store, options.keyring ?? Keyring.empty());
}
