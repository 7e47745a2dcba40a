/**
 * The journal store as the rest of Switchboard sees it: records are sealed (their personal fields encrypted,
 * sealing.ts) on the way in when the keyring has a key, and opened on the way out with whichever of its keys
 * sealed them. Without the right key a record comes out with its personal fields withheld, its structure intact.
 * Every other method passes straight through, so leases, fencing and the stores themselves are unchanged.
 */
import { ForwardingStore } from './forwarding-store.ts';
import type { Keyring } from './keyring.ts';
import { decodeRecord, encodeRecord } from './records.ts';
import { openRecord, sealRecord } from './sealing.ts';
import type { JournalStore, Lease, StoredRecord } from './store.ts';

/** Only a line with this text can be sealed: the rest are returned without being decoded. */
const SEALED_MARK = '"sealed":"';

export class SealedStore extends ForwardingStore {
  readonly keyring: Keyring;

  constructor(inner: JournalStore, keyring: Keyring) {
    super(inner);
    this.keyring = keyring;
  }

  /** The store underneath, whose lines are as stored (sealed): for re-sealing under a new key. */
  get raw(): JournalStore {
    return this.inner;
  }

  override append(lease: Lease, records: readonly StoredRecord[]): Promise<void> {
    const key = this.keyring.current;
    if (key === null) return this.inner.append(lease, records);
    return this.inner.append(
      lease,
      records.map((r) => ({ ...r, line: encodeRecord(sealRecord(decodeRecord(r.line), key)) })),
    );
  }

  override async read(callId: string): Promise<StoredRecord[]> {
    const rows = await this.inner.read(callId);
    return rows.map((row) => (row.line.includes(SEALED_MARK) ? { ...row, line: this.#open(row.line) } : row));
  }

  #open(line: string): string {
    let record;
    try {
      record = decodeRecord(line);
    } catch {
      // A torn or damaged line is left for the reader, which knows whether it is the last (readRecords).
      return line;
    }
    return encodeRecord(openRecord(record, this.keyring));
  }
}
