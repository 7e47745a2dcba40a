/**
 * Warm transfer in the flow language: the object form of `transfer` with `"mode": "warm"`, its whisper worked
 * out from the call's slots when the transfer starts, the default timeout, the checks of each key, how the
 * effect is carried out through its ports, and what a failure (the person did not take the call) leads to.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createActor } from 'xstate';
import { runEffect, type WarmTransferRequest } from '../../../src/flow/actions/index.ts';
import { describeEffect } from '../../../src/flow/describe.ts';
import { flowGraph } from '../../../src/flow/graph.ts';
import {
  compileFlow,
  validateFlow,
  type CallEvent,
  type Effect,
  type FlowFile,
} from '../../../src/flow/index.ts';
import { fakePorts } from './fake-ports.ts';

const DESK = '+15550008000';

function deskFlow(transfer: unknown): FlowFile {
  return {
    id: 'desk',
    version: 1,
    start: 'welcome',
    states: {
      welcome: {
        say: 'Enter your account number.',
        collect: { slot: 'account', digits: { min: 4, max: 4 } },
        next: 'connect',
      },
      connect: { say: 'Connecting you.', transfer, onError: 'sorry' },
      sorry: { say: 'Nobody could take your call. Goodbye.', hangup: true },
    },
  } as FlowFile;
}

const WARM = { to: DESK, mode: 'warm', whisper: 'Account {{account}} is calling.', timeout: 20 };

function errorsOf(flow: unknown): string[] {
  return validateFlow(flow)
    .findings.filter((f) => f.severity === 'error')
    .map(({ pointer, message }) => `${pointer}: ${message}`);
}

/** The call up to the transfer: the account keyed in, the prompt heard. */
function untilTransfer(transfer: unknown) {
  const result = validateFlow(deskFlow(transfer));
  assert.ok(result.ok, JSON.stringify(result.ok ? [] : result.findings));
  const actor = createActor(compileFlow(result.flow).machine);
  const effects: Effect[] = [];
  actor.on('*', (e) => effects.push(e));
  actor.start();
  let at = 1000;
  const send = (event: Record<string, unknown> & { type: CallEvent['type'] }): void => {
    actor.send({ ...event, at: (at += 100) } as CallEvent);
  };
  send({ type: 'call.start', callId: 'CA1', env: {} });
  for (const digit of '4217') send({ type: 'dtmf', digit });
  const prompt = effects.findLast((e) => e.type === 'say');
  assert.ok(prompt?.type === 'say' && prompt.text === 'Connecting you.');
  send({ type: 'played', mark: prompt.mark });
  return { actor, send, effects };
}

test("a warm transfer's effect carries the whisper worked out from the slots, the timeout and no hold URL", () => {
  const { effects } = untilTransfer(WARM);
  const transfer = effects.find((e) => e.type === 'transfer');
  assert.deepEqual(transfer, {
    type: 'transfer',
    id: 'connect.6',
    to: DESK,
    warm: { whisper: 'Account 4217 is calling.', timeoutSeconds: 20, hold: null },
  });
  assert.deepEqual(describeEffect(transfer), {
    kind: 'event',
    title: 'warm transfer asked for',
    detail: null,
  });
});

test('defaults: 30 seconds of ringing; a cold transfer written as an object is the same as a number', () => {
  const { whisper, to, mode } = WARM;
  const warm = untilTransfer({ to, mode, whisper, hold: 'https://example.com/hold.mp3' }).effects;
  const effect = warm.find((e) => e.type === 'transfer');
  assert.ok(effect?.type === 'transfer');
  assert.deepEqual(effect.warm, {
    whisper: 'Account 4217 is calling.',
    timeoutSeconds: 30,
    hold: 'https://example.com/hold.mp3',
  });
  const cold = untilTransfer({ to: DESK }).effects.find((e) => e.type === 'transfer');
  assert.deepEqual(cold, { type: 'transfer', id: 'connect.6', to: DESK });
  assert.deepEqual(
    untilTransfer(DESK).effects.find((e) => e.type === 'transfer'),
    cold,
  );
});

test('a transfer the person did not take goes to onError', () => {
  const { actor, send } = untilTransfer(WARM);
  send({
    type: 'transfer.failed',
    id: 'connect.6',
    reason: 'The person called did not take the transfer: no answer',
  });
  assert.equal(actor.getSnapshot().context.state, 'sorry');
});

test('run.transfer hands the warm settings and the id to the ports once the prompt has been heard', async () => {
  const asked: [string, WarmTransferRequest | undefined][] = [];
  const { ports, delivered, heard } = fakePorts({
    transfer: (to, warm) => {
      asked.push([to, warm]);
      return Promise.reject(new Error('The person called did not take the transfer: declined'));
    },
  });
  const warm = { whisper: 'Account 4217 is calling.', timeoutSeconds: 20, hold: null };
  runEffect({ type: 'transfer', id: 'connect.6', to: DESK, warm }, ports);
  assert.deepEqual(asked, [], 'not before the prompt is heard');
  await heard();
  assert.deepEqual(asked, [[DESK, { id: 'connect.6', ...warm }]]);
  assert.deepEqual(delivered, [
    {
      type: 'transfer.failed',
      at: 5000,
      id: 'connect.6',
      reason: 'The person called did not take the transfer: declined',
    },
  ]);
});

test('the checks: to, mode, whisper, timeout and hold, each at its pointer', () => {
  const at = '/states/connect/transfer';
  assert.deepEqual(errorsOf(deskFlow(WARM)), []);
  assert.deepEqual(errorsOf(deskFlow({ ...WARM, whisper: undefined })), [
    `${at}/whisper: a warm transfer needs a "whisper": what the person hears before taking the call`,
  ]);
  assert.deepEqual(errorsOf(deskFlow({ to: DESK, whisper: 'Hi.' })), [
    `${at}/whisper: "whisper" is for a warm transfer`,
  ]);
  assert.deepEqual(errorsOf(deskFlow({ ...WARM, mode: 'lukewarm' })), [
    `${at}/mode: mode must be "cold" or "warm"`,
  ]);
  assert.deepEqual(errorsOf(deskFlow({ ...WARM, timeout: 2 })), [
    `${at}/timeout: timeout must be whole seconds from 5 to 120`,
  ]);
  assert.deepEqual(errorsOf(deskFlow({ ...WARM, hold: 'music.mp3' })), [
    `${at}/hold: hold must be an http or https URL of audio or TwiML`,
  ]);
  assert.deepEqual(errorsOf(deskFlow({ ...WARM, to: '555 0100' })), [
    `${at}/to: transfer must be an E.164 number: "+", the country code and the number, no spaces`,
  ]);
  assert.deepEqual(errorsOf(deskFlow({ ...WARM, ring: 3 })), [
    `${at}/ring: unknown key "ring" in a transfer`,
  ]);
  assert.deepEqual(errorsOf(deskFlow({ ...WARM, whisper: 'Calling about {{order}}.' })).length, 1);
  assert.match(errorsOf(deskFlow({ ...WARM, whisper: 'Calling about {{order}}.' }))[0]!, /slot "order"/);
  assert.deepEqual(errorsOf(deskFlow({ ...WARM, whisper: 'x'.repeat(1001) })), [
    `${at}/whisper: the whisper is over 1000 characters`,
  ]);
});

test('the diagram names a warm transfer as such', () => {
  const result = validateFlow(deskFlow(WARM));
  assert.ok(result.ok);
  assert.match(flowGraph(result.flow, 'mermaid'), /warm transfer/);
});
