/**
 * `http`: call a web service once the prompt (if any) has played. Its answer can fill slots (`map`); success
 * takes `next`, failure `onError`. The request is carried out by perform.ts with an injected `fetch`, under one
 * idempotency key for every attempt and every re-issue after a restart. Values are placed by where they land:
 * the URL's slots encoded for their part of it (url-template.ts), the body's as JSON strings; a header with a
 * control character is refused when the request is made.
 */
import { IGNORE, fallbackOf, goto, mayFallThrough, resolveTarget } from '../../routing.ts';
import { isObject } from '../../validate/finding.ts';
import { DONE_LABEL, ERROR_LABEL, type FlowAction, type Read } from '../action.ts';
import { failed } from '../next.ts';
import { httpOutcomeEvent, performHttp } from './perform.ts';
import type { HttpDef } from '../format/http.ts';
import type { JsonSchema } from '../schema.ts';
import { renderUrl } from './url-template.ts';
import { BODILESS_METHODS, HEADER_NAME, JSON_POINTER, URL_START, checkHttp, strings } from './validate.ts';

export const http: FlowAction = {
  name: 'http',
  keys: ['http'],
  events: ['http.done', 'http.failed'],
  example: {
    say: 'One moment while I place your order.',
    http: { url: '{{env.ORDERS_URL}}/orders', body: { size: '{{size}}' }, map: { orderId: '/id' } },
    next: 'placed',
    onError: 'sorry',
  },

  schema: ({ has, hangsUp, waiting, def }) => {
    const props = def('HttpDef').properties as Record<string, JsonSchema>;
    props.url!.pattern = URL_START.source.replaceAll('\\/', '/');
    props.headers!.propertyNames = {
      pattern: HEADER_NAME.source,
      // Switchboard sets them: the key the same for every retry, the host from the url.
      not: { pattern: '^([Ii][Dd][Ee][Mm][Pp][Oo][Tt][Ee][Nn][Cc][Yy]-[Kk][Ee][Yy]|[Hh][Oo][Ss][Tt])$' },
    };
    props.map!.additionalProperties = { type: 'string', pattern: JSON_POINTER.source.replaceAll('\\/', '/') };
    def('HttpDef').allOf = [
      {
        description: 'A GET or DELETE request has no body.',
        if: { required: ['method'], properties: { method: { enum: [...BODILESS_METHODS] } } },
        then: { not: has('body') },
      },
    ];
    return {
      requires: { http: ['next'] },
      state: [
        {
          description:
            'A state that makes a web request cannot also wait for input, transfer the call or hang up.',
          if: has('http'),
          then: { not: { anyOf: [...waiting.map(has), has('transfer'), hangsUp] } },
        },
      ],
    };
  },

  acts: (def) => def.http !== undefined,
  collects: (def) => def.http !== undefined,
  leaves: (state) => state.http !== undefined,

  validate({ state, at, template, error }) {
    if (state.http !== undefined) checkHttp(state.http, `${at}/http`, template, error);
  },

  combine({ state, at, waits, error }) {
    if (state.http === undefined) return;
    if (waits) error(`${at}/http`, 'a state that makes a web request cannot also wait for input');
    if (state.transfer !== undefined) {
      error(`${at}/transfer`, 'a state either makes a web request or transfers the call, not both');
    }
    if (state.hangup === true) {
      error(
        `${at}/hangup`,
        'a state that makes a web request cannot also hang up',
        'hang up in a state its "next" leads to',
      );
    }
    if (state.next === undefined) {
      error(`${at}/http`, 'a state that makes a web request needs "next": where to go when it succeeds');
    }
  },

  // Mapped slots are stored only on success; checks.ts tells whether every path to a read has one.
  stores: (state) => (isObject(state.http) && isObject(state.http.map) ? Object.keys(state.http.map) : []),
  storedNote: (def) =>
    def.http ? ' (the request and its error path come before the answer is stored)' : undefined,

  reads(def, at) {
    if (!def.http) return [];
    const read = (text: string, pointer: string): Read => ({ pointer, text, moment: 'state', spoken: false });
    return [
      read(def.http.url, `${at}/http/url`),
      ...strings(def.http.headers ?? {}, `${at}/http/headers`).map(([t, p]) => read(t, p)),
      ...strings(def.http.body, `${at}/http/body`).map(([t, p]) => read(t, p)),
    ];
  },
  address: (def) => def.http?.url,

  act(def, id, step) {
    const h = def.http;
    if (!h) return;
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(h.headers ?? {})) headers[key] = step.render(value);
    step.emit({
      type: 'http',
      id,
      idempotencyKey: `${step.ctx.callId}:${id}`,
      method: h.method ?? 'POST',
      url: renderUrl(h.url, (placeholder) => step.render(placeholder)),
      headers,
      // Each value stays a JSON string: the body is serialized as a whole when it is sent.
      body: h.body === undefined ? null : renderDeep(h.body, (t) => step.render(t)),
      timeoutMs: h.timeoutMs ?? 5000,
      retries: h.retries ?? 2,
      map: h.map ?? {},
      // Only when set, so the effects of flows without it are journaled as before.
      ...(h.allowPrivate === undefined ? {} : { allowPrivate: [...h.allowPrivate] }),
    });
  },

  route(query) {
    const { table, def, ctx, event } = query;
    if (event.type === 'http.done') {
      if (event.id !== ctx.pending || def.next === undefined) return IGNORE;
      const slots = { ...ctx.slots, ...event.slots };
      return goto(resolveTarget(table, def.next, slots, ctx.call) ?? fallbackOf(table), event.slots, false);
    }
    if (event.type === 'http.failed') return event.id === ctx.pending ? failed(query) : IGNORE;
    return undefined;
  },

  describe: {
    http: (_m, text) => ({
      kind: 'web',
      title: `web request ${text('id')}: ${text('method')} ${where(text('url'))}`,
      detail: `idempotency key ${text('idempotencyKey')}`,
    }),
    'http.done': (m, text) => {
      const slots = Object.keys(m.slots ?? {});
      return {
        kind: 'web',
        title: `web request ${text('id')} answered ${text('status')}`,
        detail: slots.length > 0 ? `slots set: ${slots.join(', ')}` : null,
      };
    },
    'http.failed': (_m, text) => ({
      kind: 'web',
      title: `web request ${text('id')} failed`,
      detail: text('reason'),
    }),
  },

  run: {
    http: (effect, ports) => {
      if (effect.type !== 'http') return;
      // Not tied to the audio queue: the request runs while its state's prompt is still heard out, and only the
      // end of the call cancels it.
      const work = ports.request
        ? ports.request(effect, ports.signal)
        : performHttp(effect, ports.signal, { logger: ports.log, fetch: ports.fetch });
      void ports.track(work).then((outcome) => {
        if (!ports.stopped()) ports.deliver(httpOutcomeEvent(effect, outcome, ports.now()));
      });
    },
  },

  // The request's own key: the web service sees it too, so it says which request a retry repeats.
  journalKeys: {
    http: (effect) => effect.idempotencyKey,
  },

  tallies: [
    { counts: { event: 'http.done' }, thing: 'web request', what: 'answered' },
    { counts: { event: 'http.failed' }, thing: 'web request', what: 'failed' },
  ],

  drawState(def, draw) {
    if (!def.http) return false;
    draw.node('state', [describeHttp(def.http)]);
    if (def.next !== undefined) draw.edges(def.next, DONE_LABEL);
    if (mayFallThrough(def.next)) draw.fallsThrough();
    if (def.onError !== undefined) draw.edges(def.onError, ERROR_LABEL);
    if (def.onError === undefined || mayFallThrough(def.onError)) draw.failing();
    return true;
  },
};

