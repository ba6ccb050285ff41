// Which segments retention may delete, oldest first, by Kafka's three rules applied in
// Kafka's order: segments wholly below logStartOffset, then the oldest while the log exceeds
// retention.bytes, then those whose newest record is older than retention.ms. A segment is
// only deletable if everything in it is written (below the high watermark), and the empty
// active segment never is.
import { deletesByRetention } from "./log-config.ts";
import type { LogState } from "./log-state.ts";
import type { Segment } from "./segment.ts";

/** The newest timestamp of a segment for retention, the file's mtime when its batches carry none. */
export function largestTimestamp(seg: Segment): number {
  return seg.maxTimestamp >= 0 ? seg.maxTimestamp : seg.lastModified;
}

/** How many leading segments retention would delete now. Loads the time indexes it needs. */
export async function deletableSegmentCount(state: LogState): Promise<number> {
  const segments = state.segments.slice();
  const config = state.config;
  const n = segments.length;
  const upperBound = (i: number): number =>
    i + 1 < n ? (segments[i + 1] as Segment).baseOffset : state.nextOffset;
  const deletable = (i: number): boolean => {
    const seg = segments[i] as Segment;
    if (i === n - 1 && seg.size === 0) return false;
    return state.highWatermark >= upperBound(i);
  };

  let count = 0;
  while (
    count < n - 1 &&
    (segments[count + 1] as Segment).baseOffset <= state.logStartOffset &&
    deletable(count)
  ) {
    count++;
  }
  if (!deletesByRetention(config)) return count;

  if (config.retentionBytes >= 0) {
    let size = 0;
    for (let i = count; i < n; i++) size += (segments[i] as Segment).size;
    if (size >= config.retentionBytes) {
      let diff = size - config.retentionBytes;
      while (count < n && deletable(count) && diff - (segments[count] as Segment).size >= 0) {
        diff -= (segments[count] as Segment).size;
        count++;
      }
    }
  }

  if (config.retentionMs >= 0) {
    const now = state.now();
    while (count < n && deletable(count)) {
      const seg = segments[count] as Segment;
      await seg.loadIndexes();
      if (!(now - largestTimestamp(seg) > config.retentionMs)) break;
      count++;
    }
  }
  return count;
}
