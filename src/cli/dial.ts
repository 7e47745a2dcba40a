/**
 * `switchboard dial +15551234567 --flow reminder --var name=Ada`: place a call through a running server's calls
 * API (POST /api/calls), which journals it and asks Twilio to create it. Running it again with the same `--key`
 * never places a second call: it prints the call placed the first time.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { CALLS_API_PATH } from '../outbound/api-path.ts';

const HELP = `usage: switchboard dial NUMBER --flow NAME [--var NAME=VALUE ...] [--from NUMBER] [--key KEY]

Place a call to NUMBER (E.164, e.g. +15551234567) that runs flow NAME when it is answered, through a running
server's calls API.

  --flow NAME        the flow the call runs (a flow the server has loaded)
  --var NAME=VALUE   a variable the flow reads as {{call.vars.NAME}}; repeat for each
  --from NUMBER      the caller id, a number of the Twilio account (default: the server's TWILIO_CALLER_ID)
  --key KEY          idempotency key: the same key never places a second call (default: a new one, printed)
  --server URL       the server (SWITCHBOARD_URL, else http://127.0.0.1:PORT with PORT or 8080)

Reads API_KEY, which must match the server's. Prints the call's SID.
Exit status: 0 when the call was placed (or had been, with this key); 1 when the server or Twilio refused it
or the server cannot be reached; 2 for a usage error.`;

class UsageError extends Error {}

export async function main(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let request;
  let server: string;
  try {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        flow: { type: 'string' },
        var: { type: 'string', multiple: true },
        from: { type: 'string' },
        key: { type: 'string' },
        server: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError('give exactly one NUMBER to call');
    if (values.flow === undefined) throw new UsageError('--flow NAME is required');
    request = {
      to: positionals[0],
      flow: values.flow,
      vars: parseVars(values.var ?? []),
      idempotencyKey: values.key ?? randomBytes(12).toString('base64url'),
      ...(values.from === undefined ? {} : { from: values.from }),
    };
    server = (values.server ?? env.SWITCHBOARD_URL ?? `http://127.0.0.1:${env.PORT || 8080}`).replace(
      /\/+$/,
      '',
    );
    if (!URL.canParse(server)) throw new UsageError(`--server ${server} is not a URL`);
    if (!env.API_KEY) throw new UsageError("API_KEY is not set: it must match the server's");
  } catch (err) {
    if (!(err instanceof UsageError) && !(err instanceof TypeError)) throw err;
    console.error(`switchboard dial: ${err.message}\n\n${HELP}`);
    return 2;
  }
  let res: Response;
  try {
    res = await fetch(`${server}${CALLS_API_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${env.API_KEY}` },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    const cause = (err as Error).cause;
    const why = cause instanceof Error ? cause.message : (err as Error).message;
    console.error(`switchboard dial: cannot reach ${server}: ${why}`);
    return 1;
  }
  const answer = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) {
    const text = (v: unknown, otherwise: string): string => (typeof v === 'string' ? v : otherwise);
    const field = typeof answer.field === 'string' ? ` (${answer.field})` : '';
    const retry = answer.retryable === true ? `; try again with --key ${request.idempotencyKey}` : '';
    const error = text(answer.error, `HTTP ${res.status}`);
    console.error(`switchboard dial: ${error}${field}: ${text(answer.message, res.statusText)}${retry}`);
    return error === 'DIAL_INVALID' || error === 'FLOW_NOT_FOUND' ? 2 : 1;
  }
  const how = answer.created === true ? 'placed' : 'already placed with this key';
  console.log(`${String(answer.callSid)} ${how} (key ${String(answer.idempotencyKey)})`);
  return 0;
}

/** `name=value` pairs; the server checks names and values, this only splits them. */
function parseVars(pairs: readonly string[]): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--var ${pair.slice(0, 40)} must be NAME=VALUE`);
    vars[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return vars;
}
