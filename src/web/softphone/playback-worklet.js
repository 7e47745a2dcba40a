// Playback worklet: plays the agent's 8 kHz audio (already decoded to floats) in arrival order. Marks are queued
// among the audio and reported when everything before them has been played, which is when Twilio echoes them;
// `clear` drops the queued audio and reports every pending mark at once, as Twilio does. Each time audio starts
// again after silence it says so (`started`), for the page's latency timeline.

class PlaybackProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    /** Float32Array chunks and { mark } entries, in order. */
    this.queue = [];
    this.offset = 0;
    this.played = 0;
    this.sinceReport = 0;
    /** Whether the last quantum played any audio. */
    this.playing = false;
    this.port.onmessage = (e) => {
      if (e.data.clear) {
        const marks = this.queue.filter((item) => !(item instanceof Float32Array)).map((m) => m.mark);
        this.queue = [];
        this.offset = 0;
        this.port.postMessage({ type: 'cleared', marks });
      } else this.queue.push(e.data);
    };
  }

  process(_inputs, outputs) {
    const out = outputs[0][0];
    let i = 0;
    while (i < out.length && this.queue.length > 0) {
      const head = this.queue[0];
      if (!(head instanceof Float32Array)) {
        this.queue.shift();
        this.port.postMessage({ type: 'mark', name: head.mark, played: this.played });
        continue;
      }
      const n = Math.min(out.length - i, head.length - this.offset);
      out.set(head.subarray(this.offset, this.offset + n), i);
      i += n;
      this.offset += n;
      this.played += n;
      this.sinceReport += n;
      if (this.offset === head.length) {
        this.queue.shift();
        this.offset = 0;
      }
    }
    // Marks right after the last audio are due now, not at the next quantum.
    while (this.queue.length > 0 && !(this.queue[0] instanceof Float32Array)) {
      this.port.postMessage({ type: 'mark', name: this.queue.shift().mark, played: this.played });
    }
    out.fill(0, i);
    if (i > 0 && !this.playing) this.port.postMessage({ type: 'started', played: this.played });
    this.playing = i > 0;
    // About ten reports a second, for the page's counters.
    if (this.sinceReport >= 800) {
      this.sinceReport = 0;
      this.port.postMessage({ type: 'played', played: this.played });
    }
    return true;
  }
}

registerProcessor('softphone-playback', PlaybackProcessor);
