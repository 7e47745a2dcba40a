/**
 * The keys that encrypt the personal fields of call journals (AES-256-GCM). The first key seals new records; every
 * key opens the records sealed under it, so keys can rotate: put a new key first, keep the old ones after it
 * until `switchboard keys rotate` has re-sealed their records, then drop them.
 *
 * A key is 32 random bytes written as 64 hexadecimal digits. Its id, stored beside each sealed field, is derived
 * from the key (the first 8 hex digits of a SHA-256 under a fixed label), so a record names its key without
 * revealing it and nobody has to assign ids by hand.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SwitchboardError } from '../errors.ts';

export interface JournalKey {
  id: string;
  secret: Buffer;
}

export class Keyring {
  /** The key new records are sealed with; null when encryption is off (records are written in clear). */
  readonly current: JournalKey | null;
  readonly #byId: Map<string, JournalKey>;

  constructor(keys: readonly JournalKey[]) {
    this.current = keys[0] ?? null;
    this.#byId = new Map(keys.map((k) => [k.id, k]));
  }

  /** A keyring with no keys: nothing is sealed, and sealed records are read with their personal fields withheld. */
  static empty(): Keyring {
    return new Keyring([]);
  }

  get size(): number {
    return this.#byId.size;
  }

  get(id: string): JournalKey | undefined {
    return this.#byId.get(id);
  }
}

const HEX_KEY = /^[0-9a-fA-F]{64}$/;

/** A key from its 64 hex digits; CONFIG_INVALID (never echoing the text) when it is not one. */
export function parseKey(text: string, where: string): JournalKey {
  const hex = text.trim();
  if (!HEX_KEY.test(hex)) {
    throw new SwitchboardError('CONFIG_INVALID', `${where} is not 64 hexadecimal digits (32 bytes)`, {
      where,
    });
  }
  const secret = Buffer.from(hex, 'hex');
  return { id: keyId(secret), secret };
}

export function keyId(secret: Buffer): string {
  return createHash('sha256').update('switchboard journal key\n').update(secret).digest('hex').slice(0, 8);
}

/** A new random key, as the 64 hex digits JOURNAL_KEY takes. */
export function generateKey(): string {
  return randomBytes(32).toString('hex');
}

/**
 * The keyring the environment names: JOURNAL_KEY (one key, or several separated by commas, newest first) and
 * JOURNAL_KEY_FILE (a file of keys, one per line, newest first; `#` starts a comment). Both may be set: the
 * variable's keys come first. Neither: an empty keyring.
 */
export function keyringFromEnv(env: NodeJS.ProcessEnv): Keyring {
  const keys: JournalKey[] = [];
  const inline = env.JOURNAL_KEY?.trim();
  if (inline) {
    inline.split(',').forEach((text, i) => keys.push(parseKey(text, `JOURNAL_KEY's key ${i + 1}`)));
  }
  const file = env.JOURNAL_KEY_FILE?.trim();
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new SwitchboardError(
        'CONFIG_INVALID',
        `JOURNAL_KEY_FILE cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
        { file },
      );
    }
    text.split('\n').forEach((line, i) => {
      const content = line.replace(/#.*/, '').trim();
      if (content !== '') keys.push(parseKey(content, `JOURNAL_KEY_FILE line ${i + 1}`));
    });
    if (keys.length === 0)
      throw new SwitchboardError('CONFIG_INVALID', 'JOURNAL_KEY_FILE holds no key', { file });
  }
  return new Keyring(keys);
}
