/** What the server is given when traces are on: the spans of calls, web requests and journal appends. */
import type { CallTracing } from '../call/media/session-deps.ts';
import type { JournalStore } from '../journal/store.ts';

export type { CallTracing };

export interface Tracing {
  readonly calls: CallTracing;
  /** Starts the span of one web request (`route`: method and path); the function returned ends it. */
  request(route: string): (status: number) => void;
  /** `store`, with each append traced in its call's trace. */
  journal(store: JournalStore): JournalStore;
  /** Exports the spans still buffered, then stops. */
  close(): Promise<void>;
}

export interface TracingConfig {
  /** Where spans go (OTLP/HTTP); null: no traces. */
  otlpEndpoint: string | null;
}
