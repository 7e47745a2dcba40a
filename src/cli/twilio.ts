/**
 * `switchboard twilio numbers | setup`: the Twilio account's phone numbers and where their calls go, and pointing
 * one at this server (its voice webhook at PUBLIC_URL/twilio/voice, its status callback at /twilio/status) in
 * place of doing it by hand in the console. The change is shown and confirmed first, then read back from Twilio.
 * Credentials come from the environment the server reads (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, PUBLIC_URL,
 * TWILIO_API_URL), checked by the same rules.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { isE164 } from '../common/e164.ts';
import { configFromEnv } from '../config/env.ts';
import { isSwitchboardError, type SwitchboardError } from '../errors.ts';
import { STATUS_PATH, VOICE_PATH } from '../server/twilio-webhooks.ts';
import { TwilioNumbers, pointsAt, type NumberTarget, type PhoneNumberConfig } from '../telephony/numbers.ts';
import { twilioMessage } from '../telephony/rest-errors.ts';
import { httpUrlFor } from '../telephony/twiml.ts';
import { flowArgPath, loadFlowArg } from './flow-arg.ts';

const HELP = `usage: switchboard twilio numbers [--json]
       switchboard twilio setup --number +15551234567 [--flow NAME] [--yes]

  numbers        the account's phone numbers, one a line: where their calls go (voice webhook, or the TwiML
                 application or SIP trunk that takes them) and their status callback
    --json       print them as a JSON array instead
  setup          point a number of the account at this server: voice webhook POST PUBLIC_URL${VOICE_PATH},
                 status callback POST PUBLIC_URL${STATUS_PATH}. Shows the change and asks before making
                 it, then reads the number back from Twilio to check it. A number already set up is left as is.
    --number N   the number, in E.164 form
    --flow NAME  the flow its calls get (?flow=NAME on the voice webhook): a flow id in FLOWS_DIR (./flows
                 unless set); without it, the server's DEFAULT_FLOW
    --yes        make the change without asking (needed when standard input is not a terminal)

Reads TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (both required), PUBLIC_URL (required by setup: the URL Twilio
reaches) and TWILIO_API_URL (a fake or emulator of Twilio's REST API instead of Twilio), as the server does.
Exit status: 0 on success (for setup, also when nothing needed changing); 1 when Twilio refuses or cannot be
reached, the account has no such number (or it is on a SIP trunk), the change was declined or did not take;
2 for a usage error (also a missing or invalid variable, an unknown flow, or setup without --yes when there is
no terminal to ask on).`;

const NAME = 'switchboard twilio';

/** Where setup asks for confirmation. */
export interface Terminal {
  /** Whether someone can answer: standard input is a terminal. */
  readonly interactive: boolean;
  /** Asks `question` and resolves with the line answered ('' at end of input). */
  ask(question: string): Promise<string>;
}

/** Usage errors: exit 2, the message on standard error. */
class UsageError extends Error {}

