/**
 * The network flows' web requests go out on (the `HttpNetwork` of src/flow/actions/http/connect.ts): a lookup
 * that answers every address of a host, and a request sent to one address chosen after the egress check. The
 * socket is opened to that address whatever a resolver would say a moment later (DNS rebinding), while the Host
 * header, TLS's server name and its certificate check keep the host's name. Redirects are never followed.
 */
import type { lookup, LookupAddress } from 'node:dns';
import { lookup as lookupAll } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import type { HttpNetwork } from '../flow/index.ts';

/** Answers without a body, whatever headers they carry. */
const NO_BODY = new Set([204, 205, 304]);

export const httpNetwork: HttpNetwork = {
  async resolve(host) {
    const answers = await lookupAll(host, { all: true, verbatim: true });
    return answers.map((a) => a.address);
  },
  send: sendTo,
};

function sendTo(address: string, url: URL, init: RequestInit): Promise<Response> {
  const family = address.includes(':') ? 6 : 4;
  // The address checked, whatever the host name would resolve to now.
  const pinned: typeof lookup = ((_host, options, callback) => {
    const done = (typeof options === 'function' ? options : callback) as (
      err: NodeJS.ErrnoException | null,
      address: string | LookupAddress[],
      family?: number,
    ) => void;
    if (typeof options === 'object' && options.all) done(null, [{ address, family }]);
    else done(null, address, family);
  }) as typeof lookup;
  const headers = Object.fromEntries(new Headers(init.headers));
  const body = typeof init.body === 'string' ? init.body : undefined;
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<Response>((resolve, reject) => {
    const req = send(
      url,
      {
        method: init.method ?? 'GET',
        headers,
        lookup: pinned,
        // A pooled socket could have been opened to an address checked under other rules.
        agent: false,
        ...(init.signal ? { signal: init.signal } : {}),
      },
      (res) => {
        try {
          resolve(toResponse(res, init.method === 'HEAD'));
        } catch (err) {
          res.destroy();
          reject(new TypeError('fetch failed', { cause: err }));
        }
      },
    );
    // Shaped as fetch's failures are: the system's code is in the cause.
    req.on('error', (err) => reject(new TypeError('fetch failed', { cause: err })));
    req.end(body);
  });
}

/** The answer as a fetch Response, its body streamed as it arrives. */
function toResponse(res: IncomingMessage, head: boolean): Response {
  const status = res.statusCode ?? 0;
  if (status < 200 || status > 599) throw new RangeError(`status ${status} is not an HTTP answer`);
  const headers = new Headers();
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
    headers.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
  }
  if (head || NO_BODY.has(status)) {
    res.resume();
    return new Response(null, { status, statusText: res.statusMessage ?? '', headers });
  }
  const body = Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>;
  return new Response(body, { status, statusText: res.statusMessage ?? '', headers });
}
