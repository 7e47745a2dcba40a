/**
 * A call's trace id, derived from its call id: every process and instance that carries the call (a worker, an
 * instance resuming it from the shared journal) computes the same id, so all of the call's spans land in one
 * trace without passing anything between them. Imports nothing of the OpenTelemetry SDK.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IdGenerator } from '@opentelemetry/sdk-trace-base';

/** The trace id of a call: the first 16 bytes of SHA-256 of its call id, as 32 lower-case hex digits. */
export function callTraceId(callId: string): string {
  const id = createHash('sha256').update(callId, 'utf8').digest('hex').slice(0, 32);
  // An all-zero trace id is invalid in OpenTelemetry; one in 2^128 call ids would hash to it.
  return /^0+$/.test(id) ? `${id.slice(0, 31)}1` : id;
}

/**
 * The tracer's id generator: random ids, except that the next root span's trace id can be chosen (the call's)
 * just before that span is started. Span starts are synchronous, so the choice cannot leak to another span.
 */
export class CallTraceIds implements IdGenerator {
  #next: string | null = null;

  /** Use `traceId` for the next root span only. */
  chooseNext(traceId: string): void {
    this.#next = traceId;
  }

  /** Forget a choice not used (the span was not started, e.g. tracing is suppressed). */
  clear(): void {
    this.#next = null;
  }

  generateTraceId(): string {
    const chosen = this.#next;
    this.#next = null;
    return chosen ?? nonZeroHex(16);
  }

  generateSpanId(): string {
    return nonZeroHex(8);
  }
}

function nonZeroHex(bytes: number): string {
  for (;;) {
    const id = randomBytes(bytes).toString('hex');
    if (!/^0+$/.test(id)) return id;
  }
}
