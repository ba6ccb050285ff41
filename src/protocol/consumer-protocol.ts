// The consumer group protocol's member metadata and assignment ("consumer" protocol type),
// carried as opaque bytes in JoinGroup/SyncGroup: an int16 version, then the versioned body.
import { Reader } from "./reader.ts";
import { Writer } from "./writer.ts";
import { DecodeError } from "./errors.ts";
import type { Input } from "./codec-runtime.ts";
import {
  DATA_MESSAGES,
  readConsumerProtocolAssignment,
  readConsumerProtocolSubscription,
  writeConsumerProtocolAssignment,
  writeConsumerProtocolSubscription,
  type ConsumerProtocolAssignment,
  type ConsumerProtocolSubscription,
} from "./generated/index.ts";

export interface Versioned<T> {
  version: number;
  value: T;
}

/**
 * Reads the version prefix. Newer versions only append fields, so a version above ours is
 * read as our highest (as Kafka's consumer does); trailing bytes are then expected.
 */
function readVersioned<T>(
  bytes: Buffer,
  max: number,
  read: (r: Reader, v: number) => T,
  what: string,
): Versioned<T> {
  const r = new Reader(bytes);
  const version = r.int16();
  if (version < 0) throw new DecodeError(`${what}: negative version ${version}`);
  const value = read(r, Math.min(version, max));
  if (version <= max && r.remaining !== 0)
    throw new DecodeError(`${what} v${version}: ${r.remaining} trailing bytes`);
  return { version, value };
}

export function decodeSubscription(bytes: Buffer): Versioned<ConsumerProtocolSubscription> {
  const max = DATA_MESSAGES.ConsumerProtocolSubscription.maxVersion;
  return readVersioned(bytes, max, readConsumerProtocolSubscription, "consumer subscription");
}

export function encodeSubscription(version: number, value: Input<ConsumerProtocolSubscription>): Buffer {
  const w = new Writer(64);
  w.int16(version);
  writeConsumerProtocolSubscription(w, version, value);
  return Buffer.from(w.finish());
}

export function decodeAssignment(bytes: Buffer): Versioned<ConsumerProtocolAssignment> {
  const max = DATA_MESSAGES.ConsumerProtocolAssignment.maxVersion;
  return readVersioned(bytes, max, readConsumerProtocolAssignment, "consumer assignment");
}

export function encodeAssignment(version: number, value: Input<ConsumerProtocolAssignment>): Buffer {
  const w = new Writer(64);
  w.int16(version);
  writeConsumerProtocolAssignment(w, version, value);
  return Buffer.from(w.finish());
}
