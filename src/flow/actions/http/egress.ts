/**
 * Where a flow's web request may connect. A request whose host is, or resolves to, a loopback, link-local,
 * private, unspecified or shared (CGNAT) address, IPv4 or IPv6 (IPv4-mapped forms included), is refused unless
 * an allow-list names the host, the address or a range holding it: HTTP_ALLOW_HOSTS for every flow, a state's
 * `http.allowPrivate` for its own request. Public addresses are never restricted.
 *
 * Pure: looking the host up and connecting to the address checked are the network port's (connect.ts).
 */

/** Why an address is not public. */
export type AddressRange =
  'loopback' | 'link-local' | 'private' | 'unspecified' | 'shared' | 'not an address';

/** An address that may not be reached, and why. */
export interface EgressRefusal {
  address: string;
  range: AddressRange;
}

const V4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEX_GROUP = /^[0-9a-f]{1,4}$/;
/** A DNS name: labels of letters, digits and `-` (not at either end), at most 253 characters. */
const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

type Range = { bytes: readonly number[]; prefix: number };

/** IPv4 ranges that are not public. */
const V4_RANGES: readonly (Range & { range: AddressRange })[] = [
  { ...cidr('0.0.0.0/8'), range: 'unspecified' },
  { ...cidr('127.0.0.0/8'), range: 'loopback' },
  { ...cidr('10.0.0.0/8'), range: 'private' },
  { ...cidr('172.16.0.0/12'), range: 'private' },
  { ...cidr('192.168.0.0/16'), range: 'private' },
  { ...cidr('169.254.0.0/16'), range: 'link-local' },
  { ...cidr('100.64.0.0/10'), range: 'shared' },
];
/** IPv6 ranges that are not public; `::`, `::1` and addresses carrying an IPv4 one are handled apart. */
const V6_RANGES: readonly (Range & { range: AddressRange })[] = [
  { ...cidr('fe80::/10'), range: 'link-local' },
  { ...cidr('fc00::/7'), range: 'private' },
  // Site-local: deprecated, but still routed inside some networks.
  { ...cidr('fec0::/10'), range: 'private' },
];
/** NAT64 (RFC 6052): the gateway connects to the IPv4 address in the last 32 bits. */
const NAT64 = cidr('64:ff9b::/96');

/**
 * The first of `addresses` (every address `host` resolved to) that is not public and not allowed by `allow`;
 * null when the request may go to any of them.
 */
export function egressRefusal(
  host: string,
  addresses: readonly string[],
  allow: readonly string[],
): EgressRefusal | null {
  const name = hostKey(host);
  const entries = allow.map(parseEntry).filter((e): e is Entry => e !== null);
  // A name on the list allows whatever it resolves to: the list is the operator's or the flow's, never a caller's.
  if (entries.some((e) => e.kind === 'host' && e.name === name)) return null;
  for (const address of addresses) {
    const bytes = parseAddress(address);
    if (bytes === null) return { address, range: 'not an address' };
    const range = rangeOf(bytes);
    if (range === null) continue;
    if (!entries.some((e) => e.kind === 'range' && contains(e, bytes))) return { address, range };
  }
  return null;
}

/** Why `entry` is not an allow-list entry (a host name, an IP address or a CIDR range); null when it is one. */
export function allowEntryProblem(entry: string): string | null {
  return parseEntry(entry) === null
    ? `"${entry}" is not a host name, an IP address or a CIDR range such as 10.0.0.0/8`
    : null;
}

/** The IP address a URL's host names literally (`127.0.0.1`, `[::1]`), or null for a name. */
export function literalAddress(host: string): string | null {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  return parseAddress(bare) === null ? null : bare;
}

/** `localhost` and names under it are this machine, whatever a resolver says (RFC 6761). */
export function isLocalhostName(host: string): boolean {
  const name = hostKey(host);
  return name === 'localhost' || name.endsWith('.localhost');
}

/** `a loopback address`, for reasons and log lines. */
export function rangeText(range: AddressRange): string {
  if (range === 'not an address') return 'not an address';
  if (range === 'shared') return 'a shared (CGNAT) address';
  return `${range === 'unspecified' ? 'an' : 'a'} ${range} address`;
}

type Entry = { kind: 'host'; name: string } | ({ kind: 'range' } & Range);

