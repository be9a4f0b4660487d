// Reads the top-level fields of a protobuf message (enough for foreign-function arguments).

export interface ProtoField { varint?: bigint; bytes?: Uint8Array }

export function readProtoFields(bytes: Uint8Array): Map<number, ProtoField> {
  const fields = new Map<number, ProtoField>();
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= bytes.length) throw new Error('truncated protobuf');
      const b = bytes[pos++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  try {
    while (pos < bytes.length) {
      const tag = Number(varint());
      const field = tag >>> 3;
      const wire = tag & 7;
      if (wire === 0) fields.set(field, { varint: varint() });
      else if (wire === 2) {
        const len = Number(varint());
        fields.set(field, { bytes: bytes.subarray(pos, pos + len) });
        pos += len;
      } else if (wire === 1) pos += 8;
      else if (wire === 5) pos += 4;
      else break;
    }
  } catch {
    return fields;
  }
  return fields;
}
