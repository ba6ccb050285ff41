// The DR drills on embedded clusters (brokers as child processes, a real kill -9): what each
// scenario must guarantee, checked by sequence number.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { runDrill } from "../../src/control/drill.ts";

describe("drills", { timeout: 90_000 }, () => {
  test("switchover loses nothing, duplicates nothing and skips nothing; groups resume at exact offsets", async () => {
    const r = await runDrill({ scenario: "switchover", loadMs: 800, afterRecords: 200 });
    assert.equal(r.rpoRecords, 0);
    assert.equal(r.failover.rpoRecords, 0, "the failover's own RPO report");
    assert.equal(r.duplicates, 0);
    assert.equal(r.skipped, 0);
    assert.equal(r.logDuplicates, 0);
    assert.ok(r.acknowledged > 0 && r.consumed === r.acknowledged);
    const group = r.failover.groups.find((g) => g.group === "drill-consumers");
    assert.ok(group !== undefined && group.partitions.length > 0);
    for (const p of group.partitions)
      assert.equal(p.after, p.sourceOffset, "mirror offsets translate to themselves");
  });

  test("dr loses at most what the link had not copied at the kill; consumers skip nothing and re-read only what the link had not copied", async () => {
    const r = await runDrill({ scenario: "dr", loadMs: 800, afterRecords: 200 });
    assert.ok(r.unreplicatedAtKill !== null);
    assert.ok(
      r.rpoRecords <= r.unreplicatedAtKill,
      `${r.rpoRecords} lost > ${r.unreplicatedAtKill} uncopied at the kill`,
    );
    assert.equal(r.skipped, 0);
    // Re-reads are exactly the records processed on the primary beyond the offsets DR held after the failover.
    assert.equal(r.duplicates, r.groupSyncWindow);
    // Group offsets travelled in the link's __consumer_offsets stream (the drill's polling backstop is 5 s),
    // and DR held at least every commit the link had copied before the kill: the re-reads are
    // bounded by what it had not (0 when it had caught up), measured from the link's side.
    assert.equal(r.groupCommitStream, "tailing");
    assert.ok(r.groupCommitsUncopiedAtKill !== null && r.groupSyncWindow !== null);
    assert.ok(
      r.groupSyncWindow <= r.groupCommitsUncopiedAtKill,
      `${r.groupSyncWindow} re-read > ${r.groupCommitsUncopiedAtKill} processed beyond the commits the link had copied`,
    );
    assert.ok(r.rtoMs > 0);
    assert.equal(r.failover.sourceReachable, false);
  });

  test("failback keeps every diverged record in a side topic and switches back without loss", async () => {
    const r = await runDrill({ scenario: "failback", loadMs: 800, afterRecords: 200 });
    assert.ok(r.failback !== null);
    assert.ok((r.divergedRecords ?? 0) > 0, "the paused link left records on the old primary only");
    assert.equal(r.divergedKept, true);
    // Everything lost at the disaster is what diverged (and was kept), nothing else.
    assert.ok(r.rpoRecords <= (r.divergedRecords ?? 0));
    assert.ok(r.rpoRecords <= (r.unreplicatedAtKill ?? 0));
    assert.equal(r.skipped, 0);
    assert.equal(r.duplicates, r.groupSyncWindow, "the planned switch back adds no re-reads");
    assert.ok((r.groupSyncWindow ?? 0) <= (r.groupCommitsUncopiedAtKill ?? 0));
  });
});
