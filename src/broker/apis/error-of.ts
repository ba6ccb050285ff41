// Turns a failure inside a handler into the error code and message a response carries:
// KafkaErrors keep their code; anything else is a bug, logged, and UNKNOWN_SERVER_ERROR.
import { ErrorCode, KafkaError } from "../../protocol/error-codes.ts";
import { ProtocolError } from "../../protocol/errors.ts";
import type { Logger } from "../../util/logger.ts";

export interface ErrorOutcome {
  code: number;
  message: string;
}

export function errorOf(e: unknown, log: Logger, what: string): ErrorOutcome {
  if (e instanceof KafkaError || e instanceof ProtocolError) return { code: e.code, message: e.message };
  const message = e instanceof Error ? e.message : String(e);
  log.error("unexpected error", { what, error: message, stack: e instanceof Error ? e.stack : undefined });
  return { code: ErrorCode.UNKNOWN_SERVER_ERROR, message: "unexpected server error" };
}
