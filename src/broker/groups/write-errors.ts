// The error a client gets when the group store could not take a write, mapped as Kafka maps
// failed appends to __consumer_offsets (a log error means little to a group client).
import { ErrorCode } from "../../protocol/error-codes.ts";
import { ProtocolError } from "../../protocol/errors.ts";

/** The Kafka code of a store failure; an error without one (EIO, ENOSPC) is a storage error. */
function appendErrorCode(err: unknown): number {
  return err instanceof ProtocolError ? err.code : ErrorCode.KAFKA_STORAGE_ERROR;
}

function common(code: number): number | null {
  switch (code) {
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case ErrorCode.REQUEST_TIMED_OUT:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    default:
      return null;
  }
}

const TOO_LARGE: readonly number[] = [
  ErrorCode.MESSAGE_TOO_LARGE,
  ErrorCode.RECORD_LIST_TOO_LARGE,
  ErrorCode.INVALID_FETCH_SIZE,
];

/** For group metadata writes (SyncGroup, static member rejoin). */
export function groupWriteErrorCode(err: unknown): number {
  const code = appendErrorCode(err);
  if (TOO_LARGE.includes(code)) return ErrorCode.UNKNOWN_SERVER_ERROR;
  return common(code) ?? code;
}

/** For offset commits, deletions and group deletions. */
export function offsetWriteErrorCode(err: unknown): number {
  const code = appendErrorCode(err);
  if (TOO_LARGE.includes(code)) return ErrorCode.INVALID_COMMIT_OFFSET_SIZE;
  return common(code) ?? code;
}
