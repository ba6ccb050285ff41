// Kafka protocol error codes by name and by number, their retriability, and KafkaError, the
// typed error that carries one. The table itself is in error-table.ts.
import { ProtocolError } from "./errors.ts";
import { ERROR_TABLE, type ErrorInfo } from "./error-table.ts";

export type { ErrorInfo } from "./error-table.ts";

type ErrorEntry = (typeof ERROR_TABLE)[number];

/** Kafka's constant name of a known error code. */
export type ErrorName = ErrorEntry["name"];

/** Kafka error codes by constant name: `ErrorCode.NOT_LEADER_OR_FOLLOWER === 6`. */
export const ErrorCode = Object.freeze(Object.fromEntries(ERROR_TABLE.map((e) => [e.name, e.code]))) as {
  readonly [E in ErrorEntry as E["name"]]: E["code"];
};

const BY_CODE: ReadonlyMap<number, ErrorInfo> = (() => {
  const byCode = new Map<number, ErrorInfo>();
  for (const entry of ERROR_TABLE) {
    const taken = byCode.get(entry.code);
    if (taken !== undefined) {
      throw new Error(`error code ${entry.code} is used by both ${taken.name} and ${entry.name}`);
    }
    byCode.set(entry.code, Object.freeze({ ...entry }));
  }
  return byCode;
})();

/**
 * The table entry for a code. A code Kafka has not defined (a newer broker's, or garbage) gets
 * an "UNKNOWN" entry that keeps the code and is not retriable, as the Java client treats it.
 */
export function errorInfo(code: number): ErrorInfo {
  return (
    BY_CODE.get(code) ?? {
      code,
      name: "UNKNOWN",
      retriable: false,
      description: `Error code ${code} is not a Kafka protocol error code known to Ferry.`,
    }
  );
}

/** Whether a request that failed with this code may be retried as is. Unknown codes are not. */
export function isRetriable(code: number): boolean {
  return errorInfo(code).retriable;
}

/** An error code returned by a broker (or raised by Ferry's broker), with its name in the message. */
export class KafkaError extends ProtocolError {
  /** Kafka's constant name for the code, or "UNKNOWN". */
  readonly errorName: string;
  readonly retriable: boolean;

  constructor(code: number, message?: string) {
    const info = errorInfo(code);
    super(code, `${info.name} (${code}): ${message ?? info.description}`);
    this.name = "KafkaError";
    this.errorName = info.name;
    this.retriable = info.retriable;
  }
}
