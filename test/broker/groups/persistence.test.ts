// Durable group state: the record format, restarts through a GroupStore, and the file store.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, stat, appendFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode } from "../../../src/protocol/error-codes.ts";
import { DecodeError } from "../../../src/protocol/errors.ts";
import {
  MemoryGroupStore,
  decodeGroupRecord,
  encodeGroupRecord,
  isTxnMarker,
  type GroupRecord,
  type GroupStore,
  type StoredRecord,
} from "../../../src/broker/groups/group-store.ts";
import { FileGroupStore } from "../../../src/broker/groups/file-group-store.ts";
import { FakeTime } from "./fake-time.ts";
import { assignment, formGroup, SESSION_MS, startHarness, subscription, TEST_CONFIG } from "./helpers.ts";

const RECORDS: GroupRecord[] = [
  {
    kind: "offset",
    groupId: "g",
    topic: "t",
    partition: 3,
    value: { offset: 42n, leaderEpoch: 5, metadata: "m", commitTimestampMs: 1000, expireTimestampMs: null },
  },
  {
    kind: "offset",
    groupId: "g",
    topic: "t",
    partition: 4,
    value: { offset: 7n, leaderEpoch: -1, metadata: "", commitTimestampMs: 1000, expireTimestampMs: 5000 },
  },
  { kind: "offset", groupId: "g", topic: "t", partition: 5, value: null },
  {
    kind: "group",
    groupId: "g",
    value: {
      protocolType: "consumer",
      generationId: 3,
      protocolName: "range",
      leaderId: "m1",
      stateTimestampMs: 1234,
      members: [
        {
          memberId: "m1",
          groupInstanceId: "i1",
          clientId: "c",
          clientHost: "/10.0.0.1",
          rebalanceTimeoutMs: 5000,
          sessionTimeoutMs: 10000,
          subscription: subscription(["t"]),
          assignment: assignment({ t: [0] }),
        },
      ],
    },
  },
  { kind: "group", groupId: "g", value: null },
];

test("group store records decode to what was encoded", () => {
  for (const r of RECORDS) assert.deepEqual(decodeGroupRecord(encodeGroupRecord(r)), r);
});

test("an offset commit record is laid out as Kafka's OffsetCommitKey v1 and OffsetCommitValue v3", () => {
  const { key, value } = encodeGroupRecord({
    kind: "offset",
    groupId: "g",
    topic: "t",
    partition: 3,
    value: { offset: 42n, leaderEpoch: 5, metadata: "m", commitTimestampMs: 1000, expireTimestampMs: null },
  });
  assert.equal(key.toString("hex"), "0001" + "000167" + "000174" + "00000003");
  assert.equal(
    value?.toString("hex"),
    "0003" + "000000000000002a" + "00000005" + "00016d" + "00000000000003e8",
  );
});

test("a record with an unknown key version does not decode", () => {
  assert.throws(() => decodeGroupRecord({ key: Buffer.from([0, 9, 0, 0]), value: null }), DecodeError);
});

/** Starts a second coordinator on the same store, later in time, as after a broker restart. */
async function restart(
  store: GroupStore,
  afterMs: number,
  time: FakeTime,
): Promise<Awaited<ReturnType<typeof startHarness>>> {
  return startHarness({ store, time: new FakeTime(time.now() + afterMs) });
}

test("after a restart, committed offsets are back", async () => {
  const h = await startHarness();
  const [m] = await formGroup(h, "g", 1);
  assert.ok(m);
  await h.api.commitOffsets("g", m.generationId, m.memberId, [{ topic: "t", partition: 0, offset: 42n }]);
  await h.api.commitOffsets("solo", -1, "", [{ topic: "t", partition: 1, offset: 7n }]);
  await h.coordinator.close();
  const r = await restart(h.store, 60_000, h.time);
  assert.equal(await r.api.committed("g", "t", 0), 42n);
  assert.equal(await r.api.committed("solo", "t", 1), 7n);
});

test("after a restart, a group whose members do not come back becomes Empty", async () => {
  const h = await startHarness();
  await formGroup(h, "g", 2);
  await h.coordinator.close();
  const r = await restart(h.store, 60_000, h.time);
  await r.time.advance(SESSION_MS);
  const [g] = await r.api.describe(["g"]);
  assert.equal(g?.groupState, "Empty");
  assert.deepEqual(g?.members, []);
});

test("after a restart, a member that keeps heartbeating keeps its generation and assignment", async () => {
  const h = await startHarness();
  const [m] = await formGroup(h, "g", 1);
  assert.ok(m);
  await h.coordinator.close();
  const r = await restart(h.store, 1_000, h.time);
  assert.equal(
    await r.api.heartbeat({ groupId: "g", generationId: m.generationId, memberId: m.memberId }),
    ErrorCode.NONE,
  );
  const sync = await r.api.sync({ groupId: "g", generationId: m.generationId, memberId: m.memberId });
  assert.deepEqual(sync.assignment, assignment({ t: [0] }));
  assert.deepEqual(
    await r.api.commitOffsets("g", m.generationId, m.memberId, [{ topic: "t", partition: 0, offset: 1n }]),
    [ErrorCode.NONE],
  );
});

