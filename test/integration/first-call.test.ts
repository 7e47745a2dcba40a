import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { activeSpeechMs } from '../../src/audio/index.ts';
import { placeCall, type TimelineEvent } from '../../src/simulator/caller.ts';
import { splitSentences } from '../../src/speech/tts/sentences.ts';
import { RawStream, demoPrompt, startServer, type TestServer } from '../support/harness.ts';

type AgentTurn = Extract<TimelineEvent, { kind: 'agent' }>;
const agentTurns = (timeline: TimelineEvent[]): AgentTurn[] =>
  timeline.filter((e): e is AgentTurn => e.kind === 'agent');

/** The turn lasted as long as the synthesized prompt, within 20%. */
async function assertSpoke(server: TestServer, turn: AgentTurn | undefined, text: string): Promise<void> {
  assert.ok(turn, `expected the agent to say "${text}"`);
  // The agent speaks a prompt sentence by sentence; what it synthesized for them is what the caller should hear.
  const sentences = await Promise.all(splitSentences(text).map((s) => server.prompts.get({ text: s })));
  const promptMs = sentences.reduce((sum, p) => sum + p.durationMs, 0);
  const ratio = turn.durationMs / promptMs;
  assert.ok(ratio > 0.8 && ratio < 1.2, `heard ${turn.durationMs} ms of a ${promptMs} ms prompt`);
  assert.equal(turn.interrupted, false);
}

describe('a call to the demo flow, through the simulated caller', { concurrency: true }, () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server.close();
  });

  test('the greeting arrives as speech followed by its mark', async () => {
    const result = await placeCall({ url: server.url, flow: 'demo', idleHangupMs: 500 });
    const turns = agentTurns(result.timeline);
    await assertSpoke(server, turns[0], demoPrompt('menu'));
    assert.equal(turns[0]?.mark, result.marks[0]);
    assert.ok(activeSpeechMs(result.heard) > 2000, 'the greeting is speech, not silence');
    assert.equal(result.endedBy, 'caller');
    assert.ok(result.firstMediaMs !== null && result.firstMediaMs < 5000);
  });

  test('pressing 1 gives the opening hours, then goodbye, then the agent hangs up', async () => {
    const result = await placeCall({ url: server.url, inputs: [{ kind: 'dtmf', keys: '1' }] });
    const turns = agentTurns(result.timeline);
    assert.equal(turns.length, 3);
    await assertSpoke(server, turns[1], demoPrompt('hours'));
    await assertSpoke(server, turns[2], demoPrompt('goodbye'));
    assert.equal(result.endedBy, 'agent');
    assert.equal(result.closeCode, 1000, 'hangup closes the stream normally');
    assert.equal(result.actionTwiml?.hangup, true, 'the <Connect action> answers <Hangup/>');
  });

  test('the callback path reads the digits back and confirms', async () => {
    const result = await placeCall({
      url: server.url,
      inputs: [
        { kind: 'dtmf', keys: '2' },
        { kind: 'dtmf', keys: '5551234#' },
        { kind: 'dtmf', keys: '1' },
      ],
    });
    const turns = agentTurns(result.timeline);
    assert.equal(turns.length, 4);
    await assertSpoke(server, turns[1], demoPrompt('callback'));
    await assertSpoke(server, turns[2], demoPrompt('confirm', { callback: '5551234' }));
    await assertSpoke(server, turns[3], demoPrompt('thanks'));
    // Each stretch carries the audio the caller heard, 8 bytes of mu-law a millisecond.
    for (const turn of turns) assert.equal(turn.audio.length, turn.durationMs * 8);
    // Every input was answered, each timed from its last key to the agent's next audio.
    assert.equal(result.replyMs.length, 3);
    assert.ok(
      result.replyMs.every((ms) => ms >= 0 && ms < 5000),
      `reply times ${result.replyMs.join(', ')}`,
    );
    assert.equal(result.endedBy, 'agent');
    const ended = server.records.find((r) => r.msg === 'call ended' && r.callId === result.callSid);
    assert.equal(ended?.state, 'thanks');
  });

  test('a key pressed during the greeting clears its audio (barge-in) and the flow moves on', async () => {
    const stream = new RawStream(server.wsUrl, 'CA' + 'b'.repeat(32));
    const params = await server.streamParams(stream.callSid, 'demo');
    await stream.opened;
    stream.send(stream.enc.connected());
    stream.send(stream.enc.start(params));
    await stream.waitFor((m) => m.includes('"event":"media"'));
    stream.send(stream.enc.dtmf('2'));
    await stream.waitFor((m) => m.includes('"event":"clear"'));
    // The greeting's mark was dropped with its audio; the first mark sent is the callback prompt's.
    const mark = await stream.waitFor((m) => m.includes('"event":"mark"'));
    assert.match((JSON.parse(mark) as { mark: { name: string } }).mark.name, /^callback\.\d+$/);
    const log = server.records.find((r) => r.msg === 'call started' && r.callId === 'CA' + 'b'.repeat(32));
    assert.ok(log);
    stream.send(stream.enc.stop());
    await stream.closed;
  });
});
