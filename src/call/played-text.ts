/**
 * What of the agent's words the caller has heard. The session notes each sentence as it queues its audio; when
 * the caller cuts a prompt short, the frames already sent (less the pacer's lead, still in flight) say how far
 * playback got: whole sentences, then the share of the interrupted sentence's words that fits the time it
 * played. This goes into the call's log, so what the flow assumes was said can be checked against what was heard.
 */
import { FRAME_MS } from '../audio/frames.ts';

interface Sentence {
  readonly text: string;
  /** Index, among every frame the pacer has sent or will send, of this sentence's first frame. */
  readonly start: number;
  readonly frames: number;
  /** The prompt's mark, on its last sentence. */
  readonly mark: string | null;
}

export interface HeardPrompt {
  /** The words the caller heard, the cut sentence ending in "…" at the share of it that played. */
  text: string;
  /** Audio of the cut prompt that played, and all of it, in ms. */
  playedMs: number;
  promptMs: number;
}

/** At most this many sentences are remembered: a flow that queues without end cannot grow the list. */
const MAX_SENTENCES = 64;

export class PlayedText {
  #sentences: Sentence[] = [];

  /** A sentence was queued: its frames start at frame `start` of the pacer's output. */
  queued(text: string, start: number, frames: number, mark: string | null): void {
    if (this.#sentences.length >= MAX_SENTENCES) this.#sentences.shift();
    this.#sentences.push({ text, start, frames, mark });
  }

  /** The caller heard the prompt up to `mark`: it and everything before it are done with. */
  played(mark: string): void {
    const at = this.#sentences.findIndex((s) => s.mark === mark);
    if (at >= 0) this.#sentences.splice(0, at + 1);
  }

  /**
   * What the caller heard of the prompts not yet played to their mark, once `heardFrames` of the pacer's output
   * have played; null when nothing was waiting. Forgets them: the prompt is being cut.
   */
  cut(heardFrames: number): HeardPrompt | null {
    const sentences = this.#sentences;
    this.#sentences = [];
    const first = sentences[0];
    if (!first) return null;
    const words: string[] = [];
    let promptFrames = 0;
    let cutShort = false;
    for (const s of sentences) {
      promptFrames += s.frames;
      if (cutShort) continue;
      const played = Math.max(0, Math.min(s.frames, heardFrames - s.start));
      if (played === s.frames) {
        words.push(s.text);
        continue;
      }
      cutShort = true;
      if (played === 0) continue;
      const all = s.text.split(/\s+/).filter(Boolean);
      words.push(`${all.slice(0, Math.floor((all.length * played) / s.frames)).join(' ')}…`);
    }
    const playedFrames = Math.max(0, Math.min(promptFrames, heardFrames - first.start));
    return {
      text: words.join(' ').trim(),
      playedMs: playedFrames * FRAME_MS,
      promptMs: promptFrames * FRAME_MS,
    };
  }
}
