/**
 * HDF5's shuffle filter (H5Zshuffle.c): byte `b` of element `i` moves to `b * n + i` (n = whole
 * elements); trailing bytes that make no whole element stay at the end, unchanged. One or fewer
 * elements, or 1-byte elements, are copied as they are. 4- and 8-byte elements in multiples of
 * 16 go through core's WebAssembly SIMD shuffle (the one blosc's shuffle uses in the Zarr
 * package); the rest through the JavaScript loops here.
 */
import { simdShuffle } from "@arraystore/core/shuffle-simd";

// The word paths below read and write elements as host-order words: little-endian hosts only.
const LITTLE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Shuffles `src` (elements of `size` bytes) into a new buffer. */
export function shuffle(src: Uint8Array, size: number): Uint8Array {
	const n = Math.floor(src.length / Math.max(1, size));
	const out = new Uint8Array(src.length);
	if (simdShuffle(src, out, size, false)) return out;
	if (size <= 1 || n <= 1) {
		out.set(src);
		return out;
	}
	const whole = n * size;
	if (LITTLE && size === 4 && src.byteOffset % 4 === 0) {
		// Words are read once and split: several times faster than byte gathers.
		const w = new Uint32Array(src.buffer, src.byteOffset, n);
		const n2 = 2 * n;
		const n3 = 3 * n;
		for (let i = 0; i < n; i++) {
			const v = w[i] as number;
			out[i] = v;
			out[n + i] = v >>> 8;
			out[n2 + i] = v >>> 16;
			out[n3 + i] = v >>> 24;
		}
	} else if (LITTLE && size === 2 && src.byteOffset % 2 === 0) {
		const w = new Uint16Array(src.buffer, src.byteOffset, n);
		for (let i = 0; i < n; i++) {
			const v = w[i] as number;
			out[i] = v;
			out[n + i] = v >>> 8;
		}
	} else {
		for (let b = 0; b < size; b++) {
			const o = b * n;
			for (let i = 0, j = b; i < n; i++, j += size)
				out[o + i] = src[j] as number;
		}
	}
	out.set(src.subarray(whole), whole);
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
	const n = Math.floor(src.length / Math.max(1, size));
	const out = dst.subarray(0, src.length);
	if (simdShuffle(src, out, size, true)) return out;
	if (size <= 1 || n <= 1) {
		out.set(src);
		return out;
	}
	const whole = n * size;
	if (
		LITTLE &&
		(size === 4 || size === 8) &&
		n % 4 === 0 &&
		src.byteOffset % 4 === 0 &&
		out.byteOffset % 4 === 0
	) {
		unshuffleWords(src, size, n, out);
	} else if (LITTLE && size === 4 && out.byteOffset % 4 === 0) {
		const w = new Uint32Array(out.buffer, out.byteOffset, n);
		const n2 = 2 * n;
		const n3 = 3 * n;
		for (let i = 0; i < n; i++)
			w[i] =
				((src[i] as number) |
					((src[n + i] as number) << 8) |
					((src[n2 + i] as number) << 16) |
					((src[n3 + i] as number) << 24)) >>>
				0;
	} else if (LITTLE && size === 2 && out.byteOffset % 2 === 0) {
		const w = new Uint16Array(out.buffer, out.byteOffset, n);
		for (let i = 0; i < n; i++)
			w[i] = (src[i] as number) | ((src[n + i] as number) << 8);
	} else {
		for (let b = 0; b < size; b++) {
			const o = b * n;
			for (let i = 0, j = b; i < n; i++, j += size)
				out[j] = src[o + i] as number;
		}
	}
	out.set(src.subarray(whole), whole);
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

// Unshuffles 4- or 8-byte elements (n a multiple of 4, both buffers word-aligned) a word
// per plane at a time: one load per output word instead of four byte loads.
function unshuffleWords(
	src: Uint8Array,
	size: number,
	n: number,
	out: Uint8Array,
): void {
	const q = n >>> 2; // words per plane
	const p = new Uint32Array(src.buffer, src.byteOffset, q * size);
	const w = new Uint32Array(out.buffer, out.byteOffset, n * (size >>> 2));
	if (size === 4) {
		for (let i = 0, o = 0; i < q; i++, o += 4)
			transpose4(
				p[i] as number,
				p[q + i] as number,
				p[2 * q + i] as number,
				p[3 * q + i] as number,
				w,
				o,
				1,
			);
		return;
	}
	for (let i = 0, o = 0; i < q; i++, o += 8) {
		transpose4(
			p[i] as number,
			p[q + i] as number,
			p[2 * q + i] as number,
			p[3 * q + i] as number,
			w,
			o,
			2,
		);
		transpose4(
			p[4 * q + i] as number,
			p[5 * q + i] as number,
			p[6 * q + i] as number,
			p[7 * q + i] as number,
			w,
			o + 1,
			2,
		);
	}
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
