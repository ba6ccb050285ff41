// How encoders get the memory they write a batch into: by default fresh, from Node; a producer
// that knows when a batch is done passes one that hands out pooled memory.

/** Returns an uninitialised buffer of exactly `size` bytes. */
export type Allocate = (size: number) => Buffer;

export const allocateUnsafe: Allocate = (size) => Buffer.allocUnsafe(size);
