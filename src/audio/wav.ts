/**
 * WAV (RIFF WAVE) reading and writing. The reader walks the chunk list rather than assuming a 44-byte
 * header, and always hands back mono PCM16, since that is what the rest of the pipeline works in.
 */
import { SwitchboardError } from '../errors.ts';
import { SAMPLE_RATE } from './frames.ts';
import { decodeMulawSample } from './mulaw.ts';

/** Decoded audio: mono PCM16; multichannel input is downmixed by averaging the channels. */
export interface WavAudio {
  sampleRate: number;
  channels: number;
  samples: Int16Array;
}

const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_MULAW = 7;
const FORMAT_EXTENSIBLE = 0xfffe;
/** The fixed tail of the KSDATAFORMAT_SUBTYPE_* GUIDs; the first two bytes carry the format tag. */
const SUBTYPE_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

interface Format {
  tag: number;
  channels: number;
  sampleRate: number;
  bits: number;
}

/** Parse a WAV file into mono PCM16; throws SwitchboardError AUDIO_BAD_WAV saying what is wrong. */
export function readWav(bytes: Uint8Array): WavAudio {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 12) bad(`file is ${bytes.length} bytes, shorter than a RIFF header`);
  const magic = fourcc(bytes, 0);
  if (magic !== 'RIFF' && magic !== 'RF64') bad(`starts with "${printable(magic)}", not RIFF`);
  if (fourcc(bytes, 8) !== 'WAVE') bad(`RIFF form is "${printable(fourcc(bytes, 8))}", not WAVE`);

  let format: Format | undefined;
  let dataStart = -1;
  let dataLength = 0;
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const id = fourcc(bytes, offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'data') {
      dataStart = body;
      // Streaming writers leave the size as 0xFFFFFFFF (or too large): the data then runs to the end.
      if (size === 0xffffffff || body + size > bytes.length) {
        dataLength = bytes.length - body;
        break;
      }
      dataLength = size;
    } else if (body + size > bytes.length) {
      // A chunk cut short after the audio (trailing metadata) loses nothing we need.
      if (format && dataStart >= 0) break;
      bad(
        `"${printable(id)}" chunk at byte ${offset} claims ${size} bytes, only ${bytes.length - body} remain`,
      );
    } else if (id === 'fmt ') {
      format = parseFormat(view, body, size);
    }
    // Chunks are word-aligned: an odd-sized chunk is followed by a pad byte.
    offset = body + size + (size & 1);
  }
  if (!format) bad('no fmt chunk');
  if (dataStart < 0) bad('no data chunk');
  return {
    sampleRate: format.sampleRate,
    channels: format.channels,
    samples: decode(view, dataStart, dataLength, format),
  };
}

function parseFormat(view: DataView, at: number, size: number): Format {
  if (size < 16) bad(`fmt chunk is ${size} bytes, needs at least 16`);
  let tag = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const sampleRate = view.getUint32(at + 4, true);
  const bits = view.getUint16(at + 14, true);
  if (tag === FORMAT_EXTENSIBLE) {
    if (size < 40) bad(`WAVE_FORMAT_EXTENSIBLE fmt chunk is ${size} bytes, needs 40`);
    tag = view.getUint16(at + 24, true);
    for (let i = 0; i < SUBTYPE_TAIL.length; i++) {
      if (view.getUint8(at + 26 + i) !== SUBTYPE_TAIL[i])
        bad('WAVE_FORMAT_EXTENSIBLE sub-format is not a known GUID');
    }
  }
  if (channels < 1) bad('fmt chunk says 0 channels');
  if (sampleRate < 1) bad('fmt chunk says sample rate 0');
  const supported =
    (tag === FORMAT_PCM && (bits === 8 || bits === 16 || bits === 24 || bits === 32)) ||
    (tag === FORMAT_FLOAT && (bits === 32 || bits === 64)) ||
    (tag === FORMAT_MULAW && bits === 8);
  if (!supported) bad(`format ${formatName(tag)} with ${bits} bits per sample is not supported`);
  return { tag, channels, sampleRate, bits };
}

/** Convert interleaved frames to mono PCM16; a trailing partial frame is ignored. */
function decode(view: DataView, start: number, length: number, format: Format): Int16Array {
  const { tag, channels, bits } = format;
  const width = bits >> 3;
  const frames = Math.floor(length / (width * channels));
  const count = frames * channels;
  const out = new Int16Array(frames);
  const all = channels === 1 ? out : new Int16Array(count);
  // One tight loop per encoding, chosen once per file.
  if (tag === FORMAT_MULAW) {
    for (let i = 0; i < count; i++) all[i] = decodeMulawSample(view.getUint8(start + i));
  } else if (tag === FORMAT_FLOAT && bits === 32) {
    for (let i = 0; i < count; i++) all[i] = floatToInt16(view.getFloat32(start + 4 * i, true));
  } else if (tag === FORMAT_FLOAT) {
    for (let i = 0; i < count; i++) all[i] = floatToInt16(view.getFloat64(start + 8 * i, true));
  } else if (bits === 8) {
    for (let i = 0; i < count; i++) all[i] = (view.getUint8(start + i) - 128) << 8;
  } else {
    // 16-bit as is; 24- and 32-bit keep their top 16 bits (the last two bytes of each little-endian sample).
    const top = start + width - 2;
    for (let i = 0; i < count; i++) all[i] = view.getInt16(top + width * i, true);
  }
  if (channels > 1) {
    for (let f = 0, i = 0; f < frames; f++) {
      let sum = 0;
      for (let c = 0; c < channels; c++, i++) sum += all[i]!;
      out[f] = Math.round(sum / channels);
    }
  }
  return out;
}

