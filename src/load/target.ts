/**
 * Which addresses the load generator may open: the --url the user named, and the hosts they allowed by name. The
 * media websocket comes from the server's TwiML, so it is checked before any connection is made to it.
 */

/** The websocket the server named is not on an address the user allowed; nothing was sent to it. */
export class TargetRefusedError extends Error {
  readonly streamUrl: string;

  constructor(streamUrl: string, url: string) {
    super(
      `the server's TwiML streams to ${safeOrigin(streamUrl)}, which is not ${new URL(url).host}: ` +
        'pass --allow-host with that host to load it too',
    );
    this.name = 'TargetRefusedError';
    this.streamUrl = streamUrl;
  }
}

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'ws:': '80', 'https:': '443', 'wss:': '443' };

/** host:port with the scheme's default port filled in, so http://h and ws://h:80 compare equal. */
function hostPort(u: URL): string {
  return `${u.hostname.toLowerCase()}:${u.port || DEFAULT_PORTS[u.protocol] || ''}`;
}

function safeOrigin(url: string): string {
  return URL.canParse(url) ? new URL(url).origin : JSON.stringify(url.slice(0, 80));
}

/** True when `streamUrl` is a ws(s) URL on the --url's host and port, or on a host given with --allow-host. */
export function streamAllowed(streamUrl: string, url: string, allowHosts: readonly string[]): boolean {
  if (!URL.canParse(streamUrl)) return false;
  const s = new URL(streamUrl);
  if (s.protocol !== 'ws:' && s.protocol !== 'wss:') return false;
  const target = hostPort(s);
  if (target === hostPort(new URL(url))) return true;
  // An allowed host without a port allows any of its ports.
  return allowHosts.some((h) =>
    h.includes(':') && !h.endsWith(']')
      ? hostPort(new URL(`${s.protocol}//${h}`)) === target
      : s.hostname.toLowerCase() === h,
  );
}

/** Throws TargetRefusedError unless `streamUrl` may be opened. */
export function checkStreamTarget(streamUrl: string, url: string, allowHosts: readonly string[]): void {
  if (!streamAllowed(streamUrl, url, allowHosts)) throw new TargetRefusedError(streamUrl, url);
}
