// A minimal protobuf wire-format writer: enough to build the small messages Envoy's foreign
// functions and gRPC services take, without a code generator.

const WIRE_VARINT: u32 = 0;
const WIRE_LEN: u32 = 2;

export class ProtoWriter {
  private bytes: u8[] = [];

  private varint(value: u64): void {
    while (value >= 0x80) {
      this.bytes.push(<u8>(value & 0x7f) | 0x80);
      value >>= 7;
    }
    this.bytes.push(<u8>value);
  }

  private tag(field: u32, wire: u32): void { this.varint(<u64>((field << 3) | wire)); }

  uint64(field: u32, value: u64): ProtoWriter {
    if (value != 0) { this.tag(field, WIRE_VARINT); this.varint(value); }
    return this;
  }

  int32(field: u32, value: i32): ProtoWriter {
    // Negative int32 values are sign-extended to 10 bytes, as protobuf requires.
    if (value != 0) { this.tag(field, WIRE_VARINT); this.varint(<u64><i64>value); }
    return this;
  }

  bool(field: u32, value: bool): ProtoWriter {
    if (value) { this.tag(field, WIRE_VARINT); this.varint(1); }
    return this;
  }

  bytesField(field: u32, value: ArrayBuffer): ProtoWriter {
    this.tag(field, WIRE_LEN);
    this.varint(<u64>value.byteLength);
    const view = Uint8Array.wrap(value);
    for (let i = 0; i < view.length; i++) this.bytes.push(view[i]);
    return this;
  }

  string(field: u32, value: string): ProtoWriter {
    if (value.length == 0) return this;
    return this.bytesField(field, String.UTF8.encode(value));
  }

  /** A nested message; written even when empty, since presence can matter for messages. */
  message(field: u32, value: ProtoWriter): ProtoWriter {
    return this.bytesField(field, value.finish());
  }

  finish(): ArrayBuffer {
    const out = new ArrayBuffer(this.bytes.length);
    memory.copy(changetype<usize>(out), this.bytes.dataStart, this.bytes.length);
    return out;
  }
}

/** Reads protobuf wire format field by field (for responses of gRPC services). */
export class ProtoReader {
  private pos: i32 = 0;
  /** The field number and wire type of the field just read by next(). */
  field: u32 = 0;
  wire: u32 = 0;
  /** Set when the message was truncated or malformed; reading stops. */
  failed: bool = false;

  private readonly end: i32;

  constructor(private readonly buffer: ArrayBuffer, start: i32 = 0, end: i32 = -1) {
    this.pos = start;
    this.end = end < 0 ? buffer.byteLength : end;
  }

  /** Advances to the next field; false at the end (or on malformed input). */
  next(): bool {
    if (this.failed || this.pos >= this.end) return false;
    const tag = this.varint();
    if (this.failed) return false;
    this.field = <u32>(tag >> 3);
    this.wire = <u32>(tag & 7);
    return this.field != 0;
  }

  varint(): u64 {
    let result: u64 = 0;
    let shift: u64 = 0;
    while (true) {
      if (this.pos >= this.end || shift > 63) { this.failed = true; return 0; }
      const b = load<u8>(changetype<usize>(this.buffer) + <usize>this.pos);
      this.pos++;
      result |= (<u64>(b & 0x7f)) << shift;
      if ((b & 0x80) == 0) return result;
      shift += 7;
    }
  }

  /** A length-delimited field as [start, end) offsets into the buffer. */
  private span(): i32 {
    const length = this.varint();
    // Compare in 64 bits: a huge length must not wrap around and pass the bounds check.
    if (this.failed || length > <u64>(this.end - this.pos)) { this.failed = true; return this.pos; }
    const from = this.pos;
    this.pos += <i32>length;
    return from;
  }

  string(): string {
    const from = this.span();
    if (this.failed) return "";
    return String.UTF8.decodeUnsafe(changetype<usize>(this.buffer) + <usize>from, <usize>(this.pos - from));
  }

  /** A 64-bit field read as a double (wire type 1). */
  double(): f64 {
    if (this.pos + 8 > this.end) { this.failed = true; return 0; }
    const v = load<f64>(changetype<usize>(this.buffer) + <usize>this.pos);
    this.pos += 8;
    return v;
  }

  /** A nested message, read with its own reader. */
  message(): ProtoReader {
    const from = this.span();
    return new ProtoReader(this.buffer, from, this.failed ? from : this.pos);
  }

  /** Skips the current field's value. */
  skip(): void {
    if (this.wire == 0) this.varint();
    else if (this.wire == 2) this.span();
    else if ((this.wire == 1 || this.wire == 5) && this.end - this.pos >= (this.wire == 1 ? 8 : 4)) this.pos += this.wire == 1 ? 8 : 4;
    else this.failed = true;
  }
}
