// Typed protocol errors: every decode or encode failure carries a Kafka error code, so the
// broker can answer on the wire and the client can decide whether to retry.

/** Kafka error codes the codec itself raises. The full table lives in error-codes.ts. */
export const CodecErrorCode = {
  CORRUPT_MESSAGE: 2,
  UNSUPPORTED_VERSION: 35,
  INVALID_REQUEST: 42,
} as const;

/** A malformed frame or a message that cannot be written at the requested version. */
export class ProtocolError extends Error {
  readonly code: number;

  constructor(code: number, message: string) {
    super(message);
    this.name = "ProtocolError";
    this.code = code;
  }
}

/** Bytes that do not parse: truncated, an impossible length, an invalid varint. */
export class DecodeError extends ProtocolError {
  constructor(message: string) {
    super(CodecErrorCode.CORRUPT_MESSAGE, message);
    this.name = "DecodeError";
  }
}

/** A value that the requested version of a message cannot carry. */
export class UnsupportedVersionError extends ProtocolError {
  constructor(message: string) {
    super(CodecErrorCode.UNSUPPORTED_VERSION, message);
    this.name = "UnsupportedVersionError";
  }
}

/** A value that is not valid for its field type (a bad uuid, an out-of-range integer). */
export class EncodeError extends ProtocolError {
  constructor(message: string) {
    super(CodecErrorCode.INVALID_REQUEST, message);
    this.name = "EncodeError";
  }
}
