import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isOwnHost } from '../../../src/server/dev-host.ts';

test("the developer pages' hosts: loopback names, IP addresses and PUBLIC_URL's host; no other name", () => {
  for (const host of [
    'localhost:8080',
    'LOCALHOST',
    'app.localhost:3000',
    '127.0.0.1:8080',
    '[::1]:8080',
    '10.0.0.7',
  ])
    assert.equal(isOwnHost(host, null), true, host);
  for (const host of [
    'evil.example',
    'evil.example:8080',
    'localhost.evil.example',
    '127.0.0.1.nip.io',
    '',
    undefined,
  ])
    assert.equal(isOwnHost(host, null), false, String(host));
  assert.equal(isOwnHost('voice.example.com', 'https://voice.example.com'), true);
  assert.equal(isOwnHost('voice.example.com:443', 'https://Voice.Example.com/base'), true);
  assert.equal(isOwnHost('other.example.com', 'https://voice.example.com'), false);
  assert.equal(isOwnHost('a b', null), false, 'not a host at all');
});
