/**
 * Starting spans in a call's trace. The call span of a stream is a root span whose trace id is the call's
 * (trace-ids.ts); other spans of the call (turns, journal appends) are its children while it is live in this
 * process, and roots in the same trace otherwise (an append after the stream ended, on another instance).
 */
import { ROOT_CONTEXT, trace, type Span, type SpanOptions, type Tracer } from '@opentelemetry/api';
import { callTraceId, type CallTraceIds } from './trace-ids.ts';

/** How long an ended call span stays a parent, for the journal appends its call's last events make. */
const PARENT_AFTER_END_MS = 5000;

export class CallTraces {
  readonly tracer: Tracer;
  readonly #ids: CallTraceIds;
  /** The call span of each call live in this process (or just ended). */
  readonly #live = new Map<string, Span>();

  constructor(tracer: Tracer, ids: CallTraceIds) {
    this.tracer = tracer;
    this.#ids = ids;
  }

  /** A root span in the call's trace. */
  root(callId: string, name: string, options: SpanOptions = {}): Span {
    this.#ids.chooseNext(callTraceId(callId));
    try {
      return this.tracer.startSpan(name, { ...options, root: true }, ROOT_CONTEXT);
    } finally {
      this.#ids.clear();
    }
  }

  /** A span of the call: a child of its call span when live here, else a root in its trace. */
  start(callId: string, name: string, options: SpanOptions = {}): Span {
    const parent = this.#live.get(callId);
    if (parent === undefined) return this.root(callId, name, options);
    return this.tracer.startSpan(name, options, trace.setSpan(ROOT_CONTEXT, parent));
  }

  /** A child of `parent`. */
  child(parent: Span, name: string, options: SpanOptions = {}): Span {
    return this.tracer.startSpan(name, options, trace.setSpan(ROOT_CONTEXT, parent));
  }

  /** `span` is the call's span in this process from now on. */
  live(callId: string, span: Span): void {
    this.#live.set(callId, span);
  }

  /** The call span has ended: it stays the parent a little longer, unless a new stream replaced it. */
  ended(callId: string, span: Span): void {
    setTimeout(() => {
      if (this.#live.get(callId) === span) this.#live.delete(callId);
    }, PARENT_AFTER_END_MS).unref();
  }

  /** Calls whose span is still kept as a parent (for tests). */
  get size(): number {
    return this.#live.size;
  }
}
