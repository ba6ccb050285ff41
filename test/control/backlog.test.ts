// Backlog progress: records copied of records to copy, rate and ETA, and its end.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BacklogTracker } from "../../src/control/backlog.ts";
import { progressLine } from "../../src/cli/progress-display.ts";

test("a backlog over the threshold is tracked from where the link was until it catches up", () => {
  const tracker = new BacklogTracker(1_000);
  assert.equal(tracker.update([{ key: "t/0", writtenOffset: 0, sourceEnd: 500 }], 0), undefined);
  const first = tracker.update([{ key: "t/0", writtenOffset: 0, sourceEnd: 10_000 }], 1_000);
  assert.deepEqual([first?.toCopy, first?.copied, first?.doneAt], [10_000, 0, null]);
  const mid = tracker.update([{ key: "t/0", writtenOffset: 4_000, sourceEnd: 10_000 }], 3_000);
  assert.deepEqual([mid?.copied, mid?.rate, mid?.etaMs], [4_000, 2_000, 3_000]);
  assert.equal(
    progressLine("edge2-to-core", mid ?? assert.fail()),
    "edge2-to-core [##########--------------]  40% 4.0k/10k records 2.0k rec/s ETA 3s",
  );
  const done = tracker.update([{ key: "t/0", writtenOffset: 10_000, sourceEnd: 10_050 }], 6_000);
  assert.equal(done?.doneAt, 6_000);
  assert.equal(progressLine("l", done ?? assert.fail()), "l: backlog copied: 10k records in 5s");
  assert.equal(tracker.update([{ key: "t/0", writtenOffset: 10_050, sourceEnd: 10_050 }], 7_000), undefined);
});
