/**
 * A journal store whose appends are spans in the call's trace: children of the call span while the call is live
 * in this process. Everything else passes straight through.
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { CallSummary, JournalStore, Lease, StoredRecord } from '../journal/store.ts';
import { ATTR } from './call-spans.ts';
import type { CallTraces } from './call-traces.ts';

export const JOURNAL_APPEND_SPAN = 'journal.append';

export class TracedStore implements JournalStore {
  readonly #store: JournalStore;
  readonly #traces: CallTraces;

  constructor(store: JournalStore, traces: CallTraces) {
    this.#store = store;
    this.#traces = traces;
  }

  get kind(): JournalStore['kind'] {
    return this.#store.kind;
  }

  get location(): string {
    return this.#store.location;
  }

  async append(lease: Lease, records: readonly StoredRecord[]): Promise<void> {
    const span = this.#traces.start(lease.callId, JOURNAL_APPEND_SPAN, {
      kind: SpanKind.CLIENT,
      attributes: {
        [ATTR.callId]: lease.callId,
        'db.system.name': this.#store.kind,
        'switchboard.journal.records': records.length,
        'switchboard.journal.kinds': [...new Set(records.map((r) => r.kind))].join(','),
        'switchboard.journal.first_seq': records[0]?.seq ?? 0,
      },
    });
    try {
      await this.#store.append(lease, records);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: typeof code === 'string' ? code : 'append failed',
      });
      throw err;
    } finally {
      span.end();
    }
  }

  open(): Promise<void> {
    return this.#store.open();
  }

  acquire(callId: string, owner: string): Promise<Lease> {
    return this.#store.acquire(callId, owner);
  }

  read(callId: string): Promise<StoredRecord[]> {
    return this.#store.read(callId);
  }

  summary(callId: string): Promise<CallSummary | null> {
    return this.#store.summary(callId);
  }

  list(limit: number): Promise<CallSummary[]> {
    return this.#store.list(limit);
  }

  release(lease: Lease): Promise<void> {
    return this.#store.release(lease);
  }

  secret(): Promise<Buffer> {
    return this.#store.secret();
  }

  close(): Promise<void> {
    return this.#store.close();
  }
}
