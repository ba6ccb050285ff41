// ACL sync over a link: the source's ACLs on the link's topics (renamed with the prefix,
// literal and prefixed) and groups reach the target; other topics' ACLs, wildcard ACLs and
// principals outside the filter do not; and without the option nothing is copied.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Admin } from "../../src/client/admin.ts";
import {
  aclKey,
  AclPattern,
  AclPermission,
  AclResource,
  createAcls,
  describeAcls,
  type AclBinding,
} from "../../src/client/acls.ts";
import type { Cluster } from "../../src/client/cluster.ts";
import { commitOffsets } from "../../src/client/group-offsets.ts";
import type { Link } from "../../src/link/link.ts";
import { startTestBroker, type TestBroker } from "../broker/broker-helpers.ts";
import { clusterOf, startTestLink, waitFor } from "./link-helpers.ts";

const READ = 3;
const WRITE = 4;
const AUTHORIZER = { "authorizer.class.name": "ferry", "super.users": "User:ANONYMOUS" };

const acl = (
  resourceType: number,
  resourceName: string,
  principal: string,
  operation = READ,
  patternType: number = AclPattern.LITERAL,
): AclBinding => ({
  resourceType,
  resourceName,
  patternType,
  principal,
  host: "*",
  operation,
  permissionType: AclPermission.ALLOW,
});

describe("ACL sync over a link", () => {
  let source: TestBroker;
  let target: TestBroker;
  let src: Cluster;
  let tgt: Cluster;
  const links: Link[] = [];

  before(async () => {
    [source, target] = await Promise.all([startTestBroker(AUTHORIZER), startTestBroker(AUTHORIZER)]);
    src = clusterOf(source.bootstrap);
    tgt = clusterOf(target.bootstrap);
    await new Admin(src).createTopics(
      ["orders", "orders-eu", "secret-stuff"].map((name) => ({
        name,
        numPartitions: 1,
        replicationFactor: 1,
      })),
    );
    await commitOffsets(src, "billing", [{ topic: "orders", partition: 0, offset: 0n }]);
    await createAcls(src, [
      acl(AclResource.TOPIC, "orders", "User:app-reader"),
      acl(AclResource.TOPIC, "orders", "User:app-writer", WRITE),
      acl(AclResource.TOPIC, "orders-", "User:app-reader", READ, AclPattern.PREFIXED),
      acl(AclResource.TOPIC, "secret-stuff", "User:app-reader"),
      acl(AclResource.TOPIC, "*", "User:app-reader"),
      acl(AclResource.GROUP, "billing", "User:app-reader"),
      acl(AclResource.GROUP, "other-group", "User:app-reader"),
      acl(AclResource.TOPIC, "orders", "User:ops"),
      acl(AclResource.CLUSTER, "kafka-cluster", "User:app-reader", 8),
    ]);
  });
  after(async () => {
    await Promise.allSettled(links.map((l) => l.stop()));
    await Promise.allSettled([src.close(), tgt.close()]);
    await Promise.all([source.destroy(), target.destroy()]);
  });

  test("copies the link's topic and group ACLs with the prefix, filtered by principal", async () => {
    const link = await startTestLink({
      name: "acls",
      source: source.bootstrap,
      target: target.bootstrap,
      prefix: "dc1.",
      filters: { topics: "orders.*", groups: "billing" },
      acls: { sync: true, principals: "User:app-.*" },
    });
    links.push(link);
    const expected = [
      acl(AclResource.TOPIC, "dc1.orders", "User:app-reader"),
      acl(AclResource.TOPIC, "dc1.orders", "User:app-writer", WRITE),
      acl(AclResource.TOPIC, "dc1.orders-", "User:app-reader", READ, AclPattern.PREFIXED),
      acl(AclResource.GROUP, "billing", "User:app-reader"),
    ];
    await waitFor("ACLs on the target", async () => (await describeAcls(tgt)).length >= expected.length);
    // One more round must add nothing (no duplicates, nothing beyond the filter).
    await new Promise((r) => setTimeout(r, 700));
    const got = (await describeAcls(tgt)).map(aclKey).sort();
    assert.deepEqual(got, expected.map(aclKey).sort());
    assert.equal(link.aclSync?.status.created, expected.length);
    await link.stop();
  });

  test("without the option no ACL is copied", async () => {
    const before = (await describeAcls(tgt)).length;
    const link = await startTestLink({
      name: "no-acls",
      source: source.bootstrap,
      target: target.bootstrap,
      prefix: "dc2.",
      filters: { topics: "orders" },
    });
    links.push(link);
    assert.equal(link.aclSync, undefined);
    await new Promise((r) => setTimeout(r, 700));
    assert.equal((await describeAcls(tgt)).length, before);
    await link.stop();
  });
});
