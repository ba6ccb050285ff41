// PRODUCER_FENCED (KIP-588) exists only from some version of each transaction API; older
// versions carry INVALID_PRODUCER_EPOCH for the same condition, as Kafka answers them.
import { ErrorCode } from "../../protocol/error-codes.ts";

/** The code a response of this version carries for `code` (PRODUCER_FENCED only from `since`). */
export function fencedCode(code: number, version: number, since: number): number {
  return code === ErrorCode.PRODUCER_FENCED && version < since ? ErrorCode.INVALID_PRODUCER_EPOCH : code;
}
