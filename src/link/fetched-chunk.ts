// What a fetch loop hands a writer: one partition's whole batches from one Fetch answer.
import type { ChunkPlan } from "./batch-plan.ts";
import type { PartitionReplica } from "./partition-replica.ts";

export interface FetchedChunk {
  replica: PartitionReplica;
  /** The replica's generation when fetched; a writer ignores chunks of an older one. */
  generation: number;
  /** The offset the fetch asked for. */
  fetchOffset: number;
  /** Whole batches only (a trailing partial batch is cut off). */
  records: Buffer;
  plan: ChunkPlan;
  sourceLogStart: number;
}

/** A writer of fetched chunks to the target: mirror appends or translated produces. */
export interface ChunkWriter {
  write(chunks: readonly FetchedChunk[]): Promise<void>;
}
