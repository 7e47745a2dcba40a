import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { configFromEnv } from '../../../src/config/env.ts';
import { isSwitchboardError, type SwitchboardError } from '../../../src/errors.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';
import { CallControl } from '../../../src/telephony/call-control.ts';
import { MAX_INLINE_TWIML_CHARS, sayThenHangup } from '../../../src/telephony/twiml.ts';
import { RecordingTwilioHttpClient, callResource, twilioError } from '../../fakes/twilio-rest.ts';

const ACCOUNT = 'AC' + '0123456789abcdef'.repeat(2);
const TOKEN = 'test-auth-token';
const CALL = 'CA' + 'fedcba9876543210'.repeat(2);
const NUMBER = '+15555550100';
const CALL_URI = `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT}/Calls/${CALL}.json`;

function setup() {
  const http = new RecordingTwilioHttpClient();
  const { logger, records } = memoryLogger();
  const control = new CallControl({ accountSid: ACCOUNT, authToken: TOKEN, logger, httpClient: http });
  return { http, records, control };
}

async function rejectsWith(
  promise: Promise<unknown>,
  code: SwitchboardError['code'],
): Promise<SwitchboardError> {
  let caught: unknown;
  await assert.rejects(promise, (err: unknown) => {
    caught = err;
    return isSwitchboardError(err, code);
  });
  return caught as SwitchboardError;
}

// First in the file: the check is that nothing before it loaded the twilio REST client.
test('the twilio client is loaded on first use, not when a CallControl is built; warm() loads it without a request', () => {
  const cache = createRequire(import.meta.url).cache;
  const loaded = () => Object.keys(cache).some((k) => k.endsWith('twilio/lib/rest/Twilio.js'));
  const { http, control } = setup();
  assert.equal(loaded(), false);
  control.warm();
  assert.equal(loaded(), true);
  assert.equal(http.requests.length, 0);
});

test('transfer POSTs the call update with <Dial><Number> TwiML and the account credentials', async () => {
  const { http, records, control } = setup();
  http.respondWith(callResource(CALL, ACCOUNT));
  await control.transfer(CALL, NUMBER);

  assert.equal(http.requests.length, 1);
  const req = http.requests[0]!;
  assert.equal(req.method.toUpperCase(), 'POST');
  assert.equal(req.uri, CALL_URI);
  assert.equal(req.username, ACCOUNT);
  assert.equal(req.password, TOKEN);
  assert.equal(req.authorization, 'Basic ' + Buffer.from(`${ACCOUNT}:${TOKEN}`).toString('base64'));
  assert.equal(req.headers['Content-Type'], 'application/x-www-form-urlencoded');
  const twiml = req.form.get('Twiml');
  assert.ok(twiml?.includes(`<Response><Dial><Number>${NUMBER}</Number></Dial></Response>`), twiml ?? '');
  assert.deepEqual([...req.form.keys()], ['Twiml'], 'Twiml only: Url and Twiml are mutually exclusive');

  const info = records.find((r) => r.msg === 'call transferred');
  assert.ok(info);
  assert.equal(info.level, 'info');
  assert.equal(info.callSid, CALL);
  assert.deepEqual(info.pii, { to: '[redacted]' }, 'the number is logged only as personal data');
  assert.ok(!JSON.stringify(records).includes('5555550100'));
});

test('transfer passes callerId through to <Dial>', async () => {
  const { http, control } = setup();
  await control.transfer(CALL, NUMBER, { callerId: '+15555550199' });
  assert.ok(http.requests[0]!.form.get('Twiml')?.includes('<Dial callerId="+15555550199"><Number>'));
});

test('redirect sends the TwiML as given and logs the call SID', async () => {
  const { http, records, control } = setup();
  const twiml = sayThenHangup('Goodbye & thanks');
  await control.redirect(CALL, twiml);
  assert.equal(http.requests[0]!.uri, CALL_URI);
  assert.equal(http.requests[0]!.form.get('Twiml'), twiml);
  assert.ok(records.some((r) => r.msg === 'call redirected' && r.callSid === CALL));
});

