// Typed errors of the client: each carries the Kafka error code and where it happened (broker,
// topic, partition, group), so callers and retry loops can decide on the code alone.
import { ErrorCode, KafkaError } from "../protocol/error-codes.ts";

/** Where an error happened; fields are absent when they do not apply. */
export interface ErrorOrigin {
  /** Node id of the broker that answered (or was asked); -1 for a bootstrap address. */
  broker?: number;
  topic?: string;
  partition?: number;
  group?: string;
}

/** A Kafka error code a broker returned for one topic partition. */
export class PartitionError extends KafkaError {
  readonly topic: string;
  readonly partition: number;
  readonly broker: number | undefined;

  constructor(code: number, topic: string, partition: number, broker?: number, message?: string | null) {
    const where = `${topic}[${partition}]${broker === undefined ? "" : ` on broker ${broker}`}`;
    super(code, message ? `${where}: ${message}` : where);
    this.name = "PartitionError";
    this.topic = topic;
    this.partition = partition;
    this.broker = broker;
  }
}

/** A Kafka error code a broker returned for a whole request or a named resource (topic, group). */
export class BrokerError extends KafkaError {
  readonly origin: ErrorOrigin;

  constructor(code: number, what: string, origin: ErrorOrigin = {}, message?: string | null) {
    const where = origin.broker === undefined ? "" : ` (broker ${origin.broker})`;
    super(code, `${what}${where}${message ? `: ${message}` : ""}`);
    this.name = "BrokerError";
    this.origin = origin;
  }
}

/** The client was closed; every pending and later call rejects with this (retry loops stop on it). */
export class ClientClosedError extends KafkaError {
  constructor(what = "client") {
    super(ErrorCode.NETWORK_EXCEPTION, `${what} is closed`);
    this.name = "ClientClosedError";
  }
}

/** No version of an API is supported by both this client and the broker. */
export class VersionMismatchError extends KafkaError {
  readonly apiKey: number;
  readonly broker: number;

  constructor(apiKey: number, broker: number, detail: string) {
    super(ErrorCode.UNSUPPORTED_VERSION, `API key ${apiKey} on broker ${broker}: ${detail}`);
    this.name = "VersionMismatchError";
    this.apiKey = apiKey;
    this.broker = broker;
  }
}

/** Throws a PartitionError unless the code is NONE. */
export function checkPartition(
  code: number,
  topic: string,
  partition: number,
  broker?: number,
  message?: string | null,
): void {
  if (code !== 0) throw new PartitionError(code, topic, partition, broker, message);
}

/** Codes that mean our metadata (leaders, coordinators) is stale: refresh before retrying. */
export function isStaleMetadata(code: number): boolean {
  return (
    code === ErrorCode.NOT_LEADER_OR_FOLLOWER ||
    code === ErrorCode.LEADER_NOT_AVAILABLE ||
    code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION ||
    code === ErrorCode.FENCED_LEADER_EPOCH ||
    code === ErrorCode.UNKNOWN_LEADER_EPOCH ||
    code === ErrorCode.NOT_COORDINATOR ||
    code === ErrorCode.COORDINATOR_NOT_AVAILABLE ||
    code === ErrorCode.NETWORK_EXCEPTION ||
    code === ErrorCode.REQUEST_TIMED_OUT
  );
}
