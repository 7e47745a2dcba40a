/**
 * The operator's routes: `/healthz` (the process is up), `/readyz` (it takes calls) and `/metrics` (Prometheus).
 * Health and readiness are public: load balancers and orchestrators ask without credentials, and the answers
 * say only whether the process is up and ready. Metrics hold no personal data but do say how busy the service is:
 * with METRICS_TOKEN set they need `Authorization: Bearer <token>`; without it, a production server (one with
 * TWILIO_AUTH_TOKEN) serves them to loopback clients only, and a development server to anyone who reaches it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SwitchboardError } from '../errors.ts';
import { hasBearer } from './bearer.ts';
import { sendJson, sendText } from './http.ts';

export interface OpsRoutesOptions {
  /** The bearer token /metrics needs; null: see `production`. */
  metricsToken: string | null;
  /** TWILIO_AUTH_TOKEN is set: without a metrics token, /metrics is for loopback clients only. */
  production: boolean;
  /** This process's readiness, or the whole server's across workers: answered 200 only when ready. */
  readiness: () => { status: string } | Promise<{ status: string }>;
  metrics: () => string | Promise<string>;
}

export const OPS_PATHS = ['/healthz', '/readyz', '/metrics'];

export class OpsRoutes {
  readonly #opts: OpsRoutesOptions;

  constructor(opts: OpsRoutesOptions) {
    this.#opts = opts;
  }

  /** Serve an operator route; false when `route` ("METHOD /path") is not one. Throws typed errors. */
  async handle(req: IncomingMessage, res: ServerResponse, route: string): Promise<boolean> {
    switch (route) {
      case 'GET /healthz':
        sendJson(res, { status: 'ok' });
        return true;
      case 'GET /readyz': {
        const ready = await this.#opts.readiness();
        sendJson(res, ready, ready.status === 'ready' ? 200 : 503);
        return true;
      }
      case 'GET /metrics':
        this.#checkMetricsAccess(req);
        sendText(res, await this.#opts.metrics(), 'text/plain; version=0.0.4');
        return true;
      default:
        return false;
    }
  }

  #checkMetricsAccess(req: IncomingMessage): void {
    const token = this.#opts.metricsToken;
    if (token !== null) {
      if (!hasBearer(req, token))
        throw new SwitchboardError('HTTP_UNAUTHORIZED', 'GET /metrics needs METRICS_TOKEN');
      return;
    }
    if (this.#opts.production && !isLoopback(req.socket.remoteAddress)) {
      throw new SwitchboardError('HTTP_FORBIDDEN', 'set METRICS_TOKEN to serve /metrics beyond this machine');
    }
  }
}

function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4 === '::1' || v4.startsWith('127.');
}
