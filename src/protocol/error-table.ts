// The Apache Kafka protocol error codes, -1 through 133: every code in Kafka's Errors.java as of
// the 4.1 and 4.2 releases. `retriable` is true exactly when Kafka maps the code to a subclass of
// RetriableException, the same rule Kafka uses for the "Retriable" column of its protocol docs.
// The descriptions are our own summaries. Lookups live in error-codes.ts.

/** What Ferry knows about one protocol error code. */
export interface ErrorInfo {
  readonly code: number;
  /** Kafka's constant name, e.g. "NOT_LEADER_OR_FOLLOWER"; "UNKNOWN" for a code not in the table. */
  readonly name: string;
  /** True when a client may retry the same request (Kafka's RetriableException subclasses). */
  readonly retriable: boolean;
  readonly description: string;
}

export const ERROR_TABLE = [
  {
    code: -1,
    name: "UNKNOWN_SERVER_ERROR",
    retriable: false,
    description: "The broker hit an unexpected error while handling the request.",
  },
  { code: 0, name: "NONE", retriable: false, description: "No error: the operation succeeded." },
  {
    code: 1,
    name: "OFFSET_OUT_OF_RANGE",
    retriable: false,
    description: "The requested offset lies outside the range of offsets the partition currently holds.",
  },
  {
    code: 2,
    name: "CORRUPT_MESSAGE",
    retriable: true,
    description:
      "A record failed its CRC check, exceeded the allowed size, lacked a key on a compacted topic, or was otherwise malformed.",
  },
  {
    code: 3,
    name: "UNKNOWN_TOPIC_OR_PARTITION",
    retriable: true,
    description: "The topic or partition is unknown to this broker: it does not exist or is not hosted here.",
  },
  {
    code: 4,
    name: "INVALID_FETCH_SIZE",
    retriable: false,
    description: "The fetch size in the request is not valid.",
  },
  {
    code: 5,
    name: "LEADER_NOT_AVAILABLE",
    retriable: true,
    description: "The partition has no leader at the moment, usually because a leader election is under way.",
  },
  {
    code: 6,
    name: "NOT_LEADER_OR_FOLLOWER",
    retriable: true,
    description:
      "The broker is not the partition's leader (for leader-only requests) or not a replica of the partition at all.",
  },
  {
    code: 7,
    name: "REQUEST_TIMED_OUT",
    retriable: true,
    description: "The request did not complete before its timeout.",
  },
  {
    code: 8,
    name: "BROKER_NOT_AVAILABLE",
    retriable: false,
    description: "The target broker cannot be reached or is not serving requests.",
  },
  {
    code: 9,
    name: "REPLICA_NOT_AVAILABLE",
    retriable: true,
    description: "The replica for the requested topic-partition is not available.",
  },
  {
    code: 10,
    name: "MESSAGE_TOO_LARGE",
    retriable: false,
    description: "A record in the request is larger than the largest message the broker accepts.",
  },
  {
    code: 11,
    name: "STALE_CONTROLLER_EPOCH",
    retriable: false,
    description: "The request came from a controller that is no longer the active one.",
  },
  {
    code: 12,
    name: "OFFSET_METADATA_TOO_LARGE",
    retriable: false,
    description: "The metadata string attached to an offset commit is longer than allowed.",
  },
  {
    code: 13,
    name: "NETWORK_EXCEPTION",
    retriable: true,
    description: "The connection closed before a response arrived.",
  },
  {
    code: 14,
    name: "COORDINATOR_LOAD_IN_PROGRESS",
    retriable: true,
    description: "The coordinator is still loading its state and cannot serve requests yet.",
  },
  {
    code: 15,
    name: "COORDINATOR_NOT_AVAILABLE",
    retriable: true,
    description: "No coordinator is available right now.",
  },
  {
    code: 16,
    name: "NOT_COORDINATOR",
    retriable: true,
    description: "This broker is not the coordinator for the group or transactional id.",
  },
  {
    code: 17,
    name: "INVALID_TOPIC_EXCEPTION",
    retriable: false,
    description: "The operation targeted a topic that is invalid for it, such as a malformed name.",
  },
  {
    code: 18,
    name: "RECORD_LIST_TOO_LARGE",
    retriable: false,
    description: "A record batch is larger than the configured log segment size.",
  },
  {
    code: 19,
    name: "NOT_ENOUGH_REPLICAS",
    retriable: true,
    description:
      "The write was refused because fewer replicas are in sync than min.insync.replicas requires.",
  },
  {
    code: 20,
    name: "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
    retriable: true,
    description: "The records were appended, but fewer replicas than required were in sync.",
  },
  {
    code: 21,
    name: "INVALID_REQUIRED_ACKS",
    retriable: false,
    description: "The acks value of the produce request is not valid.",
  },
  {
    code: 22,
    name: "ILLEGAL_GENERATION",
    retriable: false,
    description: "The group generation id in the request is not the current one.",
  },
  {
    code: 23,
    name: "INCONSISTENT_GROUP_PROTOCOL",
    retriable: false,
    description:
      "The member's protocol type or protocols do not fit the group's, or were empty on the first join.",
  },
  {
    code: 24,
    name: "INVALID_GROUP_ID",
    retriable: false,
    description: "The group id is unusable, for example empty.",
  },
  {
    code: 25,
    name: "UNKNOWN_MEMBER_ID",
    retriable: false,
    description: "The coordinator does not recognise this member id.",
  },
  {
    code: 26,
    name: "INVALID_SESSION_TIMEOUT",
    retriable: false,
    description:
      "The session timeout lies outside the broker's group.min.session.timeout.ms to group.max.session.timeout.ms range.",
  },
  {
    code: 27,
    name: "REBALANCE_IN_PROGRESS",
    retriable: false,
    description: "The group is rebalancing, so the member has to rejoin.",
  },
  {
    code: 28,
    name: "INVALID_COMMIT_OFFSET_SIZE",
    retriable: false,
    description: "The size of the committed offset data is not valid.",
  },
  {
    code: 29,
    name: "TOPIC_AUTHORIZATION_FAILED",
    retriable: false,
    description: "The principal is not authorized for this operation on the topic.",
  },
  {
    code: 30,
    name: "GROUP_AUTHORIZATION_FAILED",
    retriable: false,
    description: "The principal is not authorized for this operation on the group.",
  },
  {
    code: 31,
    name: "CLUSTER_AUTHORIZATION_FAILED",
    retriable: false,
    description: "The principal is not authorized for this cluster-level operation.",
  },
  {
    code: 32,
    name: "INVALID_TIMESTAMP",
    retriable: false,
    description: "A record timestamp falls outside the accepted range.",
  },
  {
    code: 33,
    name: "UNSUPPORTED_SASL_MECHANISM",
    retriable: false,
    description: "The SASL mechanism the client asked for is not enabled on the broker.",
  },
  {
    code: 34,
    name: "ILLEGAL_SASL_STATE",
    retriable: false,
    description: "The request is not allowed at this stage of SASL authentication.",
  },
  {
    code: 35,
    name: "UNSUPPORTED_VERSION",
    retriable: false,
    description: "The broker does not support this version of the API.",
  },
  {
    code: 36,
    name: "TOPIC_ALREADY_EXISTS",
    retriable: false,
    description: "Topic creation failed because the name is taken.",
  },
  {
    code: 37,
    name: "INVALID_PARTITIONS",
    retriable: false,
    description: "The requested number of partitions is not valid.",
  },
  {
    code: 38,
    name: "INVALID_REPLICATION_FACTOR",
    retriable: false,
    description: "The replication factor is under 1 or more than the brokers that are available.",
  },
  {
    code: 39,
    name: "INVALID_REPLICA_ASSIGNMENT",
    retriable: false,
    description: "The explicit replica assignment is not valid.",
  },
  {
    code: 40,
    name: "INVALID_CONFIG",
    retriable: false,
    description: "The supplied configuration is not valid.",
  },
  {
    code: 41,
    name: "NOT_CONTROLLER",
    retriable: true,
    description: "This node is not the active controller.",
  },
  {
    code: 42,
    name: "INVALID_REQUEST",
    retriable: false,
    description:
      "The request is malformed or was sent to a broker that cannot handle it; the broker log has details.",
  },
  {
    code: 43,
    name: "UNSUPPORTED_FOR_MESSAGE_FORMAT",
    retriable: false,
    description: "The request needs a newer record format than the broker or topic uses.",
  },
  {
    code: 44,
    name: "POLICY_VIOLATION",
    retriable: false,
    description: "The request's parameters break a policy configured on the broker.",
  },
  {
    code: 45,
    name: "OUT_OF_ORDER_SEQUENCE_NUMBER",
    retriable: false,
    description: "The broker received a producer sequence number out of order.",
  },
  {
    code: 46,
    name: "DUPLICATE_SEQUENCE_NUMBER",
    retriable: false,
    description: "The broker received a producer sequence number it has already seen.",
  },
  {
    code: 47,
    name: "INVALID_PRODUCER_EPOCH",
    retriable: false,
    description: "The producer's epoch is older than the current one.",
  },
  {
    code: 48,
    name: "INVALID_TXN_STATE",
    retriable: false,
    description: "The transactional operation is not allowed in the transaction's current state.",
  },
  {
    code: 49,
    name: "INVALID_PRODUCER_ID_MAPPING",
    retriable: false,
    description: "The producer id is not the one currently assigned to its transactional id.",
  },
  {
    code: 50,
    name: "INVALID_TRANSACTION_TIMEOUT",
    retriable: false,
    description: "The transaction timeout is larger than the broker's transaction.max.timeout.ms.",
  },
  {
    code: 51,
    name: "CONCURRENT_TRANSACTIONS",
    retriable: true,
    description: "Another operation on the same transaction is still in progress.",
  },
  {
    code: 52,
    name: "TRANSACTION_COORDINATOR_FENCED",
    retriable: false,
    description:
      "The transaction coordinator that sent the WriteTxnMarkers request is no longer the producer's current coordinator.",
  },
  {
    code: 53,
    name: "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
    retriable: false,
    description: "The principal is not authorized for the transactional id.",
  },
  {
    code: 54,
    name: "SECURITY_DISABLED",
    retriable: false,
    description: "Security features are not enabled on the broker.",
  },
  {
    code: 55,
    name: "OPERATION_NOT_ATTEMPTED",
    retriable: false,
    description:
      "The broker skipped this operation, typically because another operation in the same batch failed.",
  },
  {
    code: 56,
    name: "KAFKA_STORAGE_ERROR",
    retriable: true,
    description: "The broker hit a disk error while accessing the log.",
  },
  {
    code: 57,
    name: "LOG_DIR_NOT_FOUND",
    retriable: false,
    description: "The requested log directory is not in the broker's configuration.",
  },
  {
    code: 58,
    name: "SASL_AUTHENTICATION_FAILED",
    retriable: false,
    description: "The client failed SASL authentication (bad credentials or a rejected exchange).",
  },
  {
    code: 59,
    name: "UNKNOWN_PRODUCER_ID",
    retriable: false,
    description:
      "The broker holds no state for the producer id, for instance because retention removed all of its records.",
  },
  {
    code: 60,
    name: "REASSIGNMENT_IN_PROGRESS",
    retriable: false,
    description: "The partition is being reassigned, which blocks this operation.",
  },
  {
    code: 61,
    name: "DELEGATION_TOKEN_AUTH_DISABLED",
    retriable: false,
    description: "The cluster has no delegation token support configured.",
  },
  {
    code: 62,
    name: "DELEGATION_TOKEN_NOT_FOUND",
    retriable: false,
    description: "The broker has no such delegation token.",
  },
  {
    code: 63,
    name: "DELEGATION_TOKEN_OWNER_MISMATCH",
    retriable: false,
    description: "The principal is neither the owner nor a renewer of the delegation token.",
  },
  {
    code: 64,
    name: "DELEGATION_TOKEN_REQUEST_NOT_ALLOWED",
    retriable: false,
    description:
      "Delegation token requests are refused on PLAINTEXT or one-way SSL connections and on connections authenticated by a delegation token.",
  },
  {
    code: 65,
    name: "DELEGATION_TOKEN_AUTHORIZATION_FAILED",
    retriable: false,
    description: "The principal is not authorized for the delegation token operation.",
  },
  {
    code: 66,
    name: "DELEGATION_TOKEN_EXPIRED",
    retriable: false,
    description: "The delegation token is past its expiry time.",
  },
  {
    code: 67,
    name: "INVALID_PRINCIPAL_TYPE",
    retriable: false,
    description: "The principal type given is not one the broker accepts.",
  },
  {
    code: 68,
    name: "NON_EMPTY_GROUP",
    retriable: false,
    description: "The group still has members, so the operation is refused.",
  },
  { code: 69, name: "GROUP_ID_NOT_FOUND", retriable: false, description: "No group with this id exists." },
  {
    code: 70,
    name: "FETCH_SESSION_ID_NOT_FOUND",
    retriable: true,
    description: "The broker does not know the incremental fetch session id.",
  },
  {
    code: 71,
    name: "INVALID_FETCH_SESSION_EPOCH",
    retriable: true,
    description: "The fetch session epoch does not match the one the broker expects.",
  },
  {
    code: 72,
    name: "LISTENER_NOT_FOUND",
    retriable: true,
    description: "The partition leader has no listener matching the one the metadata request arrived on.",
  },
  {
    code: 73,
    name: "TOPIC_DELETION_DISABLED",
    retriable: false,
    description: "Topic deletion is disabled on the cluster.",
  },
  {
    code: 74,
    name: "FENCED_LEADER_EPOCH",
    retriable: true,
    description: "The request carries a leader epoch that is behind the broker's.",
  },
  {
    code: 75,
    name: "UNKNOWN_LEADER_EPOCH",
    retriable: true,
    description: "The request carries a leader epoch that is ahead of the broker's.",
  },
  {
    code: 76,
    name: "UNSUPPORTED_COMPRESSION_TYPE",
    retriable: false,
    description: "The client does not support the partition's compression type.",
  },
  {
    code: 77,
    name: "STALE_BROKER_EPOCH",
    retriable: false,
    description: "The broker epoch in the request is out of date.",
  },
  {
    code: 78,
    name: "OFFSET_NOT_AVAILABLE",
    retriable: true,
    description:
      "After a leader election the new leader's high watermark has not caught up yet, so offsets cannot be served monotonically.",
  },
  {
    code: 79,
    name: "MEMBER_ID_REQUIRED",
    retriable: false,
    description: "The member has to obtain a member id before it can join the group.",
  },
  {
    code: 80,
    name: "PREFERRED_LEADER_NOT_AVAILABLE",
    retriable: true,
    description: "Preferred leader election failed because that replica cannot take leadership.",
  },
  {
    code: 81,
    name: "GROUP_MAX_SIZE_REACHED",
    retriable: false,
    description: "The group already has its maximum number of members.",
  },
  {
    code: 82,
    name: "FENCED_INSTANCE_ID",
    retriable: false,
    description:
      "Another member registered the same group.instance.id under a different member id, fencing this static member.",
  },
  {
    code: 83,
    name: "ELIGIBLE_LEADERS_NOT_AVAILABLE",
    retriable: true,
    description: "No eligible leader is available for the partition.",
  },
  {
    code: 84,
    name: "ELECTION_NOT_NEEDED",
    retriable: true,
    description: "The partition does not need a leader election.",
  },
  {
    code: 85,
    name: "NO_REASSIGNMENT_IN_PROGRESS",
    retriable: false,
    description: "There is no partition reassignment in progress to act on.",
  },
  {
    code: 86,
    name: "GROUP_SUBSCRIBED_TO_TOPIC",
    retriable: false,
    description:
      "The group's offsets for a topic cannot be deleted while the group is subscribed to that topic.",
  },
  {
    code: 87,
    name: "INVALID_RECORD",
    retriable: false,
    description: "The broker rejected a record that failed its validation.",
  },
  {
    code: 88,
    name: "UNSTABLE_OFFSET_COMMIT",
    retriable: true,
    description: "Pending transactional offset commits have to be resolved before offsets can be read.",
  },
  {
    code: 89,
    name: "THROTTLING_QUOTA_EXCEEDED",
    retriable: true,
    description: "The request went over a throttling quota.",
  },
  {
    code: 90,
    name: "PRODUCER_FENCED",
    retriable: false,
    description: "A newer producer with the same transactional id has fenced this one.",
  },
  {
    code: 91,
    name: "RESOURCE_NOT_FOUND",
    retriable: false,
    description: "A resource named in the request does not exist.",
  },
  {
    code: 92,
    name: "DUPLICATE_RESOURCE",
    retriable: false,
    description: "The request refers to the same resource more than once.",
  },
  {
    code: 93,
    name: "UNACCEPTABLE_CREDENTIAL",
    retriable: false,
    description: "The requested credential does not meet the acceptance criteria.",
  },
  {
    code: 94,
    name: "INCONSISTENT_VOTER_SET",
    retriable: false,
    description: "The sender or receiver of a KRaft voter-only request is not one of the expected voters.",
  },
  {
    code: 95,
    name: "INVALID_UPDATE_VERSION",
    retriable: false,
    description: "The feature update version is not valid.",
  },
  {
    code: 96,
    name: "FEATURE_UPDATE_FAILED",
    retriable: false,
    description: "The finalized features could not be updated because of an unexpected server error.",
  },
  {
    code: 97,
    name: "PRINCIPAL_DESERIALIZATION_FAILURE",
    retriable: false,
    description:
      "The principal of a forwarded request could not be deserialized, which points to a broker security setup problem.",
  },
  {
    code: 98,
    name: "SNAPSHOT_NOT_FOUND",
    retriable: false,
    description: "The requested KRaft snapshot does not exist.",
  },
  {
    code: 99,
    name: "POSITION_OUT_OF_RANGE",
    retriable: false,
    description: "The requested snapshot position is negative or not below the snapshot's size.",
  },
  {
    code: 100,
    name: "UNKNOWN_TOPIC_ID",
    retriable: true,
    description: "This broker does not host a topic with this id.",
  },
  {
    code: 101,
    name: "DUPLICATE_BROKER_REGISTRATION",
    retriable: false,
    description: "Another broker is already registered with this broker id.",
  },
  {
    code: 102,
    name: "BROKER_ID_NOT_REGISTERED",
    retriable: false,
    description: "No broker is registered with this id.",
  },
  {
    code: 103,
    name: "INCONSISTENT_TOPIC_ID",
    retriable: true,
    description: "The topic id in the request does not match the topic id of the log.",
  },
  {
    code: 104,
    name: "INCONSISTENT_CLUSTER_ID",
    retriable: false,
    description: "The cluster id in the request differs from the server's.",
  },
  {
    code: 105,
    name: "TRANSACTIONAL_ID_NOT_FOUND",
    retriable: false,
    description: "No transaction state exists for the transactional id.",
  },
  {
    code: 106,
    name: "FETCH_SESSION_TOPIC_ID_ERROR",
    retriable: true,
    description: "The fetch session used topic ids inconsistently.",
  },
  {
    code: 107,
    name: "INELIGIBLE_REPLICA",
    retriable: false,
    description: "The proposed ISR includes at least one replica that is not eligible to join it.",
  },
  {
    code: 108,
    name: "NEW_LEADER_ELECTED",
    retriable: false,
    description: "The AlterPartition request was applied, but the partition now has a different leader.",
  },
  {
    code: 109,
    name: "OFFSET_MOVED_TO_TIERED_STORAGE",
    retriable: false,
    description: "The requested offset is no longer in local storage; it has moved to tiered storage.",
  },
  {
    code: 110,
    name: "FENCED_MEMBER_EPOCH",
    retriable: false,
    description:
      "The group coordinator fenced the member's epoch; the member must give up all its partitions and rejoin.",
  },
  {
    code: 111,
    name: "UNRELEASED_INSTANCE_ID",
    retriable: false,
    description: "Another member still holds this instance id and has to leave the group first.",
  },
  {
    code: 112,
    name: "UNSUPPORTED_ASSIGNOR",
    retriable: false,
    description: "The group does not support the requested assignor or its version range.",
  },
  {
    code: 113,
    name: "STALE_MEMBER_EPOCH",
    retriable: false,
    description:
      "The member epoch is out of date; retry once a ConsumerGroupHeartbeat response has supplied the current epoch.",
  },
  {
    code: 114,
    name: "MISMATCHED_ENDPOINT_TYPE",
    retriable: false,
    description: "The request went to the wrong kind of endpoint (broker versus controller).",
  },
  {
    code: 115,
    name: "UNSUPPORTED_ENDPOINT_TYPE",
    retriable: false,
    description: "The broker cannot yet serve the endpoint type the request names.",
  },
  {
    code: 116,
    name: "UNKNOWN_CONTROLLER_ID",
    retriable: false,
    description: "No controller with this id is known.",
  },
  {
    code: 117,
    name: "UNKNOWN_SUBSCRIPTION_ID",
    retriable: false,
    description: "A telemetry push used an unknown or outdated subscription id.",
  },
  {
    code: 118,
    name: "TELEMETRY_TOO_LARGE",
    retriable: false,
    description: "A telemetry push is larger than the broker accepts.",
  },
  {
    code: 119,
    name: "INVALID_REGISTRATION",
    retriable: false,
    description: "The controller rejected the broker's registration as invalid.",
  },
  {
    code: 120,
    name: "TRANSACTION_ABORTABLE",
    retriable: false,
    description:
      "The transaction hit a server-side error; aborting it lets the producer keep using its transactional id.",
  },
  {
    code: 121,
    name: "INVALID_RECORD_STATE",
    retriable: false,
    description:
      "The record is not in a state that allows the acknowledgement, so delivery could not be acknowledged.",
  },
  {
    code: 122,
    name: "SHARE_SESSION_NOT_FOUND",
    retriable: true,
    description: "The broker does not know the share session.",
  },
  {
    code: 123,
    name: "INVALID_SHARE_SESSION_EPOCH",
    retriable: true,
    description: "The share session epoch does not match the one the broker expects.",
  },
  {
    code: 124,
    name: "FENCED_STATE_EPOCH",
    retriable: false,
    description:
      "The share-group state epoch in the request did not match, so the share coordinator refused it.",
  },
  {
    code: 125,
    name: "INVALID_VOTER_KEY",
    retriable: false,
    description: "The voter key does not match the key of the replica that received the request.",
  },
  {
    code: 126,
    name: "DUPLICATE_VOTER",
    retriable: false,
    description: "The replica to add is already a KRaft voter.",
  },
  {
    code: 127,
    name: "VOTER_NOT_FOUND",
    retriable: false,
    description: "The replica named is not a KRaft voter.",
  },
  {
    code: 128,
    name: "INVALID_REGULAR_EXPRESSION",
    retriable: false,
    description: "The subscription pattern does not compile as a regular expression.",
  },
  {
    code: 129,
    name: "REBOOTSTRAP_REQUIRED",
    retriable: false,
    description:
      "The client's cached metadata is out of date; it should rebootstrap from its bootstrap servers.",
  },
  {
    code: 130,
    name: "STREAMS_INVALID_TOPOLOGY",
    retriable: false,
    description: "The Streams topology in the request is not valid.",
  },
  {
    code: 131,
    name: "STREAMS_INVALID_TOPOLOGY_EPOCH",
    retriable: false,
    description: "The Streams topology epoch in the request is not valid.",
  },
  {
    code: 132,
    name: "STREAMS_TOPOLOGY_FENCED",
    retriable: false,
    description: "The Streams topology epoch in the request is out of date.",
  },
  {
    code: 133,
    name: "SHARE_SESSION_LIMIT_REACHED",
    retriable: true,
    description: "No new share session can be opened because the limit on share sessions has been reached.",
  },
] as const satisfies readonly ErrorInfo[];
