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
