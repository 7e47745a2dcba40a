import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { findListeningPid, processTree, sampleTree } from '../../../src/load/process-stats.ts';

test('the process tree holds the children, and its sample sums their memory', async () => {
  const child = spawn('sleep', ['30']);
  await once(child, 'spawn');
  try {
    assert.ok(processTree(process.pid).includes(child.pid!));
    const s = sampleTree(process.pid);
    assert.ok(s.processes >= 2);
    assert.ok(s.cpuMs > 0);
    assert.ok(s.rssMiB > process.memoryUsage().rss / 2 ** 20 - 1, 'at least this process');
  } finally {
    child.kill();
  }
});

test('the process listening on a port is found from /proc', async () => {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    assert.equal(findListeningPid((server.address() as AddressInfo).port), process.pid);
  } finally {
    server.close();
  }
  assert.equal(findListeningPid(1), null, 'nothing listens on port 1');
});
