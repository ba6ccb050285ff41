// The LZ4 block compressor (native/lz4-compress.c) as one WebAssembly instance per thread,
// compiled on first use. Its memory holds a block-sized input area and, after it, an output
// area that grows to the largest output asked for; outputs over KEEP_BYTES get a fresh
// instance afterwards, so one huge batch does not pin its memory for good.
import { LZ4_COMPRESS_WASM } from "./lz4-compress-wasm.ts";

/** The largest block lz4_block takes. */
export const WASM_BLOCK_MAX = 64 * 1024;
/** Bytes the C code may read or write past an area's end (its SLACK). */
const SLACK = 16;
/** How far one block's output may run past its input size before the caller stores it raw. */
export const BLOCK_OVERRUN = Math.ceil(WASM_BLOCK_MAX / 255) + 16 + SLACK;
const KEEP_BYTES = 8 * 1024 * 1024;
const PAGE = 64 * 1024;

interface Exports {
  memory: WebAssembly.Memory;
  lz4_block: (src: number, n: number, dst: number) => number;
  __heap_base: WebAssembly.Global;
}

/** A view of the instance's memory, valid until the next areas() call. */
export interface Lz4Areas {
  memory: Buffer;
  /** Where a block to compress is copied (WASM_BLOCK_MAX bytes). */
  input: number;
  /** Start of the output area, of at least the size asked for. */
  output: number;
  /** Compresses memory[input, input + n) to memory[dst...); returns the compressed size. */
  block(n: number, dst: number): number;
}

let compiled: WebAssembly.Module | undefined;
let instance: { exports: Exports; areas: Lz4Areas } | undefined;

function instantiate(): { exports: Exports; areas: Lz4Areas } {
  compiled ??= new WebAssembly.Module(Buffer.from(LZ4_COMPRESS_WASM, "base64"));
  const exports = new WebAssembly.Instance(compiled, {}).exports as unknown as Exports;
  const input = alignUp(exports.__heap_base.value as number, 16);
  const output = alignUp(input + WASM_BLOCK_MAX + SLACK, 16);
  const lz4Block = exports.lz4_block;
  const areas: Lz4Areas = {
    memory: Buffer.from(exports.memory.buffer),
    input,
    output,
    block: (n, dst) => lz4Block(input, n, dst),
  };
  return { exports, areas };
}

function alignUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/** The compressor's areas with at least outputBytes (plus slack) of output room. */
export function lz4Areas(outputBytes: number): Lz4Areas {
  instance ??= instantiate();
  const { exports, areas } = instance;
  const need = areas.output + outputBytes + SLACK;
  const have = exports.memory.buffer.byteLength;
  if (need > have) {
    exports.memory.grow(Math.ceil((need - have) / PAGE));
    areas.memory = Buffer.from(exports.memory.buffer);
  }
  return areas;
}

/** Called after a compression is copied out: drops an instance grown past KEEP_BYTES. */
export function lz4AreasDone(): void {
  if (instance !== undefined && instance.exports.memory.buffer.byteLength > KEEP_BYTES) instance = undefined;
}
