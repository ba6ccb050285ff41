// int64 fields of batches and state files as JS numbers: exact below 2^53, which covers every
// realistic offset, producer id and millisecond timestamp; larger values read as NaN.

/** Reads a big-endian int64 as a number; NaN when it is beyond ±2^53. */
export function readInt64(buf: Buffer, pos: number): number {
  const v = buf.readInt32BE(pos) * 0x100000000 + buf.readUInt32BE(pos + 4);
  return Number.isSafeInteger(v) ? v : NaN;
}

/** Writes a safe integer (negative ones too) as a big-endian int64. */
export function writeInt64(buf: Buffer, pos: number, v: number): void {
  const hi = Math.floor(v / 0x100000000);
  buf.writeInt32BE(hi, pos);
  buf.writeUInt32BE(v - hi * 0x100000000, pos + 4);
}
