import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readWav, writeWavMulaw, writeWavPcm16 } from '../../../src/audio/wav.ts';
import { mulawToPcm } from '../../../src/audio/mulaw.ts';
import { isSwitchboardError } from '../../../src/errors.ts';

/** Build a RIFF WAVE file from chunks, adding pad bytes after odd-sized ones. */
function riff(
  chunks: { id: string; body: Uint8Array; size?: number }[],
  magic = 'RIFF',
  form = 'WAVE',
): Uint8Array {
  const parts: number[] = [...ascii(magic), 0, 0, 0, 0, ...ascii(form)];
  for (const c of chunks) {
    parts.push(...ascii(c.id), ...u32(c.size ?? c.body.length), ...c.body);
    if (c.body.length % 2 === 1) parts.push(0);
  }
  const out = new Uint8Array(parts);
  new DataView(out.buffer).setUint32(4, out.length - 8, true);
  return out;
}

function ascii(s: string): number[] {
  return [...s].map((c) => c.charCodeAt(0));
}

function u16(v: number): number[] {
  return [v & 0xff, (v >> 8) & 0xff];
}

function u32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

function fmt(tag: number, channels: number, rate: number, bits: number): Uint8Array {
  const align = channels * (bits / 8);
  return new Uint8Array([
    ...u16(tag),
    ...u16(channels),
    ...u32(rate),
    ...u32(rate * align),
    ...u16(align),
    ...u16(bits),
  ]);
}

/** WAVE_FORMAT_EXTENSIBLE fmt chunk whose sub-format GUID carries `subTag`. */
function fmtExtensible(subTag: number, channels: number, rate: number, bits: number): Uint8Array {
  const base = [...fmt(0xfffe, channels, rate, bits)];
  const guidTail = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];
  return new Uint8Array([
    ...base,
    ...u16(22),
    ...u16(bits),
    ...u32(channels === 2 ? 3 : 4),
    ...u16(subTag),
    ...guidTail,
  ]);
}

function pcm16Bytes(samples: number[]): Uint8Array {
  return new Uint8Array(samples.flatMap((s) => u16(s & 0xffff)));
}

function float32Bytes(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return out;
}

function assertBadWav(bytes: Uint8Array, mentions: RegExp): void {
  assert.throws(
    () => readWav(bytes),
    (err: unknown) => isSwitchboardError(err, 'AUDIO_BAD_WAV') && mentions.test(err.message),
  );
}

test('PCM16 write -> read round trip', () => {
  const samples = new Int16Array([0, 1, -1, 32767, -32768, 12345, -54, 7]);
  const file = writeWavPcm16(samples, 16000);
  assert.equal(file.length, 44 + samples.length * 2);
  const view = new DataView(file.buffer);
  assert.equal(view.getUint32(4, true), file.length - 8);
  assert.equal(view.getUint16(20, true), 1);
  assert.equal(view.getUint32(28, true), 32000); // byte rate
  const wav = readWav(file);
  assert.equal(wav.sampleRate, 16000);
  assert.equal(wav.channels, 1);
  assert.deepEqual(wav.samples, samples);
});

test('PCM16 writing works from a view into a larger buffer', () => {
  const backing = new Int16Array([9, 9, 100, -200, 300, 9]);
  const wav = readWav(writeWavPcm16(backing.subarray(2, 5), 8000));
  assert.deepEqual([...wav.samples], [100, -200, 300]);
});

test('mu-law write -> read round trip, format 7 with a fact chunk and a pad byte', () => {
  const mulaw = new Uint8Array([0xff, 0x00, 0x80, 0x7f, 0x12, 0xab, 0x55]);
  const file = writeWavMulaw(mulaw);
  const view = new DataView(file.buffer);
  assert.equal(file.length % 2, 0, 'odd data is padded');
  assert.equal(view.getUint32(4, true), file.length - 8);
  assert.equal(view.getUint16(20, true), 7);
  assert.equal(String.fromCharCode(...file.subarray(38, 42)), 'fact');
  assert.equal(view.getUint32(46, true), mulaw.length);
  assert.equal(view.getUint32(54, true), mulaw.length, 'data size excludes the pad byte');
  const wav = readWav(file);
  assert.equal(wav.sampleRate, 8000);
  assert.deepEqual(wav.samples, mulawToPcm(mulaw));
  assert.equal(readWav(writeWavMulaw(mulaw, 16000)).sampleRate, 16000);
});

test('chunks between fmt and data, odd-sized with a pad byte, are skipped properly', () => {
  const list = new Uint8Array([...ascii('INFOISFT'), 0x04, 0x00, 0x00, 0x00, ...ascii('abc')]); // 15 bytes: odd
  const file = riff([
    { id: 'fmt ', body: fmt(1, 1, 8000, 16) },
    { id: 'LIST', body: list },
    { id: 'fact', body: new Uint8Array(u32(3)) },
    { id: 'data', body: pcm16Bytes([100, -100, 5]) },
    { id: 'id3 ', body: new Uint8Array(9) },
  ]);
  const wav = readWav(file);
  assert.deepEqual([...wav.samples], [100, -100, 5]);
});

test('a data size of 0xFFFFFFFF or past the end means "to the end of the file"', () => {
  const streamed = riff([
    { id: 'fmt ', body: fmt(1, 1, 8000, 16) },
    { id: 'data', body: pcm16Bytes([1, 2, 3, 4]), size: 0xffffffff },
  ]);
  assert.deepEqual([...readWav(streamed).samples], [1, 2, 3, 4]);
  const tooLong = riff([
    { id: 'fmt ', body: fmt(1, 1, 8000, 16) },
    { id: 'data', body: pcm16Bytes([5, 6, 7]), size: 1000 },
  ]);
  assert.deepEqual([...readWav(tooLong).samples], [5, 6, 7]);
});

