/**
 * Whether a request's Host names this server, for the developer pages (the softphone and the calls pages). A site
 * that points a name of its own at 127.0.0.1 (DNS rebinding) makes a visitor's browser send that name as Host, and
 * would then read the pages as same-origin: such requests are refused. Loopback names and IP addresses cannot be
 * rebound, and PUBLIC_URL's host is this server by configuration.
 */
import { isIP } from 'node:net';

export function isOwnHost(host: string | undefined, publicUrl: string | null): boolean {
  if (host === undefined || host === '') return false;
  let name: string;
  try {
    name = new URL(`http://${host}`).hostname.toLowerCase();
  } catch {
    return false;
  }
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (isIP(name.replace(/^\[|\]$/g, '')) !== 0) return true;
  if (publicUrl === null) return false;
  try {
    return new URL(publicUrl).hostname.toLowerCase() === name;
  } catch {
    return false;
  }
}
