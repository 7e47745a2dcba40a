/**
 * The OpenTelemetry SDK, loaded only when traces are on (tracing.ts): a tracer provider whose root spans can take
 * a call's trace id, exporting in batches over OTLP/HTTP. The exporter, the sampler, the batching and the
 * service name follow the standard OTEL_* variables (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS,
 * OTEL_TRACES_SAMPLER, OTEL_BSP_*, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES), as the SDK reads them.
 */
import { randomUUID } from 'node:crypto';
import { DiagLogLevel, SpanKind, SpanStatusCode, diag, type DiagLogFunction } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVICE_NAME,
} from '@opentelemetry/semantic-conventions';
import type { Logger } from '../observability/logger.ts';
import { callSpans } from './call-spans.ts';
import { CallTraces } from './call-traces.ts';
import { TracedStore } from './journal-spans.ts';
import { CallTraceIds } from './trace-ids.ts';
import type { Tracing } from './types.ts';

const SCOPE = 'switchboard';

export function startTracing(logger: Logger): Tracing {
  const log = logger.child({ component: 'tracing' });
  // The SDK reports export failures through its diagnostic logger, silent unless one is set.
  const problem: DiagLogFunction = (message, ...args) =>
    log.warn('opentelemetry reported a problem', { detail: message, args: args.map(String) });
  diag.setLogger(
    { error: problem, warn: problem, info: () => {}, debug: () => {}, verbose: () => {} },
    DiagLogLevel.WARN,
  );
  const resource = defaultResource()
    .merge(
      resourceFromAttributes({
        [ATTR_SERVICE_NAME]: SCOPE,
        // One per process: workers and instances share the service name.
        'service.instance.id': randomUUID(),
        'process.pid': process.pid,
      }),
    )
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over the names above.
    .merge(detectResources({ detectors: [envDetector] }));
  const ids = new CallTraceIds();
  const provider = new BasicTracerProvider({
    resource,
    idGenerator: ids,
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  const traces = new CallTraces(provider.getTracer(SCOPE), ids);
  log.info('traces are exported over OTLP/HTTP');
  return {
    calls: { subscriber: (callId, flow) => callSpans(traces, callId, flow) },
    request(route) {
      const space = route.indexOf(' ');
      const span = traces.tracer.startSpan(route, {
        kind: SpanKind.SERVER,
        attributes: {
          [ATTR_HTTP_REQUEST_METHOD]: route.slice(0, space),
          [ATTR_HTTP_ROUTE]: route.slice(space + 1),
        },
      });
      return (status) => {
        span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
        if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      };
    },
    journal: (store) => new TracedStore(store, traces),
    async close() {
      await provider.shutdown();
      diag.disable();
    },
  };
}