test('IEEE float 32 reads, scaled and clipped', () => {
  const file = riff([
    { id: 'fmt ', body: fmt(3, 1, 24000, 32) },
    { id: 'data', body: float32Bytes([0, 0.25, -0.25, 1, -1, 2, -2]) },
  ]);
  const wav = readWav(file);
  assert.equal(wav.sampleRate, 24000);
  assert.deepEqual([...wav.samples], [0, 8192, -8192, 32767, -32768, 32767, -32768]);
});

test('8-bit unsigned PCM reads around the 128 midpoint', () => {
  const file = riff([
    { id: 'fmt ', body: fmt(1, 1, 8000, 8) },
    { id: 'data', body: new Uint8Array([128, 0, 255, 192, 64]) },
  ]);
  assert.deepEqual([...readWav(file).samples], [0, -32768, 32512, 16384, -16384]);
});

test('stereo is downmixed to mono by averaging', () => {
  const file = riff([
    { id: 'fmt ', body: fmt(1, 2, 44100, 16) },
    { id: 'data', body: pcm16Bytes([1000, 3000, -2000, -4000, 32767, 32767, 7, 8]) },
  ]);
  const wav = readWav(file);
  assert.equal(wav.channels, 2);
  assert.equal(wav.sampleRate, 44100);
  assert.deepEqual([...wav.samples], [2000, -3000, 32767, 8]);
});

test('WAVE_FORMAT_EXTENSIBLE wrapping PCM, float and 24-bit reads', () => {
  const pcm = riff([
    { id: 'fmt ', body: fmtExtensible(1, 2, 48000, 16) },
    { id: 'data', body: pcm16Bytes([10, 30, -10, -30]) },
  ]);
  assert.deepEqual([...readWav(pcm).samples], [20, -20]);
  const float = riff([
    { id: 'fmt ', body: fmtExtensible(3, 1, 48000, 32) },
    { id: 'data', body: float32Bytes([0.5, -0.5]) },
  ]);
  assert.deepEqual([...readWav(float).samples], [16384, -16384]);
  // 24-bit little endian: 0x123456 -> top 16 bits 0x1234; 0xFFFFFF (-1) -> -1.
  const deep = riff([
    { id: 'fmt ', body: fmtExtensible(1, 1, 48000, 24) },
    { id: 'data', body: new Uint8Array([0x56, 0x34, 0x12, 0xff, 0xff, 0xff]) },
  ]);
  assert.deepEqual([...readWav(deep).samples], [0x1234, -1]);
});

test('a mu-law file from elsewhere (no fact chunk) reads', () => {
  const file = riff([
    { id: 'fmt ', body: fmt(7, 1, 8000, 8) },
    { id: 'data', body: new Uint8Array([0x00, 0x80, 0xff]) },
  ]);
  assert.deepEqual([...readWav(file).samples], [-32124, 32124, 0]);
});

test('garbage and unsupported files throw AUDIO_BAD_WAV saying what is wrong', () => {
  const good = writeWavPcm16(new Int16Array([1, 2, 3]), 8000);
  assertBadWav(good.subarray(0, 8), /shorter than a RIFF header/);
  assertBadWav(good.subarray(0, 24), /"fmt " chunk .* claims 16 bytes/);
  assertBadWav(good.subarray(0, 36), /no data chunk/);
  assertBadWav(riff([{ id: 'fmt ', body: fmt(1, 1, 8000, 16) }], 'RIFX'), /not RIFF/);
  assertBadWav(new TextEncoder().encode('OggS\0\0\0\0\0\0\0\0\0\0\0\0'), /not RIFF/);
  assertBadWav(riff([], 'RIFF', 'AVI '), /not WAVE/);
  assertBadWav(
    riff([
      { id: 'fmt ', body: fmt(2, 1, 8000, 4) },
      { id: 'data', body: new Uint8Array(10) },
    ]),
    /MS ADPCM/,
  );
  assertBadWav(
    riff([
      { id: 'fmt ', body: fmt(1, 1, 8000, 12) },
      { id: 'data', body: new Uint8Array(10) },
    ]),
    /12 bits/,
  );
  assertBadWav(riff([{ id: 'data', body: new Uint8Array(10) }]), /no fmt chunk/);
  assertBadWav(
    riff([
      { id: 'fmt ', body: new Uint8Array(12) },
      { id: 'data', body: new Uint8Array(10) },
    ]),
    /fmt chunk is 12 bytes/,
  );
  assertBadWav(
    riff([
      { id: 'fmt ', body: fmt(1, 0, 8000, 16) },
      { id: 'data', body: new Uint8Array(10) },
    ]),
    /0 channels/,
  );
  const badGuid = fmtExtensible(1, 1, 8000, 16);
  badGuid[30] = 0x42;
  assertBadWav(
    riff([
      { id: 'fmt ', body: badGuid },
      { id: 'data', body: new Uint8Array(10) },
    ]),
    /sub-format/,
  );
});

test('a truncated data chunk keeps the whole frames it has', () => {
  const file = writeWavPcm16(new Int16Array([11, 22, 33]), 8000);
  assert.deepEqual([...readWav(file.subarray(0, file.length - 1)).samples], [11, 22]);
});
