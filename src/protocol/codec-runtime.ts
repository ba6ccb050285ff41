// Shared helpers for the generated message codecs in ./generated/: the version-dependent
// encodings of strings, bytes and array lengths, and unknown tagged fields.
import { DecodeError, EncodeError } from "./errors.ts";
import type { Reader } from "./reader.ts";
import { Writer } from "./writer.ts";

/** A tagged field this codec does not know; kept so that re-encoding is byte-exact. */
export interface TaggedField {
  tag: number;
  data: Buffer;
}

/**
 * What a writer accepts: the decoded message shape with every field optional (missing
 * fields take the spec's default), recursively.
 */
export type Input<T> = T extends Buffer | bigint | string | number | boolean | null | undefined | TaggedField
  ? T
  : T extends readonly (infer U)[]
    ? readonly Input<U>[]
    : { readonly [K in keyof T]?: Input<T[K]> };

/** The all-zero uuid, Kafka's default and "no topic id". */
export const ZERO_UUID = "AAAAAAAAAAAAAAAAAAAAAA";

const EMPTY_BYTES = Buffer.alloc(0);

export function readString(r: Reader, flexible: boolean, nullable: boolean, field: string): string | null {
  const s = flexible ? r.compactNullableString() : r.nullableString();
  if (s === null && !nullable) {
    if (r.lenientNulls) return "";
    throw new DecodeError(`${field}: null in a version where it is not nullable`);
  }
  return s;
}

export function writeString(
  w: Writer,
  s: string | null,
  flexible: boolean,
  nullable: boolean,
  field: string,
): void {
  if (s === null) {
    if (!nullable) throw new EncodeError(`${field}: null in a version where it is not nullable`);
    if (flexible) w.uvarint(0);
    else w.int16(-1);
  } else if (flexible) {
    w.compactString(s);
  } else {
    w.string(s);
  }
}

export function readBytes(r: Reader, flexible: boolean, nullable: boolean, field: string): Buffer | null {
  const b = flexible ? r.compactNullableBytes() : r.nullableBytes();
  if (b === null && !nullable) {
    if (r.lenientNulls) return EMPTY_BYTES;
    throw new DecodeError(`${field}: null in a version where it is not nullable`);
  }
  return b;
}

export function writeBytes(
  w: Writer,
  b: Uint8Array | null,
  flexible: boolean,
  nullable: boolean,
  field: string,
): void {
  if (b === null) {
    if (!nullable) throw new EncodeError(`${field}: null in a version where it is not nullable`);
    if (flexible) w.uvarint(0);
    else w.int32(-1);
  } else if (flexible) {
    w.compactBytes(b);
  } else {
    w.bytes(b);
  }
}

/** Reads an array length; -1 means null and is refused where the field is not nullable. */
export function readArrayLength(r: Reader, flexible: boolean, nullable: boolean, field: string): number {
  const n = flexible ? r.compactArrayLength() : r.arrayLength();
  if (n < 0 && !nullable) throw new DecodeError(`${field}: null array in a version where it is not nullable`);
  return n;
}

export function writeArrayLength(
  w: Writer,
  length: number | null,
  flexible: boolean,
  nullable: boolean,
  field: string,
): void {
  if (length === null) {
    if (!nullable) throw new EncodeError(`${field}: null array in a version where it is not nullable`);
    if (flexible) w.uvarint(0);
    else w.int32(-1);
  } else if (flexible) {
    w.uvarint(length + 1);
  } else {
    w.int32(length);
  }
}

/** Reads one tagged field's payload: a reader bounded to its declared size. */
export function taggedFieldEnd(r: Reader): number {
  const size = r.uvarint();
  r.need(size);
  return r.pos + size;
}

/** Fails unless a known tagged field's value used exactly its declared bytes. */
export function checkTaggedFieldConsumed(r: Reader, end: number, field: string): void {
  if (r.pos !== end) throw new DecodeError(`${field}: tagged field size does not match its contents`);
}

/** Writes a struct's tagged-field section: known fields plus preserved unknown ones, by tag. */
export function writeTaggedFields(
  w: Writer,
  known: [number, Buffer][] | null,
  unknown: readonly TaggedField[] | undefined,
): void {
  if (known === null && (unknown === undefined || unknown.length === 0)) {
    w.uvarint(0);
    return;
  }
  const all: [number, Buffer][] = known ?? [];
  if (unknown !== undefined) for (const u of unknown) all.push([u.tag, u.data]);
  all.sort((a, b) => a[0] - b[0]);
  w.uvarint(all.length);
  for (const [tag, data] of all) w.uvarint(tag).uvarint(data.length).raw(data);
}

/** Encodes one tagged field's value into its own buffer, to learn its size. */
export function encodeTaggedValue(write: (w: Writer) => void): Buffer {
  const w = new Writer(32);
  write(w);
  return w.finish();
}
