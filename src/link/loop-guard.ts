// Loop prevention without touching payloads: batches that a Ferry link wrote into the source
// cluster carry that link's producer id, and every link records its producer ids in the state
// topic of the cluster it writes to before writing with them. So a batch whose producer id is
// registered in the source cluster's link state came from another cluster: never copy it back.
import { isControl, iterateBatches, readBatchHeader } from "../protocol/records/batch-header.ts";
import type { LinkStateStore } from "./link-state-store.ts";
import { linkProducerIds } from "./link-registry.ts";

const MAX_ORDINARY = 100_000;

export class LoopGuard {
  readonly #sourceState: LinkStateStore;
  #linkIds = new Set<bigint>();
  /** Producer ids seen in source data and known not to be links' (as of the last refresh). */
  readonly #ordinary = new Set<bigint>();

  constructor(sourceState: LinkStateStore) {
    this.#sourceState = sourceState;
    this.#linkIds = linkProducerIds(sourceState);
  }

  isLinkWrite(producerId: bigint): boolean {
    return this.#linkIds.has(producerId);
  }

  /**
   * Makes isLinkWrite exact for the batches in `records`: a producer id never seen before is
   * looked up in the source's link state (read to its end), because a link registers an id
   * before it writes with it.
   */
  async prepare(records: Buffer): Promise<void> {
    let unknown = false;
    for (const span of iterateBatches(records)) {
      if (span.truncated) break;
      const h = readBatchHeader(records, span.start);
      if (h.producerId < 0n || isControl(h.attributes)) continue;
      if (!this.#linkIds.has(h.producerId) && !this.#ordinary.has(h.producerId)) {
        unknown = true;
        break;
      }
    }
    if (!unknown) return;
    await this.#sourceState.refresh();
    this.#linkIds = linkProducerIds(this.#sourceState);
    if (this.#ordinary.size > MAX_ORDINARY) this.#ordinary.clear();
    for (const span of iterateBatches(records)) {
      if (span.truncated) break;
      const h = readBatchHeader(records, span.start);
      if (h.producerId >= 0n && !this.#linkIds.has(h.producerId)) this.#ordinary.add(h.producerId);
    }
  }
}
