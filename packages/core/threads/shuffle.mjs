// Byte shuffle of `ts`-byte elements, the layout HDF5's shuffle filter, numcodecs' Shuffle and
// c-blosc 1.x share: byte j of every element (plane j), then byte j+1 …; trailing bytes that
// make no whole element stay where they are, unchanged. 4- and 8-byte elements in multiples of
// 16 go through WebAssembly SIMD (shuffle-simd.mjs, about 0.1-0.3 ms per MiB); the rest through
// word-at-a-time loops where the views allow (about 0.5-1 ms per MiB), else byte by byte.
//
// Plain JavaScript (`@arraystore/core/shuffle`): the Zarr codec worker threads load it without
// a build; the HDF5 filter uses it on the main thread.
import { simdShuffle } from "./shuffle-simd.mjs";

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
