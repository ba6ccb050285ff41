// Typed errors of the network layer. Each carries the Kafka error code a client would see
// for the same failure, so retry logic above (client, link) can decide on the code alone.
import { ErrorCode, KafkaError } from "../protocol/error-codes.ts";
import { ProtocolError } from "../protocol/errors.ts";

/**
 * The connection failed or was closed before a response arrived (NETWORK_EXCEPTION, retriable):
 * the request may be retried on a new connection. `cause` holds the underlying failure.
 */
export class ConnectionError extends KafkaError {
  constructor(message: string, cause?: unknown) {
    super(ErrorCode.NETWORK_EXCEPTION, message);
    this.name = "ConnectionError";
    if (cause !== undefined) this.cause = cause;
  }
}

/** No response arrived within the request's timeout (REQUEST_TIMED_OUT, retriable). */
export class RequestTimeoutError extends KafkaError {
  readonly timeoutMs: number;

  constructor(message: string, timeoutMs: number) {
    super(ErrorCode.REQUEST_TIMED_OUT, message);
    this.name = "RequestTimeoutError";
    this.timeoutMs = timeoutMs;
  }
}

/**
 * A frame's 4-byte size prefix is negative or above the limit. The stream cannot be
 * resynchronised after it, so the connection must close. Oversized frames carry
 * MESSAGE_TOO_LARGE; negative sizes are garbage, CORRUPT_MESSAGE like any undecodable bytes.
 */
export class FrameSizeError extends ProtocolError {
  readonly size: number;
  readonly maxFrameBytes: number;

  constructor(size: number, maxFrameBytes: number) {
    const tooLarge = size > maxFrameBytes;
    super(
      tooLarge ? ErrorCode.MESSAGE_TOO_LARGE : ErrorCode.CORRUPT_MESSAGE,
      tooLarge
        ? `frame of ${size} bytes exceeds the limit of ${maxFrameBytes} bytes`
        : `invalid frame size ${size}`,
    );
    this.name = "FrameSizeError";
    this.size = size;
    this.maxFrameBytes = maxFrameBytes;
  }
}