test("after a restart, a new generation follows the persisted one", async () => {
  const h = await startHarness();
  await formGroup(h, "g", 1);
  await h.time.advance(SESSION_MS);
  await h.coordinator.close();
  const r = await restart(h.store, 1_000, h.time);
  const [m] = await formGroup(r, "g", 1);
  assert.equal(m?.generationId, 3, "generation 1, then 2 when it became Empty, then 3");
});

test("a deleted group stays deleted after a restart", async () => {
  const h = await startHarness();
  await h.api.commitOffsets("s", -1, "", [{ topic: "t", partition: 0, offset: 1n }]);
  await h.api.deleteGroups(["s"]);
  await h.coordinator.close();
  const r = await restart(h.store, 1_000, h.time);
  assert.equal((await r.api.describe(["s"]))[0]?.groupState, "Dead");
  assert.equal(await r.api.committed("s", "t", 0), -1n);
});

test("after a restart, an Empty group's offsets still expire counting from when it became Empty", async () => {
  const retention = TEST_CONFIG.offsetsRetentionMs ?? 0;
  const h = await startHarness();
  const [m] = await formGroup(h, "g", 1);
  assert.ok(m);
  await h.api.commitOffsets("g", m.generationId, m.memberId, [{ topic: "t", partition: 0, offset: 1n }]);
  await h.api.leave({ groupId: "g", members: [{ memberId: m.memberId, groupInstanceId: null }] });
  await h.coordinator.close();
  const r = await restart(h.store, retention, h.time);
  assert.equal(await r.coordinator.cleanupExpiredOffsets(), 1);
});

// ---- FileGroupStore ----

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "ferry-groups-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function loadAll(store: GroupStore): Promise<StoredRecord[]> {
  const out: StoredRecord[] = [];
  for await (const r of store.load()) if (!isTxnMarker(r)) out.push(r);
  return out;
}

const rec = (k: string, v: string | null): StoredRecord => ({
  key: Buffer.from(k),
  value: v === null ? null : Buffer.from(v),
});

test("FileGroupStore loads what was appended before it was reopened", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "groups.log");
    const a = await FileGroupStore.open(path);
    await a.append([rec("k1", "v1"), rec("k2", "v2")]);
    await a.append([rec("k1", "v3")]);
    await a.close();
    const b = await FileGroupStore.open(path);
    assert.deepEqual(await loadAll(b), [rec("k2", "v2"), rec("k1", "v3")]);
    await b.close();
  });
});

test("FileGroupStore drops a torn tail on open and keeps later appends", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "groups.log");
    const a = await FileGroupStore.open(path);
    await a.append([rec("k1", "v1")]);
    await a.close();
    await appendFile(path, Buffer.from([0, 0, 0, 40, 1, 2, 3])); // half a frame, as after a crash
    const b = await FileGroupStore.open(path);
    await b.append([rec("k2", "v2")]);
    await b.close();
    const c = await FileGroupStore.open(path);
    assert.deepEqual(await loadAll(c), [rec("k1", "v1"), rec("k2", "v2")]);
    await c.close();
  });
});

test("FileGroupStore compacts superseded records and tombstones away when it reopens", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "groups.log");
    const a = await FileGroupStore.open(path, { sync: false });
    for (let i = 0; i < 200; i++)
      await a.append([rec("hot", `v${i}`), rec(`gone${i}`, "x"), rec(`gone${i}`, null)]);
    await a.close();
    const before = (await stat(path)).size;
    const b = await FileGroupStore.open(path);
    assert.deepEqual(await loadAll(b), [rec("hot", "v199")]);
    await b.close();
    assert.ok((await stat(path)).size < before / 100);
  });
});

test("a coordinator on a FileGroupStore gets its offsets back after a restart", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "groups.log");
    const first = await FileGroupStore.open(path);
    const h = await startHarness({ store: first });
    await h.api.commitOffsets("s", -1, "", [{ topic: "t", partition: 0, offset: 99n }]);
    await h.coordinator.close();
    await first.close();
    const second = await FileGroupStore.open(path);
    const r = await startHarness({ store: second });
    assert.equal(await r.api.committed("s", "t", 0), 99n);
    await r.coordinator.close();
    await second.close();
  });
});

test("a MemoryGroupStore replays appends in order", async () => {
  const store = new MemoryGroupStore();
  await store.append([rec("a", "1")]);
  await store.append([rec("a", null)]);
  assert.deepEqual(await loadAll(store), [rec("a", "1"), rec("a", null)]);
});
