/**
 * A journal store whose appends are spans in the call's trace: children of the call span while the call is live
 * in this process. Everything else passes straight through (ForwardingStore).
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { ForwardingStore } from '../journal/forwarding-store.ts';
import type { JournalStore, Lease, StoredRecord } from '../journal/store.ts';
import { ATTR } from './call-spans.ts';
import type { CallTraces } from './call-traces.ts';

export const JOURNAL_APPEND_SPAN = 'journal.append';

export class TracedStore extends ForwardingStore {
  readonly #traces: CallTraces;

  constructor(store: JournalStore, traces: CallTraces) {
    super(store);
    this.#traces = traces;
  }

  override async append(lease: Lease, records: readonly StoredRecord[]): Promise<void> {
    const span = this.#traces.start(lease.callId, JOURNAL_APPEND_SPAN, {
      kind: SpanKind.CLIENT,
      attributes: {
        [ATTR.callId]: lease.callId,
        'db.system.name': this.inner.kind,
        'switchboard.journal.records': records.length,
        'switchboard.journal.kinds': [...new Set(records.map((r) => r.kind))].join(','),
        'switchboard.journal.first_seq': records[0]?.seq ?? 0,
      },
    });
    try {
      await this.inner.append(lease, records);
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
}
