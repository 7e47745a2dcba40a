/**
 * Fuzz target: the TwiML reader of the simulated caller (`switchboard call`, the load tester), which reads
 * whatever a webhook answered. An input is the answer's text. readTwiml may only throw TWIML_INVALID, and what
 * it read, written again by this server's TwiML writers (connectStream, sayThenHangup), must read back the same.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { readTwiml } from '../../../src/simulator/twiml-reader.ts';
import { connectStream, hangup, sayThenHangup } from '../../../src/telephony/twiml.ts';
import { check, codesOf, typed, type FuzzTarget } from '../target.ts';

const TWIML = codesOf('TWIML');

const text = fc.string({ maxLength: 24, unit: 'grapheme' });

const connect = fc.record({
  actionUrl: fc.oneof(
    fc.constant('https://example.com/twilio/connect-ended'),
    text.filter((s) => s.length > 0),
  ),
  streamUrl: fc.constantFrom(
    'wss://example.com/twilio/media/abc',
    'ws://127.0.0.1:8080/twilio/media',
    'wss://h/p%20q',
  ),
  parameters: fc.dictionary(
    text.filter((s) => s.length > 0),
    text,
    { maxKeys: 4 },
  ),
});

/** TwiML as this server writes it, or as another app might: verbs in any order, odd attributes. */
const answer: fc.Arbitrary<Buffer> = fc
  .oneof(
    connect.map((c) => connectStream(c)),
    text.map((t) => sayThenHangup(t)),
    fc.constant(hangup()),
    fc
      .array(
        fc.oneof(
          text.map((t) => `<Say voice="alice">${t}</Say>`),
          fc.constant('<Hangup/>'),
          fc.constant('<Pause length="1"/>'),
          text.map((t) => `<Parameter name="${t}" value="${t}"/>`),
          fc.constantFrom('<Connect>', '</Connect>', '<Stream url="wss://x/y">', '</Stream>', '<Stream/>'),
        ),
        { maxLength: 8 },
      )
      .map((verbs) => `<?xml version="1.0"?><Response>${verbs.join('')}</Response>`),
  )
  .map((xml) => Buffer.from(xml));

/** Control characters XML cannot carry become U+FFFD when written (common/xml.ts); tab, CR and LF stay. */
function written(text: string): string {
  let out = '';
  for (const c of text) out += c < ' ' && c !== '\t' && c !== '\n' && c !== '\r' ? '\ufffd' : c;
  return out;
}

function run(input: Buffer): void {
  const read = typed(TWIML, () => readTwiml(input.toString('utf8')));
  if (!read) return;
  // What was read, written again by this server's TwiML writers, must read back the same.
  for (const said of read.say) {
    const again = readTwiml(sayThenHangup(said));
    check(again.hangup && isDeepStrictEqual(again.say, [written(said)]), '<Say> did not read back');
  }
  if (read.connect === null) return;
  const { action, streamUrl, parameters } = read.connect;
  const xml = typed(codesOf('CONFIG'), () =>
    connectStream({ actionUrl: action ?? '', streamUrl, parameters }),
  );
  if (xml === undefined) return;
  const again = readTwiml(xml).connect;
  const expected = Object.fromEntries(Object.entries(parameters).map(([k, v]) => [written(k), written(v)]));
  check(
    again !== null && again.action === written(action ?? '') && again.streamUrl === written(streamUrl),
    '<Connect><Stream> did not read back',
  );
  check(isDeepStrictEqual({ ...again.parameters }, expected), '<Parameter>s did not read back');
}

export const twiml: FuzzTarget = {
  name: 'twiml',
  format: 'text',
  arbitrary: answer,
  dictionary: [
    ...['<Response>', '</Response>', '<Say>', '</Say>', '<Hangup/>', '<Connect action="', '<Stream url="'],
    ...[
      '<Parameter name="',
      '" value="',
      '"/>',
      '</Stream>',
      '</Connect>',
      '&amp;',
      '&#x',
      '&#',
      ';',
      '<Dial>',
    ],
  ],
  maxBytes: 4096,
  run,
};
