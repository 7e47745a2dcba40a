/**
 * Bearer tokens (`Authorization: Bearer <token>`) on the operator's and the calls API's routes, compared in time
 * that does not depend on where the given token first differs from the expected one.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { header } from './http.ts';

/** Whether the request carries `token` as its bearer token. */
export function hasBearer(req: IncomingMessage, token: string): boolean {
  const given = /^Bearer (.+)$/.exec(header(req, 'authorization') ?? '')?.[1] ?? '';
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
