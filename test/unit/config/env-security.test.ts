/** The environment's security settings: the secondary Twilio token during a rotation, and HTTP_ALLOW_HOSTS. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configFromEnv, httpAllowHosts } from '../../../src/config/env.ts';
import { isSwitchboardError } from '../../../src/errors.ts';

const invalid = (name: string) => (err: unknown) =>
  isSwitchboardError(err, 'CONFIG_INVALID') && err.message.includes(name);

test('TWILIO_AUTH_TOKEN_SECONDARY is read beside the primary, and unset unless given', () => {
  assert.equal(configFromEnv({}).twilioAuthTokenSecondary, null);
  const both = configFromEnv({ TWILIO_AUTH_TOKEN: 'old-token', TWILIO_AUTH_TOKEN_SECONDARY: ' new-token ' });
  assert.equal(both.twilioAuthToken, 'old-token');
  assert.equal(both.twilioAuthTokenSecondary, 'new-token');
  assert.equal(configFromEnv({ TWILIO_AUTH_TOKEN: 'old-token' }).twilioAuthTokenSecondary, null);
  // Blank counts as unset, as for every variable.
  assert.equal(configFromEnv({ TWILIO_AUTH_TOKEN_SECONDARY: '  ' }).twilioAuthTokenSecondary, null);
});

test('a secondary token without the primary is refused naming both variables', () => {
  assert.throws(
    () => configFromEnv({ TWILIO_AUTH_TOKEN_SECONDARY: 'new-token' }),
    (err: unknown) => invalid('TWILIO_AUTH_TOKEN_SECONDARY')(err) && invalid('set the primary token')(err),
  );
});

test('HTTP_ALLOW_HOSTS: comma-separated hosts, addresses and CIDR ranges; none unless set', () => {
  assert.deepEqual(configFromEnv({}).httpAllowHosts, []);
  assert.deepEqual(
    configFromEnv({ HTTP_ALLOW_HOSTS: ' 127.0.0.1, orders.internal ,10.0.0.0/8,,fd00::/8,::1 ' })
      .httpAllowHosts,
    ['127.0.0.1', 'orders.internal', '10.0.0.0/8', 'fd00::/8', '::1'],
  );
  assert.deepEqual(httpAllowHosts({ HTTP_ALLOW_HOSTS: 'localhost' }), ['localhost']);
});

test('HTTP_ALLOW_HOSTS: an entry that is none of those is refused, naming the variable and the entry', () => {
  for (const bad of ['10.0.0.0/33', '::1/129', 'http://orders.internal', 'a b', '*.internal', '10.0.0.0/x']) {
    assert.throws(
      () => configFromEnv({ HTTP_ALLOW_HOSTS: `127.0.0.1,${bad}` }),
      (err: unknown) => invalid('HTTP_ALLOW_HOSTS')(err) && invalid(`"${bad}"`)(err),
      bad,
    );
  }
});
