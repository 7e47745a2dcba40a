/**
 * A journal store in this process's memory (`STORE_URL=memory:`): the same leases, fencing and conflicts as the
 * durable stores, for calls nothing needs to survive, such as `switchboard chat`. Everything is lost on exit.
 */
import { randomBytes } from 'node:crypto';
import { SwitchboardError } from '../errors.ts';
import type { CallSummary, JournalStore, Lease, LineRewrite, StoredRecord } from './store.ts';

interface CallRow {
  flow: string | null;
  owner: string | null;
  token: number;
  records: StoredRecord[];
}

export class MemoryStore implements JournalStore {
  readonly kind = 'memory';
  readonly location = 'memory';
  readonly #calls = new Map<string, CallRow>();
  readonly #secret = randomBytes(32);

  open(): Promise<void> {
    return Promise.resolve();
  }

  acquire(callId: string, owner: string): Promise<Lease> {
    return Promise.resolve(this.lease(callId, owner));
  }

  /** `acquire`, at once: nothing here waits for I/O. */
  lease(callId: string, owner: string): Lease {
    const row = this.#calls.get(callId) ?? { flow: null, owner: null, token: 0, records: [] };
    row.token += 1;
    row.owner = owner;
    this.#calls.set(callId, row);
    return { callId, owner, token: row.token };
  }

  append(lease: Lease, records: readonly StoredRecord[]): Promise<void> {
    const row = this.#calls.get(lease.callId);
    if (!row || row.token !== lease.token) {
      return Promise.reject(
        new SwitchboardError('JOURNAL_FENCED', undefined, {
          callId: lease.callId,
          token: lease.token,
          current: row?.token ?? null,
        }),
      );
    }
    const taken = new Set(row.records.map((r) => r.seq));
    for (const r of records) {
      if (taken.has(r.seq)) {
        return Promise.reject(
          new SwitchboardError('JOURNAL_CONFLICT', undefined, { callId: lease.callId, seq: r.seq }),
        );
      }
      taken.add(r.seq);
    }
    for (const r of records) {
      row.records.push({ ...r });
      if (r.flow !== undefined) row.flow = r.flow;
    }
    row.records.sort((a, b) => a.seq - b.seq);
    return Promise.resolve();
  }

  read(callId: string): Promise<StoredRecord[]> {
    return Promise.resolve((this.#calls.get(callId)?.records ?? []).map((r) => ({ ...r })));
  }

  summary(callId: string): Promise<CallSummary | null> {
    const row = this.#calls.get(callId);
    return Promise.resolve(row ? summarize(callId, row) : null);
  }

  list(limit: number): Promise<CallSummary[]> {
    const all = [...this.#calls].map(([id, row]) => summarize(id, row));
    all.sort((a, b) => (b.lastAt ?? 0) - (a.lastAt ?? 0));
    return Promise.resolve(all.slice(0, limit));
  }

  release(lease: Lease): Promise<void> {
    const row = this.#calls.get(lease.callId);
    if (row && row.token === lease.token) row.owner = null;
    return Promise.resolve();
  }

  callIds(after: string | null, limit: number): Promise<string[]> {
    const ids = [...this.#calls.keys()].filter((id) => after === null || id > after).sort();
    return Promise.resolve(ids.slice(0, limit));
  }

  endedBefore(before: number, limit: number): Promise<string[]> {
    const ended = [...this.#calls]
      .map(([id, row]) => summarize(id, row))
      .filter((c) => c.ended && c.lastAt !== null && c.lastAt < before)
      .sort((a, b) => a.lastAt! - b.lastAt!);
    return Promise.resolve(ended.slice(0, limit).map((c) => c.callId));
  }

  rewrite(callId: string, lines: readonly LineRewrite[]): Promise<number> {
    const records = this.#calls.get(callId)?.records ?? [];
    let replaced = 0;
    for (const change of lines) {
      const record = records.find((r) => r.seq === change.seq);
      if (record?.line !== change.from) continue;
      record.line = change.to;
      replaced++;
    }
    return Promise.resolve(replaced);
  }

  erase(callId: string): Promise<number | null> {
    const row = this.#calls.get(callId);
    if (!row || !row.records.some((r) => r.kind === 'end')) return Promise.resolve(null);
    this.#calls.delete(callId);
    return Promise.resolve(row.records.length);
  }

  secret(): Promise<Buffer> {
    return Promise.resolve(this.#secret);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function summarize(callId: string, row: CallRow): CallSummary {
  return {
    callId,
    flow: row.flow,
    records: row.records.length,
    firstAt: row.records[0]?.at ?? null,
    lastAt: row.records.at(-1)?.at ?? null,
    ended: row.records.some((r) => r.kind === 'end'),
    owner: row.owner,
    token: row.token,
  };
}
