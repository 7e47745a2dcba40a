/** Where a flow's web request may connect: every range refused by default, and what an allow-list lets through. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  allowEntryProblem,
  egressRefusal,
  isLocalhostName,
  literalAddress,
  type AddressRange,
} from '../../../src/flow/actions/http/egress.ts';

/** The range an address literal is refused as, with nothing allowed; null when it may be reached. */
const refusedAs = (address: string): AddressRange | null =>
  egressRefusal(address, [address], [])?.range ?? null;

const NOT_PUBLIC: Record<AddressRange, string[]> = {
  loopback: ['127.0.0.1', '127.255.255.254', '::1', '0:0:0:0:0:0:0:1'],
  'link-local': ['169.254.169.254', '169.254.0.1', 'fe80::1', 'febf:ffff::1', 'fe80::1%eth0'],
  private: [
    '10.0.0.1',
    '10.255.255.255',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.0.1',
    '192.168.255.255',
    'fc00::1',
    'fd12:3456:789a::1',
  ],
  unspecified: ['0.0.0.0', '0.1.2.3', '::', '0:0:0:0:0:0:0:0'],
  shared: ['100.64.0.1', '100.127.255.255'],
  'not an address': [],
};

test('loopback, link-local, private, unspecified and CGNAT addresses are refused, each named', () => {
  for (const [range, addresses] of Object.entries(NOT_PUBLIC)) {
    for (const address of addresses) assert.equal(refusedAs(address), range, address);
  }
});

test('their IPv4-mapped, IPv4-compatible and NAT64 IPv6 forms are refused as the IPv4 address would be', () => {
  assert.equal(refusedAs('::ffff:127.0.0.1'), 'loopback');
  assert.equal(refusedAs('::ffff:7f00:1'), 'loopback');
  assert.equal(refusedAs('0:0:0:0:0:ffff:7f00:0001'), 'loopback');
  assert.equal(refusedAs('::ffff:10.1.2.3'), 'private');
  assert.equal(refusedAs('::ffff:a9fe:a9fe'), 'link-local');
  assert.equal(refusedAs('::ffff:100.64.0.1'), 'shared');
  assert.equal(refusedAs('::ffff:0.0.0.0'), 'unspecified');
  assert.equal(refusedAs('::127.0.0.1'), 'loopback');
  assert.equal(refusedAs('64:ff9b::192.168.1.1'), 'private');
  assert.equal(refusedAs('::ffff:8.8.8.8'), null);
  assert.equal(refusedAs('64:ff9b::8.8.8.8'), null);
});

test('public addresses, including those just outside each range, may be reached', () => {
  for (const address of [
    '8.8.8.8',
    '1.1.1.1',
    '11.0.0.1',
    '126.255.255.255',
    '128.0.0.1',
    '172.15.255.255',
    '172.32.0.1',
    '192.167.255.255',
    '192.169.0.1',
    '169.253.255.255',
    '169.255.0.1',
    '100.63.255.255',
    '100.128.0.1',
    '2606:4700:4700::1111',
    '2001:db8::1',
    'fbff::1',
    'fe00::1',
    '2a00:1450:4001::1',
  ]) {
    assert.equal(refusedAs(address), null, address);
  }
});

test('every address a host resolves to is checked: one private among public ones refuses the request', () => {
  assert.deepEqual(egressRefusal('orders.example', ['93.184.216.34', '10.0.0.7'], []), {
    address: '10.0.0.7',
    range: 'private',
  });
  assert.equal(egressRefusal('orders.example', ['93.184.216.34', '2606:2800::1'], []), null);
  assert.deepEqual(egressRefusal('weird.example', ['not-an-ip'], []), {
    address: 'not-an-ip',
    range: 'not an address',
  });
});

test('an allow-list entry lets its address, range or host name through, and nothing else', () => {
  // An address: that one only.
  assert.equal(egressRefusal('127.0.0.1', ['127.0.0.1'], ['127.0.0.1']), null);
  assert.equal(egressRefusal('127.0.0.2', ['127.0.0.2'], ['127.0.0.1'])?.range, 'loopback');
  assert.equal(egressRefusal('::1', ['::1'], ['::1']), null);
  assert.equal(egressRefusal('::1', ['::1'], ['127.0.0.1'])?.range, 'loopback', 'the other family is apart');
  // A range: everything in it, by prefix, including the mapped IPv6 form of its addresses.
  assert.equal(egressRefusal('db.internal', ['10.9.8.7'], ['10.0.0.0/8']), null);
  assert.equal(egressRefusal('db.internal', ['::ffff:10.9.8.7'], ['10.0.0.0/8']), null);
  assert.equal(egressRefusal('db.internal', ['172.16.5.4'], ['172.16.4.0/23']), null);
  assert.equal(egressRefusal('db.internal', ['172.16.6.1'], ['172.16.4.0/23'])?.address, '172.16.6.1');
  assert.equal(egressRefusal('db.internal', ['fd00::5'], ['fd00::/8']), null);
  assert.equal(egressRefusal('db.internal', ['fc00::5'], ['fd00::/8'])?.range, 'private');
  // A host name: whatever it resolves to, for that name (any case, trailing dot) and not for another.
  assert.equal(egressRefusal('Orders.Internal.', ['10.0.0.7', '::1'], ['orders.internal']), null);
  assert.equal(egressRefusal('billing.internal', ['10.0.0.7'], ['orders.internal'])?.range, 'private');
  assert.equal(egressRefusal('localhost', ['127.0.0.1', '::1'], ['localhost']), null);
  // A partly allowed host is still refused, at the address not allowed.
  assert.deepEqual(egressRefusal('localhost', ['127.0.0.1', '::1'], ['127.0.0.1']), {
    address: '::1',
    range: 'loopback',
  });
});

test('allow-list entries are host names, IP addresses or CIDR ranges that fit their family', () => {
  for (const good of [
    '127.0.0.1',
    '::1',
    '[::1]',
    '10.0.0.0/8',
    '0.0.0.0/0',
    'fd00::/8',
    '::/0',
    'orders.internal',
    'localhost',
    'a-b.c1',
  ]) {
    assert.equal(allowEntryProblem(good), null, good);
  }
  for (const bad of [
    '',
    '10.0.0.0/33',
    '::1/129',
    '10.0.0.0/',
    '10.0.0.0/x',
    '256.0.0.1',
    '01.2.3.4',
    '10.0.0.0x10',
    '1.2.3.0x7f',
    'http://x',
    'a b',
    '*.internal',
    '-a.b',
    'a_b.c',
    'host:8080',
    'orders.internal/8',
  ]) {
    assert.match(allowEntryProblem(bad) ?? '', /is not a host name, an IP address or a CIDR range/, bad);
  }
});

test('a URL host is an address literal (IPv6 in brackets) or a name; localhost names need no lookup', () => {
  assert.equal(literalAddress('127.0.0.1'), '127.0.0.1');
  assert.equal(literalAddress('[::ffff:7f00:1]'), '::ffff:7f00:1');
  assert.equal(literalAddress('orders.example'), null);
  assert.equal(literalAddress('[orders.example]'), null);
  assert.equal(isLocalhostName('localhost'), true);
  assert.equal(isLocalhostName('LOCALHOST.'), true);
  assert.equal(isLocalhostName('api.localhost'), true);
  assert.equal(isLocalhostName('localhost.example'), false);
  assert.equal(isLocalhostName('notlocalhost'), false);
});
