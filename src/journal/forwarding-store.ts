/**
 * A journal store that hands every call to another: the base of the stores that wrap one (sealing personal
 * fields, tracing appends), so each overrides only what it changes and a method added to the interface is
 * forwarded here once.
 */
import type { CallSummary, JournalStore, Lease, LineRewrite, StoredRecord } from './store.ts';

export class ForwardingStore implements JournalStore {
  protected readonly inner: JournalStore;

  constructor(inner: JournalStore) {
    this.inner = inner;
  }

  get kind(): JournalStore['kind'] {
    return this.inner.kind;
  }

  get location(): string {
    return this.inner.location;
  }

  open(): Promise<void> {
    return this.inner.open();
  }

  acquire(callId: string, owner: string): Promise<Lease> {
    return this.inner.acquire(callId, owner);
  }

  append(lease: Lease, records: readonly StoredRecord[]): Promise<void> {
    return this.inner.append(lease, records);
  }

  read(callId: string): Promise<StoredRecord[]> {
    return this.inner.read(callId);
  }

  summary(callId: string): Promise<CallSummary | null> {
    return this.inner.summary(callId);
  }

  list(limit: number): Promise<CallSummary[]> {
    return this.inner.list(limit);
  }

  release(lease: Lease): Promise<void> {
    return this.inner.release(lease);
  }

  callIds(after: string | null, limit: number): Promise<string[]> {
    return this.inner.callIds(after, limit);
  }

  endedBefore(before: number, limit: number): Promise<string[]> {
    return this.inner.endedBefore(before, limit);
  }

  rewrite(callId: string, lines: readonly LineRewrite[]): Promise<number> {
    return this.inner.rewrite(callId, lines);
  }

  erase(callId: string): Promise<number | null> {
    return this.inner.erase(callId);
  }

  secret(): Promise<Buffer> {
    return this.inner.secret();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
