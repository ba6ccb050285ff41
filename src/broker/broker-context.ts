// What API handlers see of the broker: its settings, identity, topics, groups, transactions and clock.
import type { BrokerConfig } from "./config/broker-config.ts";
import type { MetadataStore } from "./metadata/metadata-store.ts";
import type { TopicManager } from "./topic-manager.ts";
import type { GroupCoordinator } from "./groups/group-coordinator.ts";
import type { TxnCoordinator } from "./txn/txn-coordinator.ts";
import type { AnyApiHandler } from "./apis/api.ts";
import type { Logger } from "../util/logger.ts";
import type { BrokerSecurity } from "./security/broker-security.ts";

export interface BrokerContext {
  readonly config: BrokerConfig;
  readonly meta: MetadataStore;
  readonly topics: TopicManager;
  readonly groups: GroupCoordinator;
  readonly txns: TxnCoordinator;
  /** The address clients are told to connect to (the first listener's). */
  readonly advertised: { readonly host: string; readonly port: number };
  /** Each listener's advertised address, by listener name: Metadata answers with the caller's. */
  readonly advertisedByListener: ReadonlyMap<string, { readonly host: string; readonly port: number }>;
  /** Credentials, ACLs and the authorizer. */
  readonly security: BrokerSecurity;
  readonly apis: readonly AnyApiHandler[];
  readonly log: Logger;
  now(): number;
  /** Aborted when the broker starts shutting down (long polls end early). */
  readonly closing: AbortSignal;
}

/** The single node's leader epoch: it never changes, as no other replica can lead. */
export const LEADER_EPOCH = 0;
