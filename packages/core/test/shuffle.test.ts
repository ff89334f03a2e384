// The byte shuffle (threads/shuffle.mjs) and its SIMD part (threads/shuffle-simd.mjs) against a
// byte-by-byte reference of the layout HDF5's shuffle filter and blosc share: byte j of element
// i at j * n + i, trailing bytes of no whole element unchanged at the end.
import { describe, expect, it } from "vitest";
import { byteShuffle, byteUnshuffle } from "../threads/shuffle.mjs";
import { simdShuffle, simdUnshuffled } from "../threads/shuffle-simd.mjs";

function reference(src: Uint8Array, size: number): Uint8Array {
	const n = Math.floor(src.length / size);
	const out = src.slice();
	for (let i = 0; i < n; i++)
		for (let j = 0; j < size; j++) out[j * n + i] = src[i * size + j] as number;
	return out;
}

function random(bytes: number, seed: number): Uint8Array {
	const out = new Uint8Array(bytes);
	let x = seed >>> 0 || 1;
	for (let i = 0; i < bytes; i++) {
		x ^= x << 13;
		x ^= x >>> 17;
		x ^= x << 5;
		out[i] = x & 0xff;
	}
	return out;
}

describe("byteShuffle", () => {
	// Element sizes and counts for every path: SIMD (4, 8 × 16k), word loops (n % 4 = 0),
	// byte loops, trailing bytes, one element, and views that start off a word boundary.
	for (const size of [1, 2, 3, 4, 8, 16]) {
		for (const n of [0, 1, 5, 12, 64, 1000]) {
			for (const [offset, tail] of [
				[0, 0],
				[1, 0],
				[0, 3],
			] as const) {
				it(`${n} elements of ${size} bytes (offset ${offset}, ${tail} trailing bytes)`, () => {
					const bytes = n * size + tail;
					const plain = random(bytes + offset, bytes * 7 + size).subarray(
						offset,
					);
					const want = reference(plain, size);
					const out = new Uint8Array(bytes + offset).subarray(offset);
					byteShuffle(plain, out, size);
					expect(Buffer.compare(out, want)).toBe(0);
					const back = new Uint8Array(bytes + offset).subarray(offset);
					byteUnshuffle(want, back, size);
					expect(Buffer.compare(back, plain)).toBe(0);
				});
			}
		}
	}
});

describe("shuffle-simd", () => {
	for (const size of [4, 8]) {
		for (const n of [16, 48, 4096, 65536]) {
			it(`shuffles and unshuffles ${n} elements of ${size} bytes as the reference does`, () => {
				const plain = random(n * size, n * 31 + size);
				const shuffled = reference(plain, size);
				const out = new Uint8Array(plain.length);
				expect(simdShuffle(plain, out, size, false)).toBe(true);
				expect(Buffer.compare(out, shuffled)).toBe(0);
				const back = new Uint8Array(plain.length);
				expect(simdShuffle(shuffled, back, size, true)).toBe(true);
				expect(Buffer.compare(back, plain)).toBe(0);
				const view = simdUnshuffled(shuffled, size);
				expect(view).not.toBeNull();
				expect(Buffer.compare(view as Uint8Array, plain)).toBe(0);
			});
		}
	}

	it("refuses, touching nothing, what it cannot do", () => {
		const dst = new Uint8Array(4 * 1024 * 1024 + 128).fill(7);
		// Other element sizes, counts that are not a multiple of 16, more than 4 MiB.
		for (const [bytes, size] of [
			[64, 2],
			[96, 3],
			[4 * 20, 4],
			[8 * 24, 8],
			[4 * 1024 * 1024 + 64, 4],
		] as const) {
			const src = random(bytes, bytes);
			expect(simdShuffle(src, dst, size, false)).toBe(false);
			expect(simdShuffle(src, dst, size, true)).toBe(false);
			expect(simdUnshuffled(src, size)).toBeNull();
		}
		expect(dst.every((v) => v === 7)).toBe(true);
	});

	it("returns a view of its own memory that the next call reuses", () => {
		const a = reference(random(4 * 64, 1), 4);
		const b = reference(random(4 * 64, 2), 4);
		const first = simdUnshuffled(a, 4) as Uint8Array;
		const copy = first.slice();
		simdUnshuffled(b, 4);
		expect(Buffer.compare(first, copy)).not.toBe(0);
	});
});
