/** Structural checks of a state's `http`, each finding at its pointer. */
import {
  escapePointer,
  isObject,
  isPositiveInt,
  unknownKeys,
  type Add,
  type Check,
} from '../../validate/finding.ts';
import { SLOT_NAME } from '../set.ts';
import { allowEntryProblem } from './egress.ts';
import { slotsInAuthority } from './url-template.ts';

const HTTP_KEYS = new Set([
  'method',
  'url',
  'headers',
  'body',
  'timeoutMs',
  'retries',
  'map',
  'allowPrivate',
]);
export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
/** Methods whose body servers may drop or refuse, so a flow cannot rely on one being read. */
export const BODILESS_METHODS = new Set(['GET', 'DELETE']);
export const HEADER_NAME = /^[A-Za-z0-9-]+$/;
/** A template may supply the scheme (`{{env.ORDERS_URL}}/orders`); the runtime checks the rendered URL. */
export const URL_START = /^(https?:\/\/\S|\{\{)/;
/** An RFC 6901 pointer: empty (the whole answer) or `/`-separated segments where `~` is only `~0` or `~1`. */
export const JSON_POINTER = /^(\/([^~]|~[01])*)?$/;

export function checkHttp(http: unknown, at: string, template: Check, add: Add): void {
  if (!isObject(http)) {
    add(at, 'http must be an object', 'e.g. { "method": "GET", "url": "{{env.ORDERS_URL}}/status" }');
    return;
  }
  unknownKeys(http, HTTP_KEYS, at, add);
  const method = http.method === undefined ? 'POST' : http.method;
  if (typeof method !== 'string' || !HTTP_METHODS.includes(method)) {
    add(`${at}/method`, `method must be one of ${HTTP_METHODS.join(', ')}`);
  }
  const url = http.url;
  if (typeof url !== 'string' || url.trim() === '') {
    add(`${at}/url`, 'http needs "url": non-empty text', 'e.g. "https://api.example.com/orders"');
  } else if (!URL_START.test(url)) {
    add(
      `${at}/url`,
      'url must start with "http://" or "https://", or with a template such as {{env.ORDERS_URL}}',
    );
  } else {
    template(url, `${at}/url`);
    for (const slot of slotsInAuthority(url)) {
      add(
        `${at}/url`,
        `{{${slot}}} is in the url's scheme, host or port: a caller's value cannot choose where a request goes`,
        'put it after a "/" (a path segment) or a "?" (the query), and take the host from the flow or {{env.NAME}}',
      );
    }
  }

  const headers = http.headers;
  if (headers !== undefined) {
    if (!isObject(headers)) add(`${at}/headers`, 'headers must map header names to values');
    else {
      const seen = new Map<string, string>();
      for (const [name, value] of Object.entries(headers)) {
        const p = `${at}/headers/${escapePointer(name)}`;
        const lower = name.toLowerCase();
        if (!HEADER_NAME.test(name)) add(p, 'a header name is letters, digits and "-"');
        else if (lower === 'idempotency-key') {
          add(p, 'Idempotency-Key is set by Switchboard', 'it is the same for every retry of the request');
        } else if (lower === 'host') {
          add(p, 'Host is set from the url', 'it is the host the request connects to');
        } else if (seen.has(lower)) {
          add(p, `header "${name}" is also given as "${seen.get(lower) ?? ''}"`, 'header names ignore case');
        }
        seen.set(lower, name);
        if (typeof value !== 'string') add(p, 'a header value must be text (a template)');
        else template(value, p);
      }
    }
  }

  const body = http.body;
  if (body !== undefined) {
    if (!isObject(body)) add(`${at}/body`, 'body must be a JSON object');
    else {
      if (typeof method === 'string' && BODILESS_METHODS.has(method)) {
        add(
          `${at}/body`,
          `a ${method} request has no body`,
          'use POST, PUT or PATCH, or put values in the url',
        );
      }
      for (const [value, p] of strings(body, `${at}/body`)) template(value, p);
    }
  }
  if (http.timeoutMs !== undefined && !isPositiveInt(http.timeoutMs, 100, 30_000)) {
    add(`${at}/timeoutMs`, 'timeoutMs must be an integer from 100 to 30000');
  }
  if (http.retries !== undefined && !isPositiveInt(http.retries, 0, 5)) {
    add(`${at}/retries`, 'retries must be an integer from 0 to 5');
  }
  const allow = http.allowPrivate;
  if (allow !== undefined) {
    if (!Array.isArray(allow)) {
      add(
        `${at}/allowPrivate`,
        'allowPrivate must be a list of hosts, IP addresses or CIDR ranges',
        'e.g. ["127.0.0.1"]',
      );
    } else {
      allow.forEach((entry: unknown, i) => {
        const problem = typeof entry === 'string' ? allowEntryProblem(entry) : 'an entry must be text';
        if (problem !== null) add(`${at}/allowPrivate/${i}`, problem);
      });
    }
  }
  const map = http.map;
  if (map !== undefined) {
    if (!isObject(map))
      add(`${at}/map`, 'map must map slot names to JSON pointers', 'e.g. { "eta": "/minutes" }');
    else {
      for (const [slot, pointer] of Object.entries(map)) {
        const p = `${at}/map/${escapePointer(slot)}`;
        if (!SLOT_NAME.test(slot))
          add(p, 'a slot name is letters, digits and "_", not starting with a digit');
        if (typeof pointer !== 'string' || !JSON_POINTER.test(pointer)) {
          add(
            p,
            'a slot maps to a JSON pointer into the answer: "" or starting with "/"',
            'e.g. "/order/id"; write "~1" for "/" and "~0" for "~" inside a name',
          );
        }
      }
    }
  }
}

/** Every string inside a JSON value with its pointer; iterative, so a body nested thousands deep is fine. */
export function strings(value: unknown, pointer: string): [string, string][] {
  const out: [string, string][] = [];
  const stack: [unknown, string][] = [[value, pointer]];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [v, p] = item;
    if (typeof v === 'string') out.push([v, p]);
    else if (Array.isArray(v)) v.forEach((x: unknown, i) => stack.push([x, `${p}/${i}`]));
    else if (isObject(v)) for (const [k, x] of Object.entries(v)) stack.push([x, `${p}/${escapePointer(k)}`]);
  }
  return out;
}
