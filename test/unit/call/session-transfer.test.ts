/**
 * A transfer that fails leaves the caller in the flow (`transfer.failed` goes to the state's `onError`): the call
 * must still hear them and keep its intent model. The machine here asks for its hand-over prompt and the transfer
 * in one step (effects.ts carries the transfer out once the prompt is heard), so the transfer waits for the audio
 * to go idle. Time is a manual clock: the pacer and the session run on it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PacerClock } from '../../../src/audio/pacer.ts';
import type { VadOpener } from '../../../src/speech/vad/opener.ts';
import { MediaSession } from '../../../src/call/session.ts';
import { assign, emit, setup } from 'xstate';
import { compileFlow, validateFlow, type CompiledFlow, type Effect } from '../../../src/flow/index.ts';
import type { SharedIntentModel } from '../../../src/nlu/shared-model.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';
import { createServerMetrics } from '../../../src/observability/metrics.ts';
import { PromptCache } from '../../../src/speech/tts/prompt-cache.ts';
import type { CallControl } from '../../../src/telephony/call-control.ts';
import { InboundEncoder } from '../../../src/telephony/media-streams.ts';
import { ManualClock } from '../../fakes/manual-clock.ts';
import { RecordingSocket } from '../../fakes/recording-socket.ts';
import { ScriptedStt } from '../../fakes/scripted-stt.ts';
import { ToneTts } from '../../fakes/tone-tts.ts';
import { streamParams, testJournals } from '../../fixtures/journals.ts';

function flow(): CompiledFlow {
  const result = validateFlow({
    id: 'desk',
    version: 1,
    intents: { order: { examples: ['i want to order'] } },
    start: 'agent',
    states: {
      agent: { say: 'yy', transfer: '+15555550101', onError: 'sorry' },
      sorry: { say: 'zz', on: { order: 'bye' } },
      bye: { say: 'bye', hangup: true },
    },
    policy: { noInputMs: 20_000 },
  });
  assert.ok(result.ok, JSON.stringify(!result.ok && result.findings));
  const compiled = compileFlow(result.flow);
  // The flow's states (what the session listens for in each), with a machine that says and transfers at once.
  const machine = setup({ types: { emitted: {} as Effect } }).createMachine({
    context: { state: 'agent', slots: {}, confirming: false, digits: '', speech: {} },
    on: {
      'call.start': {
        actions: [
          emit({ type: 'say', text: 'yy', mark: 'agent.1' }),
          emit({ type: 'transfer', id: 'agent.2', to: '+15555550101' }),
        ],
      },
      'transfer.failed': {
        actions: [assign({ state: 'sorry' }), emit({ type: 'say', text: 'zz', mark: 'sorry.3' })],
      },
      utterance: { actions: assign({ state: 'bye' }) },
    },
  });
  return { ...compiled, machine: machine as unknown as CompiledFlow['machine'] };
}

/** A VAD that hears speech in any loud frame. */
const loudVad: VadOpener = (onProbability) => {
  let atMs = 0;
  return {
    pushPcm(frame) {
      let peak = 0;
      for (const x of frame) peak = Math.max(peak, Math.abs(x));
      onProbability(peak > 1000 ? 1 : 0, atMs, 20);
      atMs += 20;
    },
    close() {},
  };
};

test('a transfer that fails leaves the call hearing the caller, with its intent model held', async () => {
  const clock = new ManualClock();
  const journals = await testJournals();
  const { logger, records } = memoryLogger('debug');
  const stt = new ScriptedStt(['i want to order']);
  let held = 0;
  const model = {
    version: 'v1',
    model: null,
    retain: () => {
      held += 1;
      return () => (held -= 1);
    },
  } as unknown as SharedIntentModel;
  const control = {
    transfer: async () => {
      throw new Error('the number is not reachable');
    },
  } as unknown as CallControl;
  const socket = new RecordingSocket();
  const s = new MediaSession(socket, {
    flows: new Map([['desk', flow()]]),
    models: new Map([['desk', model]]),
    journals,
    defaultFlow: 'desk',
    prompts: new PromptCache(new ToneTts()),
    pacerClock: new PacerClock({ clock }),
    clock,
    callControl: control,
    metrics: createServerMetrics(),
    logger,
    hearing: { stt, openVad: loudVad },
  });
  const enc = new InboundEncoder({ streamSid: 'MZ1', callSid: 'CA1', accountSid: 'AC1' });
  /** Moves the manual clock 20 ms at a time until `pred` holds (journal writes and synthesis need real turns). */
  const until = async (what: string, pred: () => boolean) => {
    for (let i = 0; !pred(); i++) {
      if (i > 2000) throw new Error(`timed out waiting until ${what}`);
      await clock.tick(20);
      await new Promise((r) => setTimeout(r, 0));
    }
  };
  let timestamp = 0;
  const frames = (byte: number, count: number): void => {
    for (let i = 0; i < count; i++, timestamp += 20)
      s.handleMessage(enc.media(Buffer.from(new Uint8Array(160).fill(byte)).toString('base64'), timestamp));
  };
  s.handleMessage(enc.connected());
  s.handleMessage(enc.start(await streamParams(journals, 'CA1', 'desk')));
  await until('the hand-over prompt is sent', () => socket.marks().length === 1);
  // Heard out: the transfer is made now, and refused.
  s.handleMessage(enc.mark(socket.marks()[0]!));
  await until('the apology is sent', () => socket.marks().length === 2);
  assert.ok(records.some((r) => r.msg === 'transfer failed'));
  assert.equal(s.flowState, 'sorry');
  s.handleMessage(enc.mark(socket.marks()[1]!));
  await s.settled();
  assert.equal(held, 1, 'the intent model is still held');
  frames(0x10, 25); // half a second of loud audio
  frames(0xff, 50); // then a second of silence ends the turn
  await until('the answer is routed', () => s.flowState === 'bye');
  assert.equal(stt.streams.length, 1, 'the caller was heard after the failed transfer');
  s.handleClose(1000);
  assert.equal(held, 0, 'the model is let go when the call ends');
});
