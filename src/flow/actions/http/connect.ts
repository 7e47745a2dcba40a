/**
 * One attempt's way out: the host's addresses are checked against the egress rules (egress.ts) before anything
 * is sent, and the request goes to the very address checked, never to a second lookup that a DNS rebinding
 * could answer differently. The lookup and the socket are the network port's (src/call/http-network.ts), so
 * flow/ stays free of I/O.
 */
import { SwitchboardError } from '../../../errors.ts';
import { egressRefusal, isLocalhostName, literalAddress, rangeText, type EgressRefusal } from './egress.ts';

/** The network a state's web request goes out on. */
export interface HttpNetwork {
  /** Every address `host` resolves to, in the resolver's order. */
  resolve(host: string): Promise<string[]>;
  /**
   * Send the request to `address`, keeping `url`'s host name for the Host header and TLS (SNI and the
   * certificate check). Redirects are answered as they are, never followed.
   */
  send(address: string, url: URL, init: RequestInit): Promise<Response>;
}

export interface Route {
  /** Absent: `fetch` sends, and only a host that needs no lookup (an IP address, `localhost`) is checked. */
  network?: HttpNetwork | undefined;
  fetch: typeof fetch;
  /** Hosts, addresses and CIDR ranges that may be reached although not public. */
  allow: readonly string[];
}

/** The data of HTTP_EGRESS_REFUSED: the request's host, and the address of it that may not be reached. */
export type RefusedHost = EgressRefusal & { host: string };

/** `10.0.0.7 is a private address`, `orders.example resolves to 10.0.0.7, a private address`. */
export function refusedText({ host, address, range }: RefusedHost): string {
  const what = rangeText(range);
  return address === host ? `${host} is ${what}` : `${host} resolves to ${address}, ${what}`;
}

/**
 * Send one attempt. Throws HTTP_EGRESS_REFUSED (data: host, address, range) when the host is, or resolves to, an
 * address that is not public and not allowed; network errors as fetch throws them.
 */
export async function connect(url: URL, init: RequestInit, route: Route): Promise<Response> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const literal = literalAddress(host);
  let addresses: string[] | null = literal === null ? null : [literal];
  if (addresses === null && route.network) addresses = await route.network.resolve(host);
  else if (addresses === null && isLocalhostName(host)) addresses = ['127.0.0.1'];

  if (addresses !== null) {
    const refused = egressRefusal(host, addresses, route.allow);
    if (refused) {
      const data: RefusedHost = { host, ...refused };
      throw new SwitchboardError('HTTP_EGRESS_REFUSED', refusedText(data), { ...data });
    }
  }
  if (!route.network) return route.fetch(url, { ...init, redirect: 'manual' });
  const address = addresses?.[0];
  if (address === undefined) throw new TypeError('fetch failed', { cause: { code: 'ENOTFOUND' } });
  return route.network.send(address, url, init);
}
