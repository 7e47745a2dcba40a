/**
 * `switchboard keys generate | rotate`: the keys that encrypt journals' personal fields. `generate` prints a new
 * random key; `rotate` re-seals every record in STORE_URL's store under the first key of JOURNAL_KEY (or
 * JOURNAL_KEY_FILE), opening each with the older key that sealed it. Servers keep running meanwhile.
 */
import { parseArgs } from 'node:util';
import { isSwitchboardError } from '../errors.ts';
import { generateKey, keyringFromEnv } from '../journal/keyring.ts';
import { openStore } from '../journal/open-store.ts';
import { rotateKeys } from '../journal/rotation.ts';
import { Logger } from '../observability/logger.ts';

const HELP = `usage: switchboard keys generate
       switchboard keys rotate

  generate  print a new random journal key (64 hex digits) for JOURNAL_KEY or JOURNAL_KEY_FILE
  rotate    re-encrypt every journal record under the first key, while servers keep running; records in
            clear (from before JOURNAL_KEY was set) are encrypted too. Old keys must still be listed after
            the first one until this has run; records under a key not listed are reported and left alone.

To rotate: generate a key, put it first (JOURNAL_KEY=new,old or a new first line of JOURNAL_KEY_FILE), restart
the servers, run "switchboard keys rotate", then remove the old key.
The store is STORE_URL's (sqlite:./data/switchboard.db unless set).
Exit status: 0 on success; 1 when no key is set, the store cannot be used, or records were left under a missing
key; 2 for a usage error.`;

const NAME = 'switchboard keys';

export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    console.error(`${NAME}: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(HELP);
    return 0;
  }
  const [command, ...rest] = parsed.positionals;
  if (rest.length > 0 || (command !== 'generate' && command !== 'rotate')) {
    console.error(`${NAME}: expected "generate" or "rotate"\n\n${HELP}`);
    return 2;
  }
  if (command === 'generate') {
    console.log(generateKey());
    return 0;
  }
  const logger = new Logger({ level: 'warn', sink: (r) => process.stderr.write(JSON.stringify(r) + '\n') });
  let store;
  try {
    const keyring = keyringFromEnv(process.env);
    if (!keyring.current) {
      console.error(`${NAME}: set JOURNAL_KEY (or JOURNAL_KEY_FILE) to the key to rotate to, first`);
      return 1;
    }
    store = await openStore(process.env.STORE_URL?.trim() || 'sqlite:./data/switchboard.db', {
      logger,
      keyring,
    });
    const started = Date.now();
    const done = await rotateKeys(store.raw, keyring, (_callId, so) => {
      if (so.calls % 1000 === 0)
        console.error(`${so.calls} calls, ${so.records} records re-encrypted so far`);
    });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(
      `re-encrypted ${done.records} records in ${done.callsChanged} of ${done.calls} calls under key ${keyring.current.id} in ${seconds} s`,
    );
    if (done.unreadable > 0) console.log(`${done.unreadable} damaged or torn records left as they are`);
    if (done.missingKey > 0) {
      console.log(
        `${done.missingKey} records are under a key not listed: keep that key until they are re-encrypted`,
      );
      return 1;
    }
    return 0;
  } catch (err) {
    console.error(`${NAME}: ${isSwitchboardError(err) ? `${err.code}: ${err.message}` : String(err)}`);
    return 1;
  } finally {
    await store?.close();
  }
}