export async function main(args: string[], terminal: Terminal = processTerminal()): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        number: { type: 'string' },
        flow: { type: 'string' },
        yes: { type: 'boolean', short: 'y' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    console.error(`${NAME}: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const [command, ...rest] = positionals;
  const setupOnly = values.number !== undefined || values.flow !== undefined || values.yes === true;
  if (
    rest.length > 0 ||
    (command === 'numbers' && setupOnly) ||
    (command === 'setup' && (values.number === undefined || values.json === true)) ||
    (command !== 'numbers' && command !== 'setup')
  ) {
    console.error(
      `${NAME}: expected "numbers [--json]" or "setup --number NUMBER [--flow NAME] [--yes]"\n\n${HELP}`,
    );
    return 2;
  }
  try {
    if (command === 'numbers') return await numbers(values.json === true);
    return await setup(values.number!, values.flow, values.yes === true, terminal);
  } catch (err) {
    // A variable set wrong (TWILIO_ACCOUNT_SID, PUBLIC_URL, TWILIO_API_URL) is a usage error too.
    if (err instanceof UsageError || isSwitchboardError(err, 'CONFIG_INVALID')) {
      console.error(`${NAME}: ${err.message}`);
      return 2;
    }
    if (isSwitchboardError(err, 'TWILIO_REST_FAILED')) {
      console.error(`${NAME}: ${restFailure(err)}`);
      return 1;
    }
    throw err;
  }
}

async function numbers(json: boolean): Promise<number> {
  const { client, accountSid } = account(false);
  const list = await client.list();
  if (json) console.log(JSON.stringify(list));
  else if (list.length === 0) console.log(`no phone numbers in account ${accountSid}`);
  else for (const line of table(list)) console.log(line);
  return 0;
}

async function setup(
  phoneNumber: string,
  flow: string | undefined,
  yes: boolean,
  terminal: Terminal,
): Promise<number> {
  if (!isE164(phoneNumber)) throw new UsageError('--number must be in E.164 form, such as +15551234567');
  if (flow !== undefined) await checkFlow(flow);
  const { client, accountSid, publicUrl } = account(true);
  const target: NumberTarget = {
    voiceUrl: httpUrlFor(
      publicUrl,
      flow === undefined ? VOICE_PATH : `${VOICE_PATH}?flow=${encodeURIComponent(flow)}`,
    ),
    statusCallback: httpUrlFor(publicUrl, STATUS_PATH),
  };
  const number = await client.find(phoneNumber);
  if (number === null) {
    console.error(`${NAME}: account ${accountSid} has no number ${phoneNumber} (see "${NAME} numbers")`);
    return 1;
  }
  if (pointsAt(number, target)) {
    console.log(`${phoneNumber} already points at this server: ${voiceOf(number)}; nothing to change`);
    return 0;
  }
  if (number.trunkSid !== null) {
    console.error(
      `${NAME}: ${phoneNumber} is on SIP trunk ${number.trunkSid}, which takes its calls whatever its voice webhook says; take it off the trunk in the Twilio console first`,
    );
    return 1;
  }
  const name = nameOf(number);
  console.log(`${phoneNumber}${name === null ? '' : ` (${name})`} in account ${accountSid}:`);
  for (const line of changes(number, target)) console.log(`  ${line}`);
  if (!yes) {
    if (!terminal.interactive) {
      throw new UsageError(
        'not changed: standard input is not a terminal to confirm on; run again with --yes to make this change',
      );
    }
    const answer = (await terminal.ask('Make this change? [y/N] ')).trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes') {
      console.log('not changed');
      return 1;
    }
  }
  await client.pointAt(number, target);
  const now = await client.fetch(number.sid);
  if (!pointsAt(now, target)) {
    console.error(
      `${NAME}: Twilio took the update, but ${phoneNumber} now reads ${voiceOf(now)}, status callback ${statusOf(now)}`,
    );
    return 1;
  }
  console.log(`${phoneNumber} now points at ${voiceOf(now)}, status callback ${statusOf(now)}`);
  return 0;
}

/** A flow the server offers under `?flow=NAME`: a valid file in FLOWS_DIR whose id is NAME. */
async function checkFlow(name: string): Promise<void> {
  if (!flowArgPath(name).byName) {
    throw new UsageError(
      `--flow takes a flow id from FLOWS_DIR, as the server names flows, not a path: ${name}`,
    );
  }
  const loaded = await loadFlowArg(name, { idOnly: true });
  if (!loaded.ok) throw new UsageError(loaded.message);
  if (loaded.flow.id !== name) {
    throw new UsageError(
      `${loaded.path} defines flow "${loaded.flow.id}", not "${name}": the server offers it as --flow ${loaded.flow.id}`,
    );
  }
}

/**
 * The REST client for the account in the environment, and PUBLIC_URL when `needPublicUrl`. A variable missing is
 * a UsageError; one set wrong is configFromEnv's CONFIG_INVALID.
 */
function account(needPublicUrl: true): { client: TwilioNumbers; accountSid: string; publicUrl: string };
function account(needPublicUrl: false): { client: TwilioNumbers; accountSid: string };
function account(needPublicUrl: boolean): { client: TwilioNumbers; accountSid: string; publicUrl?: string } {
  const config = configFromEnv(process.env);
  const missing = [
    config.twilioAccountSid === null ? 'TWILIO_ACCOUNT_SID (AC followed by 32 hex digits)' : null,
    config.twilioAuthToken === null ? 'TWILIO_AUTH_TOKEN' : null,
    needPublicUrl && config.publicUrl === null ? 'PUBLIC_URL (the URL Twilio reaches, https://...)' : null,
  ].filter((name) => name !== null);
  if (missing.length > 0) {
    throw new UsageError(
      `set ${missing.join(', ')}: they are read from the environment, as the server reads them`,
    );
  }
  const accountSid = config.twilioAccountSid!;
  const client = new TwilioNumbers({
    accountSid,
    authToken: config.twilioAuthToken!,
    ...(config.twilioApiUrl === null ? {} : { apiUrl: config.twilioApiUrl }),
  });
  return { client, accountSid, ...(config.publicUrl === null ? {} : { publicUrl: config.publicUrl }) };
}

/** One line a number, its columns aligned: number, voice, status callback, name. */
function table(list: PhoneNumberConfig[]): string[] {
  const rows = list.map((n) => [
    n.phoneNumber,
    `voice ${voiceOf(n)}`,
    `status ${statusOf(n)}`,
    nameOf(n) ?? '',
  ]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}

/** What setup changes, as "what  now  ->  then" lines. */
function changes(number: PhoneNumberConfig, target: NumberTarget): string[] {
  const lines = [
    ['voice webhook', voiceUrlOf(number), `POST ${target.voiceUrl}`],
    ['status callback', statusOf(number), `POST ${target.statusCallback}`],
  ];
  if (number.voiceApplicationSid !== null) {
    lines.push(['TwiML application', `${number.voiceApplicationSid} (takes the calls now)`, 'none']);
  }
  const width = Math.max(...lines.map(([what]) => what!.length));
  return lines.map(([what, now, then]) =>
    now === then
      ? `${what!.padEnd(width)}  ${now} (unchanged)`
      : `${what!.padEnd(width)}  ${now}  ->  ${then}`,
  );
}

/** Where the number's calls go: the application or trunk that takes them, else its voice webhook. */
function voiceOf(n: PhoneNumberConfig): string {
  if (n.trunkSid !== null) return `SIP trunk ${n.trunkSid}`;
  if (n.voiceApplicationSid !== null) return `TwiML application ${n.voiceApplicationSid}`;
  return voiceUrlOf(n);
}

function voiceUrlOf(n: PhoneNumberConfig): string {
  return n.voiceUrl === null ? 'none' : `${n.voiceMethod.toUpperCase()} ${n.voiceUrl}`;
}

function statusOf(n: PhoneNumberConfig): string {
  return n.statusCallback === null ? 'none' : `${n.statusCallbackMethod.toUpperCase()} ${n.statusCallback}`;
}

/** The number's friendly name, when it says more than the number. */
function nameOf(n: PhoneNumberConfig): string | null {
  return n.friendlyName === n.phoneNumber || n.friendlyName === '' ? null : n.friendlyName;
}

/** A failed request as the person at the terminal needs it: what failed, Twilio's words, what to check. */
function restFailure(err: SwitchboardError): string {
  const said = twilioMessage(err);
  const parts = [err.message + (said === undefined ? '' : `: ${said}`)];
  if (err.data.twilioCode === 20003 || err.data.status === 401) {
    parts.push('Twilio refused the credentials: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN');
  }
  if (typeof err.data.moreInfo === 'string') parts.push(err.data.moreInfo);
  return parts.join('; ');
}

function processTerminal(): Terminal {
  return {
    interactive: process.stdin.isTTY === true,
    ask: (question) =>
      new Promise((resolve) => {
        const rl = createInterface({ input: process.stdin, output: process.stdout });
        rl.once('close', () => resolve(''));
        rl.question(question, (answer) => {
          resolve(answer);
          rl.close();
        });
      }),
  };
}
