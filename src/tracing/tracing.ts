/**
 * OpenTelemetry traces, off unless OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set.
 * This module imports nothing of OpenTelemetry: only `openTracing` with an endpoint loads the SDK (sdk.ts), so a
 * server without traces neither loads it nor subscribes anything to its calls.
 */
import type { Logger } from '../observability/logger.ts';
import type { Tracing, TracingConfig } from './types.ts';

export type { CallTracing, Tracing, TracingConfig } from './types.ts';

/** Starts exporting traces when an endpoint is configured; null (and nothing loaded) otherwise. */
export async function openTracing(config: TracingConfig, logger: Logger): Promise<Tracing | null> {
  if (config.otlpEndpoint === null) return null;
  const { startTracing } = await import('./sdk.ts');
  return startTracing(logger);
}
