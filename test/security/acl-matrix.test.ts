// The ACL matrix: who may produce, consume, create, describe and administer, with every
// deny answered by Kafka's error code. Users log in with SASL/PLAIN; admin is a super user
// and sets the ACLs with CreateAcls. kcat checks the same rules from a real client.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Connection } from "../../src/net/connection.ts";
import { ErrorCode } from "../../src/protocol/error-codes.ts";
import { ApiKey } from "../../src/protocol/generated/index.ts";
import { encodeBatch } from "../../src/protocol/records/batch-codec.ts";
import { AclOperation, AclPermission, AclResourceType, PatternType } from "../../src/broker/security/acls.ts";
import { kcat, requirePeer } from "../helpers/peers.ts";
import { runProgram, startTestBroker, type TestBroker } from "../compat/broker-harness.ts";
import { connectAs } from "./sasl-client.ts";

const USERS = {
  admin: "admin-pw-1",
  producer: "producer-pw-2",
  consumer: "consumer-pw-3",
  nobody: "nobody-pw-4",
};
type User = keyof typeof USERS;

describe("ACLs: the who-may-do-what matrix", () => {
  let broker: TestBroker;
  let port = 0;
  const conns = new Map<User, Connection>();
  const as = (u: User): Connection => {
    const c = conns.get(u);
    assert.ok(c !== undefined);
    return c;
  };

  before(async () => {
    const usersDir = mkdtempSync(join(tmpdir(), "ferry-acl-users-"));
    const usersFile = join(usersDir, "plain-users.txt");
    writeFileSync(
      usersFile,
      Object.entries(USERS)
        .map(([u, p]) => `${u}:${p}\n`)
        .join(""),
      { mode: 0o600 },
    );
    broker = await startTestBroker({
      listeners: "SASL_PLAINTEXT://127.0.0.1:0",
      "ferry.sasl.plain.users.file": usersFile,
      "authorizer.class.name": "ferry",
      "super.users": "User:admin",
    });
    port = broker.port;
    for (const u of Object.keys(USERS) as User[]) conns.set(u, await connectAs(port, u, USERS[u]));

    const created = await as("admin").send(ApiKey.CreateTopics, 7, {
      topics: ["orders", "orders-secret"].map((name) => ({
        name,
        numPartitions: 1,
        replicationFactor: 1,
        assignments: [],
        configs: [],
      })),
      timeoutMs: 5000,
      validateOnly: false,
    });
    assert.deepEqual(
      created.topics.map((t) => t.errorCode),
      [0, 0],
    );
    const acl = (
      principal: string,
      type: number,
      name: string,
      pattern: number,
      op: number,
      permission: number = AclPermission.ALLOW,
    ) => ({
      resourceType: type,
      resourceName: name,
      resourcePatternType: pattern,
      principal,
      host: "*",
      operation: op,
      permissionType: permission,
    });
    const r = await as("admin").send(ApiKey.CreateAcls, 3, {
      creations: [
        acl("User:producer", AclResourceType.TOPIC, "orders", PatternType.LITERAL, AclOperation.WRITE),
        acl("User:consumer", AclResourceType.TOPIC, "orders", PatternType.PREFIXED, AclOperation.READ),
        acl(
          "User:consumer",
          AclResourceType.TOPIC,
          "orders-secret",
          PatternType.LITERAL,
          AclOperation.READ,
          AclPermission.DENY,
        ),
        acl("User:consumer", AclResourceType.GROUP, "cg", PatternType.LITERAL, AclOperation.READ),
        acl(
          "User:producer",
          AclResourceType.TRANSACTIONAL_ID,
          "tx-",
          PatternType.PREFIXED,
          AclOperation.WRITE,
        ),
      ],
    });
    assert.deepEqual(
      r.results.map((x) => x.errorCode),
      [0, 0, 0, 0, 0],
    );
  });

  after(async () => {
    for (const c of conns.values()) await c.close();
    await broker.close();
  });

  async function produce(u: User, topic: string, transactionalId: string | null = null): Promise<number> {
    const records = encodeBatch({ records: [{ value: Buffer.from(`from ${u}`) }] });
    const r = await as(u).send(ApiKey.Produce, 9, {
      transactionalId,
      acks: -1,
      timeoutMs: 5000,
      topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
    });
    return r.responses[0]?.partitionResponses[0]?.errorCode ?? -1;
  }

  async function fetch(u: User, topic: string): Promise<number> {
    const r = await as(u).send(ApiKey.Fetch, 12, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic,
          partitions: [
            {
              partition: 0,
              currentLeaderEpoch: -1,
              fetchOffset: 0n,
              lastFetchedEpoch: -1,
              logStartOffset: -1n,
              partitionMaxBytes: 1 << 20,
            },
          ],
        },
      ],
      forgottenTopicsData: [],
      rackId: "",
    });
    return r.responses[0]?.partitions[0]?.errorCode ?? -1;
  }

  test("produce: allowed for WRITE on the literal topic, TOPIC_AUTHORIZATION_FAILED for everyone else", async () => {
    assert.equal(await produce("producer", "orders"), 0);
    assert.equal(await produce("admin", "orders"), 0, "super users pass every check");
    assert.equal(await produce("consumer", "orders"), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    assert.equal(await produce("nobody", "orders"), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    assert.equal(
      await produce("producer", "orders-secret"),
      ErrorCode.TOPIC_AUTHORIZATION_FAILED,
      "literal, not prefixed",
    );
  });

  test("consume: allowed by a PREFIXED READ, a DENY on one topic wins over it, others are refused", async () => {
    assert.equal(await fetch("consumer", "orders"), 0);
    assert.equal(await fetch("consumer", "orders-secret"), ErrorCode.TOPIC_AUTHORIZATION_FAILED, "deny wins");
    assert.equal(await fetch("producer", "orders"), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    assert.equal(await fetch("nobody", "orders"), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  });

  test("describe: metadata hides topics the caller may not describe and refuses them by name", async () => {
    const all = async (u: User) =>
      (await as(u).send(ApiKey.Metadata, 12, { topics: null, allowAutoTopicCreation: false })).topics
        .map((t) => t.name)
        .sort();
    assert.deepEqual(await all("admin"), [
      "__consumer_offsets",
      "__transaction_state",
      "orders",
      "orders-secret",
    ]);
    assert.deepEqual(await all("producer"), ["orders"], "WRITE implies DESCRIBE");
    // A DENY of READ does not deny DESCRIBE, which the PREFIXED READ implies (as in Kafka).
    assert.deepEqual(await all("consumer"), ["orders", "orders-secret"], "READ implies DESCRIBE");
    assert.deepEqual(await all("nobody"), []);
    const named = await as("nobody").send(ApiKey.Metadata, 12, {
      topics: [{ name: "orders", topicId: "AAAAAAAAAAAAAAAAAAAAAA" }],
      allowAutoTopicCreation: true,
    });
    assert.equal(named.topics[0]?.errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    const offsets = await as("nobody").send(ApiKey.ListOffsets, 7, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [
        { name: "orders", partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }] },
      ],
    });
    assert.equal(offsets.topics[0]?.partitions[0]?.errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    const configs = await as("consumer").send(ApiKey.DescribeConfigs, 4, {
      resources: [
        { resourceType: 2, resourceName: "orders", configurationKeys: null },
        { resourceType: 4, resourceName: "1", configurationKeys: null },
      ],
      includeSynonyms: false,
      includeDocumentation: false,
    });
    assert.deepEqual(
      configs.results.map((x) => x.errorCode),
      [ErrorCode.TOPIC_AUTHORIZATION_FAILED, ErrorCode.CLUSTER_AUTHORIZATION_FAILED],
    );
  });

  test("create: only CREATE on the cluster or topic may create topics, explicitly or by auto-creation", async () => {
    for (const u of ["producer", "consumer", "nobody"] as const) {
      const r = await as(u).send(ApiKey.CreateTopics, 7, {
        topics: [
          { name: `new-by-${u}`, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
        ],
        timeoutMs: 5000,
        validateOnly: false,
      });
      assert.equal(r.topics[0]?.errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED, u);
    }
    const auto = await as("producer").send(ApiKey.Metadata, 12, {
      topics: [{ name: "orders-auto", topicId: "AAAAAAAAAAAAAAAAAAAAAA" }],
      allowAutoTopicCreation: true,
    });
    assert.equal(auto.topics[0]?.errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    const del = await as("producer").send(ApiKey.DeleteTopics, 6, {
      topics: [{ name: "orders", topicId: "AAAAAAAAAAAAAAAAAAAAAA" }],
      timeoutMs: 5000,
    });
    assert.equal(del.responses[0]?.errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  });

  test("groups: READ on the group is needed to join and commit, GROUP_AUTHORIZATION_FAILED otherwise", async () => {
    const join = async (u: User, groupId: string) =>
      (
        await as(u).send(ApiKey.JoinGroup, 9, {
          groupId,
          sessionTimeoutMs: 10000,
          rebalanceTimeoutMs: 10000,
          memberId: "",
          groupInstanceId: null,
          protocolType: "consumer",
          protocols: [{ name: "range", metadata: Buffer.alloc(0) }],
          reason: null,
        })
      ).errorCode;
    assert.equal(
      await join("consumer", "cg"),
      ErrorCode.MEMBER_ID_REQUIRED,
      "allowed: the normal first answer",
    );
    assert.equal(await join("consumer", "other"), ErrorCode.GROUP_AUTHORIZATION_FAILED);
    assert.equal(await join("producer", "cg"), ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const commit = await as("nobody").send(ApiKey.OffsetCommit, 8, {
      groupId: "cg",
      generationIdOrMemberEpoch: -1,
      memberId: "",
      groupInstanceId: null,
      retentionTimeMs: -1n,
      topics: [
        {
          name: "orders",
          partitions: [
            {
              partitionIndex: 0,
              committedOffset: 1n,
              committedLeaderEpoch: -1,
              commitTimestamp: -1n,
              committedMetadata: null,
            },
          ],
        },
      ],
    });
    assert.equal(commit.topics[0]?.partitions[0]?.errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
  });

  test("transactional ids: WRITE on the id is needed, TRANSACTIONAL_ID_AUTHORIZATION_FAILED otherwise", async () => {
    const init = async (u: User, id: string) =>
      (
        await as(u).send(ApiKey.InitProducerId, 5, {
          transactionalId: id,
          transactionTimeoutMs: 10000,
          producerId: -1n,
          producerEpoch: -1,
        })
      ).errorCode;
    assert.equal(await init("producer", "tx-1"), 0);
    assert.equal(await init("consumer", "tx-1"), ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    assert.equal(await init("producer", "other-tx"), ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    assert.equal(
      await produce("consumer", "orders", "tx-1"),
      ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    );
    const idempotent = await as("nobody").send(ApiKey.InitProducerId, 5, {
      transactionalId: null,
      transactionTimeoutMs: 10000,
      producerId: -1n,
      producerEpoch: -1,
    });
    assert.equal(
      idempotent.errorCode,
      ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
      "no IDEMPOTENT_WRITE, no topic WRITE",
    );
  });

  test("cluster: ACL and SCRAM admin APIs and DescribeCluster need cluster rights", async () => {
    const describeAcls = async (u: User) =>
      await as(u).send(ApiKey.DescribeAcls, 3, {
        resourceTypeFilter: AclResourceType.ANY,
        resourceNameFilter: null,
        patternTypeFilter: PatternType.ANY,
        principalFilter: null,
        hostFilter: null,
        operation: AclOperation.ANY,
        permissionType: AclPermission.ANY,
      });
    assert.equal((await describeAcls("admin")).resources.length, 5);
    assert.equal((await describeAcls("producer")).errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    const create = await as("consumer").send(ApiKey.CreateAcls, 3, {
      creations: [
        {
          resourceType: 2,
          resourceName: "orders",
          resourcePatternType: 3,
          principal: "User:consumer",
          host: "*",
          operation: AclOperation.WRITE,
          permissionType: AclPermission.ALLOW,
        },
      ],
    });
    assert.equal(create.results[0]?.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    const scram = await as("producer").send(ApiKey.DescribeUserScramCredentials, 0, { users: null });
    assert.equal(scram.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    const cluster = await as("nobody").send(ApiKey.DescribeCluster, 1, {
      includeClusterAuthorizedOperations: false,
      endpointType: 1,
    });
    assert.equal(cluster.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  });

  test("kcat as the consumer user is refused producing, and as the producer user succeeds", async (t) => {
    if (!(await requirePeer(t, "kcat", kcat))) return;
    const args = (u: User) => [
      "-b",
      `127.0.0.1:${port}`,
      "-X",
      "security.protocol=SASL_PLAINTEXT",
      "-X",
      "sasl.mechanisms=PLAIN",
      "-X",
      `sasl.username=${u}`,
      "-X",
      `sasl.password=${USERS[u]}`,
    ];
    const ok = await runProgram("kcat", ["-P", ...args("producer"), "-t", "orders"], {
      input: "k\n",
      timeoutMs: 20_000,
    });
    assert.equal(ok.code, 0, ok.stderr);
    const refused = await runProgram(
      "kcat",
      ["-P", ...args("consumer"), "-t", "orders", "-X", "message.timeout.ms=3000"],
      {
        input: "k\n",
        timeoutMs: 20_000,
      },
    );
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /Topic authorization failed/i);
  });
});
