/**
 * `switchboard load`: places calls through a deployment's voice webhook the way Twilio does, streams audio at real
 * time, and reports per step how the server kept up. It talks only to the --url the user names (and hosts allowed
 * by name), and its run is bounded by --max-seconds.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { prepareUtterances, type Utterances } from '../load/caller-audio.ts';
import {
  LoadUsageError,
  parseAllowHost,
  parseDuration,
  parsePositive,
  parseSteps,
  parseTargetUrl,
  type CallerSpeech,
  type LoadOptions,
} from '../load/options.ts';
import { formatJson, formatStep } from '../load/report.ts';
import { runLoad } from '../load/scheduler.ts';
import { FLITE_VOICES } from '../speech/tts/flite.ts';

const HELP = `usage: switchboard load --url URL [--calls N[,N...]] [--say TEXT | --wav FILE] [options]

Places calls through the server's voice webhook as Twilio does, follows its <Connect><Stream> to the media
websocket and streams 20 ms mu-law frames in real time; reports each step's calls, turns and agent audio, and
the server's CPU and memory when it runs on this machine. Run it against your own deployment only.

  --url URL           the server's base address (required); nothing else is called
  --allow-host HOST   also allow the media websocket on HOST or HOST:PORT (when PUBLIC_URL names another
                      host than --url); repeatable
  --flow NAME         flow to call (the server's default flow otherwise)
  --calls N[,N...]    concurrent calls per step, increasing (10); each step adds calls to the last
  --ramp N            new calls per second while ramping up to a step (5)
  --hold DURATION     how long each step holds its calls, measuring (30s)
  --say TEXT          what each caller says, synthesized by flite; repeatable, said in turn
  --voice NAME        the caller's flite voice for --say (kal)
  --wav FILE          what each caller says, from a recording (any rate, mono or stereo WAV)
  --every DURATION    each caller speaks once per DURATION, offset per call, once the agent is quiet (6s)
  --answer-within DURATION  a turn is answered when agent audio begins within this after the end of
                      speech (5s)
  --auth-token-file FILE  sign requests like Twilio with the token in FILE (default: $TWILIO_AUTH_TOKEN)
  --pid PID           the server's process, to measure its CPU and memory (found from the port when the
                      server listens on this machine)
  --max-seconds N     stop the whole run after N seconds, whatever is left (900)
  --json              print the result as one line of JSON instead of tables

Without --say or --wav, callers stay silent (listening calls). Durations take ms, s or m (6s, 500ms, 2m).

Exit status: 0 when every step ran; 1 when the server cannot be reached, the TwiML streams to a host not
allowed, or the run failed or was stopped by --max-seconds; 2 for a usage error.`;

const NAME = 'switchboard load';

export async function main(args: string[]): Promise<number> {
  let options: LoadOptions;
  try {
    const { values } = parseArgs({
      args,
      options: {
        url: { type: 'string' },
        'allow-host': { type: 'string', multiple: true },
        flow: { type: 'string' },
        calls: { type: 'string' },
        ramp: { type: 'string' },
        hold: { type: 'string' },
        say: { type: 'string', multiple: true },
        voice: { type: 'string' },
        wav: { type: 'string' },
        every: { type: 'string' },
        'answer-within': { type: 'string' },
        'auth-token-file': { type: 'string' },
        pid: { type: 'string' },
        'max-seconds': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    options = {
      url: parseTargetUrl(values.url),
      flow: values.flow ?? null,
      steps: parseSteps(values.calls ?? '10'),
      rampPerSecond: parsePositive(values.ramp ?? '5', '--ramp'),
      holdMs: parseDuration(values.hold ?? '30s', '--hold'),
      speech: speech(values.say, values.wav, values.voice),
      everyMs: parseDuration(values.every ?? '6s', '--every'),
      answerWithinMs: parseDuration(values['answer-within'] ?? '5s', '--answer-within'),
      allowHosts: (values['allow-host'] ?? []).map(parseAllowHost),
      authToken: authToken(values['auth-token-file']),
      pid: values.pid === undefined ? null : pid(values.pid),
      maxSeconds: parsePositive(values['max-seconds'] ?? '900', '--max-seconds'),
      json: values.json === true,
    };
  } catch (err) {
    const usage =
      err instanceof LoadUsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    console.error(
      `${NAME}: ${(err as Error).message}${usage ? '\n\nRun "switchboard load --help" for the options.' : ''}`,
    );
    return usage ? 2 : 1;
  }
  let utterances: Utterances;
  try {
    utterances = await prepareUtterances(options.speech);
  } catch (err) {
    console.error(`${NAME}: cannot prepare what callers say: ${(err as Error).message}`);
    return 1;
  }
  // The run stops itself at --max-seconds; this is the last resort should hanging up hang.
  const hardStop = setTimeout(
    () => {
      console.error(`${NAME}: stopped at --max-seconds`);
      process.exit(1);
    },
    (options.maxSeconds + 15) * 1000,
  );
  hardStop.unref();
  if (!options.json)
    console.log(
      `loading ${options.url}: steps of ${options.steps.join(', ')} calls, ${options.rampPerSecond} new calls/s, ` +
        `holding ${options.holdMs / 1000} s each`,
    );
  const result = await runLoad(options, utterances, {
    onStep: (step) => {
      if (!options.json) console.log(`\n${formatStep(step)}`);
    },
  });
  clearTimeout(hardStop);
  if (options.json) console.log(formatJson(result));
  if (result.stopped === 'max-seconds') {
    console.error(
      `${NAME}: stopped after --max-seconds ${options.maxSeconds}, with ${result.steps.filter((s) => s.complete).length} of ${options.steps.length} steps done`,
    );
    return 1;
  }
  if (result.stopped !== null) {
    console.error(`${NAME}: ${result.stopped}`);
    return 1;
  }
  return 0;
}

function speech(say: string[] | undefined, wav: string | undefined, voice: string | undefined): CallerSpeech {
  if (say && wav) throw new LoadUsageError('give --say or --wav, not both');
  if (voice !== undefined && !FLITE_VOICES.includes(voice))
    throw new LoadUsageError(`--voice takes one of ${FLITE_VOICES.join(', ')}; got "${voice}"`);
  if (say) {
    if (say.some((line) => line.trim() === '')) throw new LoadUsageError('--say takes words to say');
    return { kind: 'say', lines: say, voice: voice ?? 'kal' };
  }
  return wav ? { kind: 'wav', path: wav } : { kind: 'silence' };
}

function authToken(file: string | undefined): string | null {
  if (file === undefined) return process.env.TWILIO_AUTH_TOKEN || null;
  let token: string;
  try {
    token = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new LoadUsageError(
      `--auth-token-file: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  if (token === '') throw new LoadUsageError(`--auth-token-file: ${file} is empty`);
  return token;
}

function pid(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1)
    throw new LoadUsageError(`--pid takes a process id; got "${text}"`);
  return n;
}
