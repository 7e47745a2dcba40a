import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

const root = new URL('../..', import.meta.url).pathname;
const available = spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0;

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