test('redirect rejects a 404 with status and Twilio code in data, and no TwiML or number in the message', async () => {
  const { http, records, control } = setup();
  http.respondWith(
    twilioError(
      404,
      20404,
      `The requested resource /2010-04-01/Accounts/${ACCOUNT}/Calls/${CALL}.json was not found`,
    ),
  );
  const twiml = sayThenHangup(`Connecting you to ${NUMBER}`);
  const err = await rejectsWith(control.redirect(CALL, twiml), 'TWILIO_REST_FAILED');

  assert.equal(err.data.status, 404);
  assert.equal(err.data.twilioCode, 20404);
  assert.equal(err.data.callSid, CALL);
  assert.match(err.message, /404/);
  assert.match(err.message, /20404/);
  assert.ok(
    !err.message.includes(NUMBER) && !err.message.includes('<Say>') && !err.message.includes('Connecting'),
  );
  assert.ok(!JSON.stringify(err.data).includes(NUMBER));

  const failure = records.find((r) => r.msg === 'call control failed');
  assert.ok(failure);
  assert.equal(failure.level, 'error');
  assert.equal(failure.code, 'TWILIO_REST_FAILED');
  assert.equal(failure.status, 404);
  assert.equal(failure.twilioCode, 20404);
  assert.equal(failure.callSid, CALL);
  assert.ok(!records.some((r) => r.msg === 'call redirected'));
});

test("Twilio's error message (which can quote the number) stays out of the error and is logged only as pii", async () => {
  const { http, records, control } = setup();
  http.respondWith(twilioError(400, 21211, `Invalid 'To' Phone Number: ${NUMBER}`));
  const err = await rejectsWith(control.transfer(CALL, NUMBER), 'TWILIO_REST_FAILED');
  assert.equal(err.data.status, 400);
  assert.equal(err.data.twilioCode, 21211);
  assert.equal(err.data.moreInfo, 'https://www.twilio.com/docs/errors/21211');
  assert.ok(!err.message.includes('5555550100'));
  assert.ok(!JSON.stringify(records).includes('5555550100'));
  assert.deepEqual(records.find((r) => r.msg === 'call control failed')?.pii, {
    twilioMessage: '[redacted]',
  });
});

test('a 500 without a JSON body and a transport failure both reject as TWILIO_REST_FAILED', async () => {
  const { http, control } = setup();
  http.respondWith({ statusCode: 500, body: '<html>Internal Server Error</html>' });
  const e500 = await rejectsWith(control.hangup(CALL), 'TWILIO_REST_FAILED');
  assert.equal(e500.data.status, 500);
  assert.equal(e500.data.twilioCode, null);

  // Transport errors carry the whole request (auth header, TwiML): none of it may surface.
  const reset = Object.assign(new Error(`socket hang up sending Twiml=${NUMBER}`), { code: 'ECONNRESET' });
  http.respondWith({ error: reset });
  const eNet = await rejectsWith(control.transfer(CALL, NUMBER), 'TWILIO_REST_FAILED');
  assert.equal(eNet.data.status, null);
  assert.equal(eNet.data.reason, 'ECONNRESET');
  assert.equal(eNet.cause, undefined);
  assert.ok(!eNet.message.includes(NUMBER));
  assert.equal(http.requests.length, 2);
});

test('hangup posts Status=completed and nothing else', async () => {
  const { http, records, control } = setup();
  await control.hangup(CALL);
  const req = http.requests[0]!;
  assert.equal(req.method.toUpperCase(), 'POST');
  assert.equal(req.uri, CALL_URI);
  assert.deepEqual(Object.fromEntries(req.form), { Status: 'completed' });
  assert.ok(records.some((r) => r.msg === 'call hung up' && r.callSid === CALL));
});

test('one client per CallControl serves every request', async () => {
  const { http, control } = setup();
  await control.hangup(CALL);
  await control.redirect(CALL, sayThenHangup('bye'));
  await control.transfer(CALL, NUMBER);
  assert.equal(http.requests.length, 3);
});

