// Byte shuffle and bit shuffle of one block, as c-blosc 1.x lays them out (and numcodecs'
// Shuffle filter, which is the byte shuffle of the whole chunk):
//
// - byte shuffle: byte j of every element, then byte j+1 …; trailing bytes that do not make a
//   whole element stay where they are;
// - bit shuffle (bitshuffle's bshuf_trans_bit_elem): for byte j of the element and bit i of
//   that byte, one row of n/8 bytes holding that bit of every element (element e in bit e%8 of
//   byte e/8), rows ordered j*8+i. c-blosc 1.x only bit-shuffles when the element count is a
//   multiple of 8 and copies the block unchanged otherwise.
//
// 4- and 8-byte elements in blocks of 16 go through WebAssembly SIMD
// (@arraystore/core/shuffle-simd, about 0.1-0.3 ms per MiB); the rest through word-at-a-time
// loops where the views allow (about 0.5-1 ms per MiB). Plain JavaScript: it runs in the codec worker threads too.
import { simdShuffle } from "@arraystore/core/shuffle-simd";

function aligned(...views) {
	return views.every((v) => v.byteOffset % 4 === 0);
}

// 4-byte elements, 4 at a time: one 32-bit word in and out per element and plane.
function shuffle4(src, dst, n) {
	const q = n >>> 2;
	const s = new Uint32Array(src.buffer, src.byteOffset, q * 4);
	const d = new Uint32Array(dst.buffer, dst.byteOffset, q * 4);
	for (let i = 0; i < q; i++) {
		const a = s[4 * i];
		const b = s[4 * i + 1];
		const c = s[4 * i + 2];
		const e = s[4 * i + 3];
		d[i] = (a & 0xff) | ((b & 0xff) << 8) | ((c & 0xff) << 16) | (e << 24);
		d[q + i] =
			((a >>> 8) & 0xff) |
			(b & 0xff00) |
			((c & 0xff00) << 8) |
			((e & 0xff00) << 16);
		d[2 * q + i] =
			((a >>> 16) & 0xff) |
			((b >>> 8) & 0xff00) |
			(c & 0xff0000) |
			((e & 0xff0000) << 8);
		d[3 * q + i] =
			(a >>> 24) |
			((b >>> 16) & 0xff00) |
			((c >>> 8) & 0xff0000) |
			(e & 0xff000000);
	}
}

function unshuffle4(src, dst, n) {
	const q = n >>> 2;
	const s = new Uint32Array(src.buffer, src.byteOffset, q * 4);
	const d = new Uint32Array(dst.buffer, dst.byteOffset, q * 4);
	for (let i = 0; i < q; i++) {
		const p0 = s[i];
		const p1 = s[q + i];
		const p2 = s[2 * q + i];
		const p3 = s[3 * q + i];
		d[4 * i] =
			(p0 & 0xff) | ((p1 & 0xff) << 8) | ((p2 & 0xff) << 16) | (p3 << 24);
		d[4 * i + 1] =
			((p0 >>> 8) & 0xff) |
			(p1 & 0xff00) |
			((p2 & 0xff00) << 8) |
			((p3 & 0xff00) << 16);
		d[4 * i + 2] =
			((p0 >>> 16) & 0xff) |
			((p1 >>> 8) & 0xff00) |
			(p2 & 0xff0000) |
			((p3 & 0xff0000) << 8);
		d[4 * i + 3] =
			(p0 >>> 24) |
			((p1 >>> 16) & 0xff00) |
			((p2 >>> 8) & 0xff0000) |
			(p3 & 0xff000000);
	}
}

// Any element size, 4 elements at a time: four byte loads, one word store (and back).
function shuffleWords(src, dst, n, ts) {
	const q = n >>> 2;
	const d = new Uint32Array(dst.buffer, dst.byteOffset, (n * ts) >>> 2);
	for (let j = 0; j < ts; j++) {
		const base = (j * n) >>> 2;
		let s = j;
		for (let g = 0; g < q; g++, s += 4 * ts)
			d[base + g] =
				src[s] |
				(src[s + ts] << 8) |
				(src[s + 2 * ts] << 16) |
				(src[s + 3 * ts] << 24);
	}
}

function unshuffleWords(src, dst, n, ts) {
	const q = n >>> 2;
	const s = new Uint32Array(src.buffer, src.byteOffset, (n * ts) >>> 2);
	for (let j = 0; j < ts; j++) {
		const base = (j * n) >>> 2;
		let d = j;
		for (let g = 0; g < q; g++, d += 4 * ts) {
			const w = s[base + g];
			dst[d] = w;
			dst[d + ts] = w >>> 8;
			dst[d + 2 * ts] = w >>> 16;
			dst[d + 3 * ts] = w >>> 24;
		}
	}
}

/** Byte-shuffles `src` into `dst` (same length) for elements of `ts` bytes. */
export function byteShuffle(src, dst, ts) {
	const n = Math.floor(src.length / ts);
	const whole = n * ts;
	if (ts <= 1 || n === 0) {
		dst.set(src);
		return;
	}
	if (simdShuffle(src, dst, ts, false)) return;
	if (n % 4 === 0 && aligned(src, dst)) {
		if (ts === 4) shuffle4(src, dst, n);
		else shuffleWords(src, dst, n, ts);
	} else {
		for (let j = 0; j < ts; j++) {
			const base = j * n;
			for (let i = 0; i < n; i++) dst[base + i] = src[i * ts + j];
		}
	}
	if (whole < src.length) dst.set(src.subarray(whole), whole);
}

/** Inverse of {@link byteShuffle}. */
export function byteUnshuffle(src, dst, ts) {
	const n = Math.floor(src.length / ts);
	const whole = n * ts;
	if (ts <= 1 || n === 0) {
		dst.set(src);
		return;
	}
	if (simdShuffle(src, dst, ts, true)) return;
	if (n % 4 === 0 && aligned(src, dst)) {
		if (ts === 4) unshuffle4(src, dst, n);
		else unshuffleWords(src, dst, n, ts);
	} else {
		for (let j = 0; j < ts; j++) {
			const base = j * n;
			for (let i = 0; i < n; i++) dst[i * ts + j] = src[base + i];
		}
	}
	if (whole < src.length) dst.set(src.subarray(whole), whole);
}

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
