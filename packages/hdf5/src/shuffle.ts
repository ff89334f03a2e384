/**
 * HDF5's shuffle filter (H5Zshuffle.c): byte `b` of element `i` moves to `b * n + i` (n = whole
 * elements); trailing bytes that make no whole element stay at the end, unchanged. The layout
 * is blosc's and numcodecs' too, so the shuffle itself is core's (`@arraystore/core/shuffle`,
 * WebAssembly SIMD where it can). What is HDF5's own is below: unshuffling runs of a chunk
 * straight into the caller's buffer, for direct reads of chunks SIMD cannot take.
 */
import { byteShuffle, byteUnshuffle } from "@arraystore/core/shuffle";

// The word paths below read and write elements as host-order words: little-endian hosts only.
const LITTLE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Shuffles `src` (elements of `size` bytes) into a new buffer. */
export function shuffle(src: Uint8Array, size: number): Uint8Array {
	const out = new Uint8Array(src.length);
	byteShuffle(src, out, Math.max(1, size));
	return out;
}

/** Reverses {@link shuffle}. */
export function unshuffle(src: Uint8Array, size: number): Uint8Array {
	return unshuffleInto(src, size, new Uint8Array(src.length));
}

/**
 * Reverses {@link shuffle} into `dst` (at least `src.length` bytes, not overlapping `src`);
 * returns the `src.length` bytes of `dst` written.
 */
export function unshuffleInto(
	src: Uint8Array,
	size: number,
	dst: Uint8Array,
): Uint8Array {
	const out = dst.subarray(0, src.length);
	byteUnshuffle(src, out, Math.max(1, size));
	return out;
}

// Transposes the 4×4 bytes of words a, b, c, d (one plane each) into four elements' words:
// byte k of every plane lands in word k, plane a lowest. Written into w[o], w[o+step], ...
function transpose4(
	a: number,
	b: number,
	c: number,
	d: number,
	w: Uint32Array,
	o: number,
	step: number,
): void {
	// Pairs first: t0 = a0 b0 a2 b2, t1 = a1 b1 a3 b3 (and u0, u1 from c and d).
	const t0 = (a & 0x00ff00ff) | ((b & 0x00ff00ff) << 8);
	const t1 = ((a >>> 8) & 0x00ff00ff) | (b & 0xff00ff00);
	const u0 = (c & 0x00ff00ff) | ((d & 0x00ff00ff) << 8);
	const u1 = ((c >>> 8) & 0x00ff00ff) | (d & 0xff00ff00);
	w[o] = (t0 & 0xffff) | (u0 << 16);
	w[o + step] = (t1 & 0xffff) | (u1 << 16);
	w[o + 2 * step] = (t0 >>> 16) | (u0 & 0xffff0000);
	w[o + 3 * step] = (t1 >>> 16) | (u1 & 0xffff0000);
}

/**
 * True when {@link unshuffleWordRun} can read `src`, a shuffled buffer of `n` elements of
 * `size` bytes: 4- or 8-byte elements, `n` a multiple of 4, word-aligned.
 */
export function wordUnshufflable(
	src: Uint8Array,
	size: number,
	n: number,
): boolean {
	return (
		LITTLE &&
		(size === 4 || size === 8) &&
		n % 4 === 0 &&
		src.byteOffset % 4 === 0 &&
		src.length >= n * size
	);
}

/**
 * Unshuffles elements `4 * first` to `4 * (first + words)` of a shuffled buffer whose planes
 * are `planes` (`q` words each, see {@link wordUnshufflable}) straight into `dst` (words of
 * the destination) from element `at`: one run of a chunk placed into the caller's buffer
 * without an intermediate chunk.
 */
export function unshuffleWordRun(
	planes: Uint32Array,
	size: number,
	q: number,
	first: number,
	words: number,
	dst: Uint32Array,
	at: number,
): void {
	const end = first + words;
	if (size === 4) {
		for (let i = first, o = at; i < end; i++, o += 4)
			transpose4(
				planes[i] as number,
				planes[q + i] as number,
				planes[2 * q + i] as number,
				planes[3 * q + i] as number,
				dst,
				o,
				1,
			);
		return;
	}
	for (let i = first, o = 2 * at; i < end; i++, o += 8) {
		transpose4(
			planes[i] as number,
			planes[q + i] as number,
			planes[2 * q + i] as number,
			planes[3 * q + i] as number,
			dst,
			o,
			2,
		);
		transpose4(
			planes[4 * q + i] as number,
			planes[5 * q + i] as number,
			planes[6 * q + i] as number,
			planes[7 * q + i] as number,
			dst,
			o + 1,
			2,
		);
	}
}