/** The request note is cut to this length. */
export const HTTP_LABEL_MAX = 40;

/**
 * The request note: the method and the host, or the template the URL starts with. The path and query are left
 * out (they may carry a caller's data), and so is any `user:password@`.
 */
export function describeHttp(h: HttpDef): string {
  const url = h.url.replace(/\s+/g, ' ').trim();
  const scheme = /^https?:\/\//.exec(url)?.[0];
  const rest = scheme === undefined ? url : url.slice(scheme.length);
  let where = /^(?:\{\{[^}]*\}\}|[^/?#{])*/.exec(rest)?.[0] ?? '';
  const at = where.lastIndexOf('@');
  if (scheme !== undefined && at >= 0) where = where.slice(at + 1);
  const text = `${h.method ?? 'POST'} ${where === '' ? rest : where}`;
  return text.length <= HTTP_LABEL_MAX ? text : `${text.slice(0, HTTP_LABEL_MAX - 1).trimEnd()}…`;
}

/** `body` with every string in it rendered as a template. */
function renderDeep(value: unknown, render: (template: string) => string): unknown {
  if (typeof value === 'string') return render(value);
  if (Array.isArray(value)) return value.map((item) => renderDeep(item, render));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, renderDeep(item, render)]));
  }
  return value;
}

/** The request's origin and path; the query (which may carry a caller's data) and any credentials left out. */
function where(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return url.split('?')[0] ?? '';
  }
}
