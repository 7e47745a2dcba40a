// Capture worklet: the microphone at 8 kHz (the AudioContext runs at 8 kHz, so no resampling here) cut into
// 160-sample (20 ms) frames, mu-law encoded as Twilio sends them, posted with the frame's peak level.

/** G.711 mu-law encoding of one sample in [-1, 1]. */
function mulaw(sample) {
  let v = Math.round(Math.max(-1, Math.min(1, sample)) * 32767);
  const sign = v < 0 ? 0x80 : 0;
  if (v < 0) v = -v;
  v = Math.min(v, 32635) + 0x84;
  let exponent = 7;
  for (let mask = 0x4000; (v & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  return ~(sign | (exponent << 4) | ((v >> (exponent + 3)) & 0x0f)) & 0xff;
}

// FRAME_SAMPLES of src/audio/frames.ts: a worklet runs in the browser and cannot import the server's modules.
const FRAME_SAMPLES = 160;

class CaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.frame = new Uint8Array(FRAME_SAMPLES);
    this.filled = 0;
    this.peak = 0;
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    // No input yet (or the track ended): nothing to send, keep the node alive.
    if (!channel) return true;
    for (let i = 0; i < channel.length; i++) {
      const s = channel[i];
      this.peak = Math.max(this.peak, Math.abs(s));
      this.frame[this.filled++] = mulaw(s);
      if (this.filled === FRAME_SAMPLES) {
        this.port.postMessage({ frame: this.frame, peak: this.peak }, [this.frame.buffer]);
        this.frame = new Uint8Array(FRAME_SAMPLES);
        this.filled = 0;
        this.peak = 0;
      }
    }
    return true;
  }
}

registerProcessor('softphone-capture', CaptureProcessor);
