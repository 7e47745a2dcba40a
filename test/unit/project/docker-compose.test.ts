import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const root = new URL('../../..', import.meta.url).pathname;
const available = spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0;
const skipReason = '(skipped: docker-compose is not installed; .ci/run installs it)';

function named(title: string): string {
  return available ? title : `${title} ${skipReason}`;
}

interface Service {
  image?: string;
  environment?: Record<string, string>;
  ports?: ({ published: number | string; target: number } | string)[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
}

/**
 * The file as docker-compose resolves it (anchors merged, variables at their defaults), as JSON through the
 * PyYAML that Debian's docker-compose itself runs on, so the test adds no YAML dependency.
 */
function resolvedConfig(): { services: Record<string, Service> } {
  const env = { ...process.env };
  for (const name of [
    'PUBLIC_URL',
    'POSTGRES_PASSWORD',
    'TWILIO_AUTH_TOKEN',
    'TWILIO_ACCOUNT_SID',
    'LOG_LEVEL',
  ]) {
    delete env[name];
  }
  const config = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], {
    cwd: root,
    encoding: 'utf8',
    env,
  });
  assert.equal(config.status, 0, config.stderr);
  const json = spawnSync(
    'python3',
    ['-c', 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'],
    { input: config.stdout, encoding: 'utf8' },
  );
  assert.equal(json.status, 0, json.stderr);
  return JSON.parse(json.stdout) as { services: Record<string, Service> };
}

test(
  available
    ? 'docker-compose.yml is a valid compose file'
    : 'docker-compose.yml is a valid compose file (skipped: docker-compose is not installed; .ci/run installs it)',
  { skip: !available && 'docker-compose is not installed' },
  () => {
    const result = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.equal(result.status, 0, result.stderr);
  },
);

test(
  named('docker-compose.yml runs postgres, two instances and a proxy'),
  { skip: !available && 'docker-compose is not installed' },
  () => {
    const result = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '--services'], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(result.stdout.trim().split('\n').sort(), [
      'postgres',
      'proxy',
      'switchboard-a',
      'switchboard-b',
    ]);
  },
);

test(
  named('both instances journal to the postgres service and are told the same PUBLIC_URL'),
  { skip: !available && 'docker-compose is not installed' },
  () => {
    const { services } = resolvedConfig();
    const a = services['switchboard-a']!;
    const b = services['switchboard-b']!;
    for (const instance of [a, b]) {
      assert.match(instance.environment?.STORE_URL ?? '', /^postgres(ql)?:\/\/[^@]+@postgres:5432\/\w+$/);
      assert.equal(instance.depends_on?.postgres?.condition, 'service_healthy');
      // A model trained by one instance is found by the other.
      assert.ok(
        instance.volumes?.some((v) => /^models:\/app\/data\/models(:rw)?$/.test(v)),
        JSON.stringify(instance.volumes),
      );
    }
    assert.equal(a.environment?.STORE_URL, b.environment?.STORE_URL);
    // Twilio signs the proxy's URL: an instance told its own address would reject every request.
    assert.equal(a.environment?.PUBLIC_URL, 'http://localhost:8080');
    assert.equal(b.environment?.PUBLIC_URL, a.environment?.PUBLIC_URL);
  },
);

test(
  named('the proxy publishes 8080 and runs deploy/nginx.conf'),
  { skip: !available && 'docker-compose is not installed' },
  () => {
    const proxy = resolvedConfig().services.proxy!;
    assert.ok(
      proxy.ports?.some((p) =>
        typeof p === 'string' ? /^(0\.0\.0\.0:)?8080:8080$/.test(p) : Number(p.published) === 8080,
      ),
      JSON.stringify(proxy.ports),
    );
    assert.ok(
      proxy.volumes?.some((v) => v === `${root}deploy/nginx.conf:/etc/nginx/nginx.conf:ro`),
      JSON.stringify(proxy.volumes),
    );
    assert.deepEqual(Object.keys(proxy.depends_on ?? {}).sort(), ['switchboard-a', 'switchboard-b']);
  },
);

test('deploy/nginx.conf balances over both instances, upgrades websockets and retries POSTs elsewhere', () => {
  const conf = readFileSync(`${root}deploy/nginx.conf`, 'utf8').replace(/#.*$/gm, '');
  const upstream = /upstream\s+switchboard\s*\{([^}]*)\}/.exec(conf)?.[1] ?? '';
  assert.match(upstream, /server\s+switchboard-a:8080\b/);
  assert.match(upstream, /server\s+switchboard-b:8080\b/);
  assert.match(conf, /proxy_pass\s+http:\/\/switchboard;/);
  assert.match(conf, /proxy_set_header\s+Upgrade\s+\$http_upgrade;/);
  assert.match(conf, /proxy_http_version\s+1\.1;/);
  // Twilio's webhooks are POSTs: without non_idempotent nginx would answer 502 instead of trying the survivor.
  const nextUpstream = /proxy_next_upstream\s+([^;]*);/.exec(conf)?.[1]?.split(/\s+/) ?? [];
  for (const condition of ['error', 'timeout', 'non_idempotent']) {
    assert.ok(nextUpstream.includes(condition), `proxy_next_upstream lacks ${condition}`);
  }
});
