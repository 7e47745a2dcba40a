/**
 * What every REST resource of the fake shares: the route a handler serves, Twilio's error body, its dates, and
 * the list envelope the twilio library's pager reads.
 */
import type { HeldCreateMode } from './types.ts';

export const API_VERSION = '2010-04-01';
/** Request bodies, and the webhook answers the fake keeps, are cut at this size. */
export const MAX_BODY_BYTES = 64 * 1024;
const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 1000;
const PAGING_PARAMS = new Set(['Page', 'PageSize', 'PageToken']);

export interface Reply {
  status: number;
  body: unknown;
  /**
   * 'hold': sent only when the test releases it (releaseHeld), and not at all if the client went away first;
   * 'drop': never sent, the request is not even recorded.
   */
  withhold?: HeldCreateMode;
}

/** The answer to a request that, as far as the client can tell, never reached Twilio: none (status 0). */
export const DROPPED: Reply = { status: 0, body: null, withhold: 'drop' };

/** A REST request as a route handler sees it: the SIDs in its path, its query and its form. */
export interface RouteRequest {
  sids: string[];
  query: URLSearchParams;
  form: URLSearchParams;
  path: string;
}

/**
 * One route of a resource: `path` is under the account (`/Calls/{CA}.json`), each `{CA}`, `{PN}` or `{RE}` a
 * SID of that kind (`{RE}` also matches `Twilio.CURRENT`), handed to `handle` in order.
 */
export interface RouteSpec {
  method: 'GET' | 'POST';
  path: string;
  handle: (request: RouteRequest) => Reply;
}

/** Twilio's error body. */
export function errorReply(status: number, code: number | null, message: string): Reply {
  const moreInfo = code === null ? null : `https://www.twilio.com/docs/errors/${code}`;
  return { status, body: { code, message, more_info: moreInfo, status } };
}

export function notFound(sid: string | undefined): Reply {
  return errorReply(404, 20404, `The requested resource ${sid ?? ''} was not found`);
}

/** Twilio's dates: RFC 2822 in UTC. */
export function rfc2822(date: Date | null): string | null {
  return date === null ? null : date.toUTCString().replace('GMT', '+0000');
}

/** Whole seconds from `from` to `to`. */
export function seconds(from: Date, to: Date): number {
  return Math.round((to.getTime() - from.getTime()) / 1000);
}

/** A webhook method parameter: GET when it says so, else POST. */
export function method(value: string | null): 'GET' | 'POST' {
  return value?.toUpperCase() === 'GET' ? 'GET' : 'POST';
}

export function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/** Event lists may repeat the parameter or space-separate the values ("initiated ringing"). */
export function eventSet(form: URLSearchParams, name: string, fallback: string[]): Set<string> {
  const values = form.getAll(name).flatMap((v) => v.split(/[\s,]+/).filter(Boolean));
  return new Set(values.length > 0 ? values : fallback);
}

function intParam(value: string | null): number | null {
  return value !== null && /^\d+$/.test(value) ? Number(value) : null;
}

/** A list envelope as the twilio library's pager reads it: records under `key`, next_page_uri and the rest. */
export function page(path: string, query: URLSearchParams, key: string, items: unknown[]): Reply {
  const pageSize = Math.min(Math.max(intParam(query.get('PageSize')) ?? DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE);
  const current = intParam(query.get('Page')) ?? 0;
  const filters = [...query].filter(([name]) => !PAGING_PARAMS.has(name));
  const uriOf = (n: number) => {
    const q = new URLSearchParams(filters);
    q.set('PageSize', String(pageSize));
    q.set('Page', String(n));
    if (n > 0) q.set('PageToken', `PA${n}`);
    return `${path}?${q.toString()}`;
  };
  const start = current * pageSize;
  const records = items.slice(start, start + pageSize);
  const body = {
    [key]: records,
    end: Math.max(start + records.length - 1, start),
    first_page_uri: uriOf(0),
    next_page_uri: start + pageSize < items.length ? uriOf(current + 1) : null,
    page: current,
    page_size: pageSize,
    previous_page_uri: current > 0 ? uriOf(current - 1) : null,
    start,
    uri: uriOf(current),
  };
  return { status: 200, body };
}
