// Typed failures shared by the codecs: whatever a native library throws on bad input is
// turned into a DecodeError (CORRUPT_MESSAGE), and output beyond the caller's limit into a
// DecompressionLimitError, so a hostile batch never escapes as a RangeError or an OOM.
import { DecodeError } from "../errors.ts";

/** Decompressed output would exceed the caller's limit (a bomb, or a limit set too low). */
export class DecompressionLimitError extends DecodeError {
  readonly limit: number;

  constructor(codec: string, limit: number, detail = "") {
    super(
      `${codec}: decompressed size exceeds the limit of ${limit} bytes${detail === "" ? "" : ` (${detail})`}`,
    );
    this.name = "DecompressionLimitError";
    this.limit = limit;
  }
}

/** Wraps an error thrown by a native decoder, keeping it as the cause. */
export function corrupt(codec: string, cause: unknown): DecodeError {
  if (cause instanceof DecodeError) return cause;
  const detail = cause instanceof Error ? cause.message : String(cause);
  const err = new DecodeError(`${codec}: corrupt compressed data: ${detail}`);
  err.cause = cause;
  return err;
}

/** Throws unless maxBytes is a usable output limit. */
export function checkLimit(maxBytes: number): void {
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
    throw new RangeError(`maxBytes must be a non-negative integer, got ${maxBytes}`);
  }
}

/** True for the error node:zlib raises when maxOutputLength is reached. */
export function isTooLarge(e: unknown): boolean {
  return e instanceof RangeError && (e as { code?: unknown }).code === "ERR_BUFFER_TOO_LARGE";
}