test('a bad call SID, number, caller ID or over-long TwiML is rejected before any request', async () => {
  const { http, records, control } = setup();
  const twiml = sayThenHangup('hi');
  for (const sid of [
    '',
    'CA123',
    'CA' + CALL.slice(2).toUpperCase(),
    CALL + '0',
    'AC' + CALL.slice(2),
    ` ${CALL}`,
  ]) {
    await rejectsWith(control.redirect(sid, twiml), 'CALL_CONTROL_INVALID');
    await rejectsWith(control.hangup(sid), 'CALL_CONTROL_INVALID');
    await rejectsWith(control.transfer(sid, NUMBER), 'CALL_CONTROL_INVALID');
  }
  for (const to of ['5555550100', '+05555550100', '+1 555 555 0100', '+1555', '+1555555010012345', '']) {
    const err = await rejectsWith(control.transfer(CALL, to), 'CALL_CONTROL_INVALID');
    if (to.length > 4) assert.ok(!err.message.includes(to) && !JSON.stringify(err.data).includes(to));
  }
  await rejectsWith(control.transfer(CALL, NUMBER, { callerId: 'Reception' }), 'CALL_CONTROL_INVALID');

  const pad = (n: number) => {
    const base = sayThenHangup('');
    return base.replace('<Say></Say>', `<Say>${'x'.repeat(n - base.length)}</Say>`);
  };
  assert.equal(pad(MAX_INLINE_TWIML_CHARS + 1).length, MAX_INLINE_TWIML_CHARS + 1);
  const long = await rejectsWith(
    control.redirect(CALL, pad(MAX_INLINE_TWIML_CHARS + 1)),
    'CALL_CONTROL_INVALID',
  );
  assert.equal(long.data.length, MAX_INLINE_TWIML_CHARS + 1);

  assert.equal(http.requests.length, 0);
  const failures = records.filter((r) => r.msg === 'call control failed');
  assert.equal(failures.length, 6 * 3 + 6 + 1 + 1);
  assert.ok(failures.every((r) => r.code === 'CALL_CONTROL_INVALID' && r.status === null));

  // Exactly at the limit is accepted.
  await control.redirect(CALL, pad(MAX_INLINE_TWIML_CHARS));
  assert.equal(http.requests.length, 1);
});

test('CallControl refuses credentials that could never authenticate', () => {
  const { logger } = memoryLogger();
  for (const accountSid of ['', 'SK' + ACCOUNT.slice(2), ACCOUNT.toUpperCase(), ACCOUNT.slice(0, -1)]) {
    assert.throws(
      () => new CallControl({ accountSid, authToken: TOKEN, logger }),
      (err: unknown) => isSwitchboardError(err, 'CONFIG_INVALID'),
    );
  }
  assert.throws(
    () => new CallControl({ accountSid: ACCOUNT, authToken: '', logger }),
    (err: unknown) => isSwitchboardError(err, 'CONFIG_INVALID'),
  );
});

test('TWILIO_ACCOUNT_SID: read and trimmed when set, null when unset or blank', () => {
  assert.equal(configFromEnv({}).twilioAccountSid, null);
  assert.equal(configFromEnv({ TWILIO_ACCOUNT_SID: '  ' }).twilioAccountSid, null);
  assert.equal(configFromEnv({ TWILIO_ACCOUNT_SID: ACCOUNT }).twilioAccountSid, ACCOUNT);
  assert.equal(configFromEnv({ TWILIO_ACCOUNT_SID: ` ${ACCOUNT}\n` }).twilioAccountSid, ACCOUNT);
});

test('TWILIO_ACCOUNT_SID: an API key SID, upper-case hex or a wrong length is CONFIG_INVALID naming the variable', () => {
  for (const value of [
    'SK' + ACCOUNT.slice(2),
    'AC' + ACCOUNT.slice(2).toUpperCase(),
    ACCOUNT + '0',
    'AC123',
    CALL,
  ]) {
    assert.throws(
      () => configFromEnv({ TWILIO_ACCOUNT_SID: value }),
      (err: unknown) =>
        isSwitchboardError(err, 'CONFIG_INVALID') && err.message.includes('TWILIO_ACCOUNT_SID'),
    );
  }
});