/** Float samples are nominally in [-1, 1): scale by 32768, the inverse of the usual int16 / 32768, and clip. */
function floatToInt16(x: number): number {
  if (!(x === x)) return 0; // NaN
  const y = Math.round(x * 32768);
  return y > 32767 ? 32767 : y < -32768 ? -32768 : y;
}

/** A 16-bit PCM mono WAV file. */
export function writeWavPcm16(samples: Int16Array, sampleRate: number): Uint8Array {
  checkRate(sampleRate);
  const dataBytes = samples.length * 2;
  const out = new Uint8Array(44 + dataBytes);
  const view = new DataView(out.buffer);
  writeHeader(out, view, 36 + dataBytes);
  writeFmt(out, view, 12, { tag: FORMAT_PCM, channels: 1, sampleRate, bits: 16 }, 16);
  writeFourcc(out, 36, 'data');
  view.setUint32(40, dataBytes, true);
  if (LITTLE_ENDIAN_HOST) {
    out.set(new Uint8Array(samples.buffer, samples.byteOffset, dataBytes), 44);
  } else {
    for (let i = 0; i < samples.length; i++) view.setInt16(44 + 2 * i, samples[i]!, true);
  }
  return out;
}

/** A mu-law (format 7) mono WAV file, with the fact chunk the spec requires of non-PCM formats. */
export function writeWavMulaw(mulaw: Uint8Array, sampleRate = SAMPLE_RATE): Uint8Array {
  checkRate(sampleRate);
  const pad = mulaw.length & 1;
  // RIFF header 12, fmt 8 + 18 (with cbSize), fact 8 + 4, data 8 + n + pad.
  const total = 12 + 26 + 12 + 8 + mulaw.length + pad;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  writeHeader(out, view, total - 8);
  writeFmt(out, view, 12, { tag: FORMAT_MULAW, channels: 1, sampleRate, bits: 8 }, 18);
  writeFourcc(out, 38, 'fact');
  view.setUint32(42, 4, true);
  view.setUint32(46, mulaw.length, true);
  writeFourcc(out, 50, 'data');
  view.setUint32(54, mulaw.length, true);
  out.set(mulaw, 58);
  return out;
}

function writeHeader(out: Uint8Array, view: DataView, riffSize: number): void {
  writeFourcc(out, 0, 'RIFF');
  view.setUint32(4, riffSize, true);
  writeFourcc(out, 8, 'WAVE');
}

/** fmt chunk at `at`; a size of 18 adds cbSize = 0, as non-PCM formats need. */
function writeFmt(out: Uint8Array, view: DataView, at: number, f: Format, size: 16 | 18): void {
  const blockAlign = f.channels * (f.bits >> 3);
  writeFourcc(out, at, 'fmt ');
  view.setUint32(at + 4, size, true);
  view.setUint16(at + 8, f.tag, true);
  view.setUint16(at + 10, f.channels, true);
  view.setUint32(at + 12, f.sampleRate, true);
  view.setUint32(at + 16, f.sampleRate * blockAlign, true);
  view.setUint16(at + 20, blockAlign, true);
  view.setUint16(at + 22, f.bits, true);
  if (size === 18) view.setUint16(at + 24, 0, true);
}

function checkRate(sampleRate: number): void {
  if (!Number.isInteger(sampleRate) || sampleRate < 1 || sampleRate > 0xffffffff)
    throw new RangeError(`sample rate ${sampleRate} is not a positive integer`);
}

function fourcc(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
}

function writeFourcc(out: Uint8Array, at: number, id: string): void {
  for (let i = 0; i < 4; i++) out[at + i] = id.charCodeAt(i);
}

/** Chunk ids from a garbage file may hold anything; keep error messages readable. */
function printable(id: string): string {
  return id.replace(/[^\x20-\x7e]/g, '?');
}

function formatName(tag: number): string {
  const names: Record<number, string> = {
    1: 'PCM',
    2: 'MS ADPCM',
    3: 'IEEE float',
    6: 'A-law',
    7: 'mu-law',
    0x11: 'IMA ADPCM',
    0x55: 'MP3',
  };
  return `${tag} (${names[tag] ?? 'unknown'})`;
}

function bad(detail: string): never {
  throw new SwitchboardError('AUDIO_BAD_WAV', detail);
}