function parseEntry(entry: string): Entry | null {
  const text = entry.trim();
  const slash = text.indexOf('/');
  const address = parseAddress((slash < 0 ? text : text.slice(0, slash)).replace(/^\[(.*)\]$/, '$1'));
  if (address !== null) {
    const bits = address.length * 8;
    const prefix =
      slash < 0 ? bits : /^\d{1,3}$/.test(text.slice(slash + 1)) ? Number(text.slice(slash + 1)) : NaN;
    return prefix >= 0 && prefix <= bits ? { kind: 'range', bytes: address, prefix } : null;
  }
  const name = hostKey(text);
  // A name ending in a number is an IPv4 address to a URL parser (`256.0.0.1`, `01.2.3.4`), never a host name.
  const numeric = /(?:^|\.)(?:\d+|0x[0-9a-f]*)$/.test(name);
  return slash < 0 && !numeric && HOST_NAME.test(name) ? { kind: 'host', name } : null;
}

function hostKey(host: string): string {
  return host.toLowerCase().replace(/\.$/, '');
}

function contains(range: Range, address: readonly number[]): boolean {
  return range.bytes.length === address.length && prefixMatches(range.bytes, address, range.prefix);
}

/** A range of the tables above, written as CIDR. */
function cidr(text: string): Range {
  const [address, prefix] = text.split('/');
  return { bytes: parseAddress(address!)!, prefix: Number(prefix) };
}

function prefixMatches(a: readonly number[], b: readonly number[], prefix: number): boolean {
  for (let bit = 0; bit < prefix; bit += 8) {
    const i = bit / 8;
    const mask = prefix - bit >= 8 ? 0xff : (0xff << (8 - (prefix - bit))) & 0xff;
    if (((a[i] ?? 0) & mask) !== ((b[i] ?? 0) & mask)) return false;
  }
  return true;
}

/** The range of a (canonical) address, null when it is public. */
function rangeOf(bytes: readonly number[]): AddressRange | null {
  if (bytes.length === 4) return V4_RANGES.find((r) => contains(r, bytes))?.range ?? null;
  if (bytes.every((b) => b === 0)) return 'unspecified';
  if (bytes.slice(0, 15).every((b) => b === 0) && bytes[15] === 1) return 'loopback';
  const hit = V6_RANGES.find((r) => contains(r, bytes));
  if (hit) return hit.range;
  // IPv4-compatible (::a.b.c.d, deprecated) and NAT64 addresses reach the IPv4 address they carry.
  if (bytes.slice(0, 12).every((b) => b === 0) || contains(NAT64, bytes)) return rangeOf(bytes.slice(12));
  return null;
}

/** An address as bytes: 4 for IPv4 and for IPv4-mapped IPv6 (`::ffff:127.0.0.1` is 127.0.0.1), else 16. */
function parseAddress(text: string): number[] | null {
  if (V4.test(text)) return text.split('.').map(Number);
  const v6 = parseV6(text);
  if (v6 === null) return null;
  const mapped = v6.slice(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff;
  return mapped ? v6.slice(12) : v6;
}

function parseV6(text: string): number[] | null {
  // A zone (`fe80::1%eth0`) names the interface, not the address.
  const s = text.toLowerCase().replace(/%[0-9a-z._-]+$/, '');
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groups = halves.map((half) => (half === '' ? [] : half.split(':')));
  const last = groups[groups.length - 1]!;
  // The last group may be a dotted IPv4 address, worth two groups.
  const tail = last.at(-1);
  if (tail !== undefined && tail.includes('.')) {
    if (!V4.test(tail)) return null;
    const [a, b, c, d] = tail.split('.').map(Number) as [number, number, number, number];
    last.splice(-1, 1, ((a << 8) | b).toString(16), ((c << 8) | d).toString(16));
  }
  const head = groups[0]!;
  const rest = groups.length === 2 ? groups[1]! : [];
  if ([...head, ...rest].some((g) => !HEX_GROUP.test(g))) return null;
  const missing = 8 - head.length - rest.length;
  if (groups.length === 2 ? missing < 1 : missing !== 0) return null;
  const words = [...head, ...Array<string>(groups.length === 2 ? missing : 0).fill('0'), ...rest];
  return words.flatMap((w) => {
    const n = parseInt(w, 16);
    return [n >> 8, n & 0xff];
  });
}
