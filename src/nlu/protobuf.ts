/**
 * A minimal protobuf (proto3 wire format) writer: just what is needed to emit an ONNX ModelProto, so the
 * project carries no protobuf library. Nested messages are encoded first and then written length-delimited.
 * Writer misuse (bad field number, non-integer varint) is a programming error and throws RangeError.
 */

export const WireType = { VARINT: 0, FIXED64: 1, LEN: 2, FIXED32: 5 } as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

const MAX_FIELD = 2 ** 29 - 1;
const U64_MASK = (1n << 64n) - 1n;

/**
 * Varint bytes of an integer. Negative values are written as 64-bit two's complement (10 bytes), as
 * protobuf does for int32/int64 fields; ONNX needs that for e.g. Softmax axis -1.
 */
export function encodeVarint(value: number | bigint): Uint8Array {
  if (typeof value === 'number' && !Number.isSafeInteger(value))
    throw new RangeError(`varint value must be a safe integer, got ${value}`);
  let v = BigInt(value);
  if (v < -(1n << 63n) || v > U64_MASK) throw new RangeError(`varint value out of 64-bit range: ${v}`);
  v &= U64_MASK;
  const out: number[] = [];
  while (v > 0x7fn) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}

const utf8 = new TextEncoder();

export class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private size = 0;

  private push(bytes: Uint8Array): this {
    this.chunks.push(bytes);
    this.size += bytes.length;
    return this;
  }

  private tag(field: number, wire: WireType): this {
    if (!Number.isInteger(field) || field < 1 || field > MAX_FIELD)
      throw new RangeError(`protobuf field number must be 1..${MAX_FIELD}, got ${field}`);
    return this.push(encodeVarint(field * 8 + wire));
  }

  /** int32, int64, uint64, bool and enum fields. */
  varint(field: number, value: number | bigint): this {
    return this.tag(field, WireType.VARINT).push(encodeVarint(value));
  }

  bytes(field: number, value: Uint8Array): this {
    return this.tag(field, WireType.LEN).push(encodeVarint(value.length)).push(value);
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  /** An embedded message. */
  message(field: number, value: ProtoWriter | Uint8Array): this {
    return this.bytes(field, value instanceof ProtoWriter ? value.finish() : value);
  }

  /** fixed32 (unsigned, little-endian). */
  fixed32(field: number, value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff)
      throw new RangeError(`fixed32 value must be an integer 0..2^32-1, got ${value}`);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, value, true);
    return this.tag(field, WireType.FIXED32).push(b);
  }

  /** float (IEEE 754 single, little-endian, fixed32 wire type). */
  float(field: number, value: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    return this.tag(field, WireType.FIXED32).push(b);
  }

  /** A packed repeated varint field (e.g. TensorProto.dims). */
  packedVarints(field: number, values: readonly (number | bigint)[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.push(encodeVarint(v));
    return this.bytes(field, inner.finish());
  }

  get length(): number {
    return this.size;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}
