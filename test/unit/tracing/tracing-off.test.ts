/**
 * Off means off: without an OTLP endpoint the server loads no OpenTelemetry module at all. Checked in a fresh
 * process that loads the whole server (serve's module graph, the app, a session) and opens tracing without an
 * endpoint; the same process with an endpoint is the control showing the check can see the SDK load.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { configFromEnv } from '../../../src/config/env.ts';
import { isSwitchboardError } from '../../../src/errors.ts';

const ROOT = new URL('../../../', import.meta.url).pathname;

/** The @opentelemetry packages loaded (from the module cache, where Node keeps CommonJS modules ESM imports). */
function loadedWith(endpoint: string | null): string[] {
  const script = `
    import { createRequire } from 'node:module';
    await import('./src/cli/serve.ts');
    await import('./src/server/app.ts');
    const { openTracing } = await import('./src/tracing/tracing.ts');
    const { Logger } = await import('./src/observability/logger.ts');
    const tracing = await openTracing({ otlpEndpoint: ${JSON.stringify(endpoint)} }, new Logger({ sink: () => {} }));
    const cache = createRequire(import.meta.url).cache;
    const names = Object.keys(cache).filter((p) => p.includes('@opentelemetry')).map((p) => p.replace(/.*node_modules\\/(@opentelemetry\\/[^/]+).*/, '$1'));
    console.log(JSON.stringify([...new Set(names)].sort()));
    await tracing?.close();
  `;
  const env = { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint ?? '' };
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as string[];
}

test('without OTEL_EXPORTER_OTLP_ENDPOINT no @opentelemetry module is loaded; with it the SDK is', () => {
  assert.deepEqual(loadedWith(null), []);
  const on = loadedWith('http://127.0.0.1:9');
  for (const pkg of [
    '@opentelemetry/api',
    '@opentelemetry/sdk-trace-base',
    '@opentelemetry/exporter-trace-otlp-http',
  ]) {
    assert.ok(on.includes(pkg), `${pkg} is loaded when traces are on (${on.join(', ')})`);
  }
});

test('traces are off unless an OTLP endpoint is set (and the SDK not disabled); a non-URL is refused by name', () => {
  assert.equal(configFromEnv({}).otlpEndpoint, null);
  assert.equal(configFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: ' ' }).otlpEndpoint, null);
  assert.equal(
    configFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).otlpEndpoint,
    'http://collector:4318',
  );
  assert.equal(
    configFromEnv({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example.com/v1/traces',
    }).otlpEndpoint,
    'https://traces.example.com/v1/traces',
  );
  assert.equal(
    configFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' })
      .otlpEndpoint,
    null,
    'OTEL_SDK_DISABLED=true turns traces off',
  );
  assert.throws(
    () => configFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }),
    (err: unknown) =>
      isSwitchboardError(err, 'CONFIG_INVALID') && err.message.includes('OTEL_EXPORTER_OTLP_ENDPOINT'),
  );
});
