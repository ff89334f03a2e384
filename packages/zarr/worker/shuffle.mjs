// Byte shuffle and bit shuffle of one block, as c-blosc 1.x lays them out (and numcodecs'
// Shuffle filter, which is the byte shuffle of the whole chunk):
//
// - byte shuffle: byte j of every element, then byte j+1 …; trailing bytes that do not make a
//   whole element stay where they are. Core's (`@arraystore/core/shuffle`, SIMD where it can),
//   which HDF5's shuffle filter shares; re-exported here;
// - bit shuffle (bitshuffle's bshuf_trans_bit_elem): for byte j of the element and bit i of
//   that byte, one row of n/8 bytes holding that bit of every element (element e in bit e%8 of
//   byte e/8), rows ordered j*8+i. c-blosc 1.x only bit-shuffles when the element count is a
//   multiple of 8 and copies the block unchanged otherwise.
//
// Plain JavaScript: it runs in the codec worker threads too.
export { byteShuffle, byteUnshuffle } from "@arraystore/core/shuffle";

// Transposes the 8×8 bit matrix held in two words (row k = byte k, column i = bit i):
// bitshuffle's TRANS_BIT_8X8 on the 64-bit little-endian value, split in 32-bit halves.
// Returns the high half; the low half is left in TRANS[0].
const TRANS = new Uint32Array(1);
function transpose8(lo0, hi0) {
	let lo = lo0;
	let hi = hi0;
	let t = (lo ^ (lo >>> 7)) & 0x00aa00aa;
	lo = lo ^ t ^ (t << 7);
	t = (hi ^ (hi >>> 7)) & 0x00aa00aa;
	hi = hi ^ t ^ (t << 7);
	t = (lo ^ (lo >>> 14)) & 0x0000cccc;
	lo = lo ^ t ^ (t << 14);
	t = (hi ^ (hi >>> 14)) & 0x0000cccc;
	hi = hi ^ t ^ (t << 14);
	t = (lo ^ ((lo >>> 28) | (hi << 4))) & 0xf0f0f0f0;
	lo ^= t;
	hi ^= t >>> 4;
	TRANS[0] = lo;
	return hi >>> 0;
}

/** Bit-shuffles one block of `ts`-byte elements (c-blosc 1.x rules). */
export function bitShuffle(src, dst, ts) {
	const n = Math.floor(src.length / ts);
	if (n % 8 !== 0 || n === 0) {
		dst.set(src);
		return;
	}
	const rowLen = n >>> 3;
	for (let j = 0; j < ts; j++) {
		const rows = j * 8 * rowLen;
		for (let g = 0; g < rowLen; g++) {
			const e = 8 * g * ts + j;
			const lo =
				src[e] |
				(src[e + ts] << 8) |
				(src[e + 2 * ts] << 16) |
				(src[e + 3 * ts] << 24);
			const hi =
				src[e + 4 * ts] |
				(src[e + 5 * ts] << 8) |
				(src[e + 6 * ts] << 16) |
				(src[e + 7 * ts] << 24);
			const h = transpose8(lo, hi);
			const l = TRANS[0];
			const o = rows + g;
			dst[o] = l;
			dst[o + rowLen] = l >>> 8;
			dst[o + 2 * rowLen] = l >>> 16;
			dst[o + 3 * rowLen] = l >>> 24;
			dst[o + 4 * rowLen] = h;
			dst[o + 5 * rowLen] = h >>> 8;
			dst[o + 6 * rowLen] = h >>> 16;
			dst[o + 7 * rowLen] = h >>> 24;
		}
	}
	const whole = n * ts;
	if (whole < src.length) dst.set(src.subarray(whole), whole);
}

/** Inverse of {@link bitShuffle}. */
export function bitUnshuffle(src, dst, ts) {
	const n = Math.floor(src.length / ts);
	if (n % 8 !== 0 || n === 0) {
		dst.set(src);
		return;
	}
	const rowLen = n >>> 3;
	for (let j = 0; j < ts; j++) {
		const rows = j * 8 * rowLen;
		for (let g = 0; g < rowLen; g++) {
			const o = rows + g;
			const lo =
				src[o] |
				(src[o + rowLen] << 8) |
				(src[o + 2 * rowLen] << 16) |
				(src[o + 3 * rowLen] << 24);
			const hi =
				src[o + 4 * rowLen] |
				(src[o + 5 * rowLen] << 8) |
				(src[o + 6 * rowLen] << 16) |
				(src[o + 7 * rowLen] << 24);
			const h = transpose8(lo, hi);
			const l = TRANS[0];
			const e = 8 * g * ts + j;
			dst[e] = l;
			dst[e + ts] = l >>> 8;
			dst[e + 2 * ts] = l >>> 16;
			dst[e + 3 * ts] = l >>> 24;
			dst[e + 4 * ts] = h;
			dst[e + 5 * ts] = h >>> 8;
			dst[e + 6 * ts] = h >>> 16;
			dst[e + 7 * ts] = h >>> 24;
		}
	}
	const whole = n * ts;
	if (whole < src.length) dst.set(src.subarray(whole), whole);
}
