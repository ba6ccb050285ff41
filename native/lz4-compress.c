// LZ4 block compressor for Kafka's LZ4 frames, built to WebAssembly by scripts/build-wasm.ts
// (clang --target=wasm32, no libc). JavaScript copies the data into the module's memory and
// calls lz4_block for each block (at most 64 KiB) with where its output goes. Nothing is
// allocated per call, which is the point: the napi compressor this replaced returned a fresh
// external buffer per block, and those buffers kept V8's collector busy.
//
// Greedy single-probe matching in the manner of LZ4's fast mode: a hash table of positions,
// a skip that grows over incompressible input, matches extended both ways. Output follows the block format's end rules: the last 5 bytes are literals and no
// match starts within the last 12.
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

#define BLOCK_MAX 65536
#define HASH_LOG 12
#define MIN_MATCH 4
#define LAST_LITERALS 5
#define MF_LIMIT 12
#define SKIP_TRIGGER 6
// Room for 8-byte reads and wild copies past an area's end.
#define SLACK 16

// Positions in a block fit 16 bits, so the table holds u16. Entries left by earlier blocks
// are harmless: a candidate is used only if it lies before the current position and its
// bytes match, so it always refers to this block's data.
static u16 table[1 << HASH_LOG];

static inline u32 read32(const u8 *p) {
  u32 v;
  __builtin_memcpy(&v, p, 4);
  return v;
}

static inline u64 read64(const u8 *p) {
  u64 v;
  __builtin_memcpy(&v, p, 8);
  return v;
}

static inline void write64(u8 *p, u64 v) { __builtin_memcpy(p, &v, 8); }

// Hashes the 5 bytes at p. Five rather than four: on text-like data (hex, ids) 4-byte hashes
// find many 4-byte matches that save next to nothing and cost a sequence each; five made the
// compressor twice as fast on the client benchmark's values, for 6% more output than four
// (about what lz4-napi's encoder writes for them).
static inline u32 hash5(const u8 *p) { return (u32)(((read64(p) << 24) * 889523592379ull) >> (64 - HASH_LOG)); }

// Copies n bytes in 8-byte steps; may write up to 7 bytes past dst + n (output has SLACK).
static inline void wild_copy(u8 *dst, const u8 *src, u32 n) {
  u8 *end = dst + n;
  do {
    write64(dst, read64(src));
    dst += 8;
    src += 8;
  } while (dst < end);
}

// Writes a length's continuation bytes (255 each, then the rest) after a saturated nibble.
static inline u8 *write_length(u8 *op, u32 rest) {
  while (rest >= 255) {
    *op++ = 255;
    rest -= 255;
  }
  *op++ = (u8)rest;
  return op;
}

// Writes n_lits literals from lits and, when match_len > 0, the match after them.
static inline u8 *sequence(u8 *op, const u8 *lits, u32 n_lits, u32 offset, u32 match_len) {
  u8 *token = op++;
  u32 m = match_len == 0 ? 0 : match_len - MIN_MATCH;
  *token = (u8)(((n_lits >= 15 ? 15 : n_lits) << 4) | (m >= 15 ? 15 : m));
  if (n_lits >= 15) op = write_length(op, n_lits - 15);
  if (n_lits > 0) {
    wild_copy(op, lits, n_lits);
    op += n_lits;
  }
  if (match_len == 0) return op;
  *op++ = (u8)offset;
  *op++ = (u8)(offset >> 8);
  if (m >= 15) op = write_length(op, m - 15);
  return op;
}

// Length of the common run of a and b, stopping at limit (b < a, limit is past a).
static inline u32 common_length(const u8 *a, const u8 *b, const u8 *limit) {
  const u8 *start = a;
  while (a + 8 <= limit) {
    u64 diff = read64(a) ^ read64(b);
    if (diff != 0) return (u32)(a - start) + (u32)(__builtin_ctzll(diff) >> 3);
    a += 8;
    b += 8;
  }
  while (a < limit && *a == *b) {
    a++;
    b++;
  }
  return (u32)(a - start);
}

// Compresses src[0..n) (n <= 64 KiB, readable up to SLACK bytes further) into dst, which has
// room for n + n / 255 + 16 + SLACK bytes; returns the compressed size, or 0xffffffff if n is
// too large. The caller stores the block raw if the size is not smaller than n.
__attribute__((export_name("lz4_block"))) u32 lz4_block(const u8 *src, u32 n, u8 *dst) {
  u8 *op = dst;
  u32 anchor = 0;
  if (n > BLOCK_MAX) return 0xffffffffu;
  if (n >= MF_LIMIT + 1) {
    const u32 mf_limit = n - MF_LIMIT;
    const u8 *match_limit = src + n - LAST_LITERALS;
    u32 ip = 1;
    table[hash5(src)] = 0;
    for (;;) {
      // Find a match: probe one candidate per position, stepping faster the longer none is found.
      u32 ref;
      u32 attempts = 1u << SKIP_TRIGGER;
      for (;;) {
        if (ip > mf_limit) goto last_literals;
        u32 seq = read32(src + ip);
        u32 h = hash5(src + ip);
        ref = table[h];
        table[h] = (u16)ip;
        if (ref < ip && read32(src + ref) == seq) break;
        ip += attempts++ >> SKIP_TRIGGER;
      }
      // Extend backwards over literals not yet emitted, then forwards.
      while (ip > anchor && ref > 0 && src[ip - 1] == src[ref - 1]) {
        ip--;
        ref--;
      }
      u32 len = MIN_MATCH + common_length(src + ip + MIN_MATCH, src + ref + MIN_MATCH, match_limit);
      op = sequence(op, src + anchor, ip - anchor, ip - ref, len);
      ip += len;
      anchor = ip;
      if (ip > mf_limit) break;
      // Remember a position inside the match, as the reference compressor does.
      table[hash5(src + ip - 2)] = (u16)(ip - 2);
    }
  }
last_literals:
  op = sequence(op, src + anchor, n - anchor, 0, 0);
  return (u32)(op - dst);
}
