import { python, skipNote } from "@arraystore/conformance";
import { describe, expect, it } from "vitest";
import { LZ4_SLACK, lz4Wasm, UNSHUFFLE_SLACK } from "../src/lz4-wasm.js";

// The WebAssembly LZ4 block decoder of small blosc reads: blocks written by C LZ4 (numcodecs)
// decode to the bytes Python compressed; malformed blocks answer -1 without touching memory
// outside the output region and its spare bytes.

const hasNc = python.has("numpy", "numcodecs");
if (!hasNc)
	skipNote(
		"zarr WebAssembly LZ4 on numcodecs blocks",
		python.missing("numpy", "numcodecs"),
	);

// Data with literal runs, matches of every offset from 1 to 40, long runs of one byte, long
// matches far back, and incompressible bytes; each as (raw hex, LZ4 block hex).
const BLOCKS = `
import numpy as np, numcodecs, json
rng = np.random.default_rng(7)
cases = []
cases.append(np.zeros(70000, np.uint8))
cases.append(rng.integers(0, 256, 50000, dtype=np.uint8))
for off in list(range(1, 41)) + [63, 64, 65, 100, 1000]:
    pat = rng.integers(0, 256, off, dtype=np.uint8)
    cases.append(np.concatenate([rng.integers(0, 256, 7, dtype=np.uint8), np.tile(pat, 3000 // off + 2)[:3000 + off % 17]]))
mixed = np.concatenate([np.concatenate([rng.integers(0, 256, int(rng.integers(0, 40)), dtype=np.uint8), np.full(int(rng.integers(4, 300)), int(rng.integers(0, 3)), np.uint8)]) for _ in range(800)])
cases.append(mixed)
floats = (np.arange(40000, dtype="<f4") * 0.37 - 11).view(np.uint8)
cases.append(floats[0::4].copy()); cases.append(floats[2::4].copy())
cases.append(np.frombuffer(b"abc", np.uint8))
codec = numcodecs.LZ4(1)
out = [[c.tobytes().hex(), bytes(codec.encode(c))[4:].hex()] for c in cases]
print(json.dumps(out))
`;

const fromHex = (h: string): Uint8Array =>
	new Uint8Array(Buffer.from(h, "hex"));

// Decodes `block` into a region of `n` bytes laid out with sentinel bytes around it; answers
// the decoder's result and the output, after checking nothing outside [out, out + n + slack)
// changed.
function decode(
	block: Uint8Array,
	n: number,
): { result: number; out: Uint8Array; at: number } {
	const w = lz4Wasm();
	if (!w) throw new Error("no WebAssembly");
	const at = Math.ceil((block.length + LZ4_SLACK + 64) / 16) * 16;
	const end = at + n + LZ4_SLACK;
	let heap = w.heap(end + 256);
	heap.fill(0xa5, 0, end + 256);
	heap.set(block, 0);
	const result = w.decode(0, block.length, at, at + n);
	heap = w.heap(0);
	for (let i = block.length + LZ4_SLACK; i < at; i++)
		if (heap[i] !== 0xa5)
			throw new Error(`byte ${i} before the output changed`);
	for (let i = end; i < end + 256; i++)
		if (heap[i] !== 0xa5) throw new Error(`byte ${i} after the output changed`);
	return { result, out: heap.slice(at, at + n), at };
}

describe("zarr: WebAssembly LZ4", () => {
	it("loads (Node has WebAssembly SIMD)", () => {
		expect(lz4Wasm()).not.toBeNull();
	});

	it("answers -1 for malformed blocks and never writes outside its output", () => {
		const bad: [string, number[], number][] = [
			["empty", [], 10],
			["literal run past the input", [0x50, 1, 2], 10],
			["literal run past the output", [0x50, 1, 2, 3, 4, 5], 3],
			["offset 0", [0x10, 65, 0, 0], 10],
			["offset before the start", [0x10, 65, 2, 0, 0x00], 10],
			["match past the output", [0x1f, 65, 1, 0, 200, 0x10, 66], 20],
			["length bytes run out", [0xf0, 255, 255], 1000],
			["offset cut short", [0x10, 65, 1], 10],
			["ends after a match", [0x10, 65, 1, 0], 10],
		];
		for (const [what, bytes, n] of bad)
			expect(decode(new Uint8Array(bytes), n).result, what).toBe(-1);
		// Random blocks: whatever they decode to stays inside.
		let seed = 12345;
		const next = () => {
			seed = (seed * 1103515245 + 12345) >>> 0;
			return seed >>> 16;
		};
		for (let k = 0; k < 300; k++) {
			const b = new Uint8Array(1 + (next() % 200)).map(() => next() & 0xff);
			const n = next() % 3000;
			const { result, at } = decode(b, n);
			expect(result === -1 || (result >= at && result <= at + n)).toBe(true);
		}
	});

	it.skipIf(!hasNc)(
		"stops once the bytes up to `stop` are decoded, and they are right",
		() => {
			const cases = python.run<[string, string][]>(BLOCKS);
			const w = lz4Wasm();
			if (!w) throw new Error("no WebAssembly");
			let early = 0;
			for (const [rawHex, blockHex] of cases) {
				const raw = fromHex(rawHex);
				const block = fromHex(blockHex);
				const at = Math.ceil((block.length + LZ4_SLACK) / 16) * 16;
				for (const stop of [1, 17, raw.length >> 1, raw.length - 1]) {
					if (stop <= 0 || stop >= raw.length) continue;
					let heap = w.heap(at + raw.length + LZ4_SLACK);
					heap.set(block, 0);
					heap.fill(0, at, at + raw.length);
					const end = w.decode(0, block.length, at, at + raw.length, at + stop);
					heap = w.heap(0);
					expect(
						end,
						`${raw.length} bytes, stop ${stop}`,
					).toBeGreaterThanOrEqual(at + stop);
					expect(end).toBeLessThanOrEqual(at + raw.length);
					expect(
						Buffer.from(heap.subarray(at, end)).equals(
							Buffer.from(raw.subarray(0, end - at)),
						),
						`${raw.length} bytes, stop ${stop}`,
					).toBe(true);
					if (end < at + raw.length) early++;
				}
			}
			// Most blocks hold many sequences: decoding stopped well before their end.
			expect(early).toBeGreaterThan(20);
		},
	);

	it.skipIf(!hasNc)(
		"decodes blocks C LZ4 wrote to the bytes compressed",
		() => {
			const cases = python.run<[string, string][]>(BLOCKS);
			expect(cases.length).toBeGreaterThan(40);
			for (const [rawHex, blockHex] of cases) {
				const raw = fromHex(rawHex);
				const { result, out, at } = decode(fromHex(blockHex), raw.length);
				expect(result - at, `${raw.length} bytes`).toBe(raw.length);
				expect(
					Buffer.from(out).equals(Buffer.from(raw)),
					`${raw.length} bytes`,
				).toBe(true);
			}
		},
	);

	it("unshuffles ranges of a block's 4-byte elements from their planes, writing nowhere else", () => {
		const w = lz4Wasm();
		if (!w) throw new Error("no WebAssembly");
		for (const n of [1, 15, 16, 17, 100, 4099]) {
			for (const [i0, i1] of [
				[0, n],
				[Math.min(3, n - 1), Math.min(n, 40)],
				[Math.max(0, n - 5), n],
				[n >> 1, (n >> 1) + 1],
			] as const) {
				const src = 256;
				const dst = src + 4 * n + 64;
				const end = dst + 4 * (i1 - i0) + UNSHUFFLE_SLACK;
				let heap = w.heap(end + 256);
				heap.fill(0xa5, 0, end + 256);
				const planes = new Uint8Array(4 * n).map(
					(_, i) => (i * 37 + (i >> 5)) & 0xff,
				);
				heap.set(planes, src);
				w.unshuffle4(src, n, i0, i1, dst);
				heap = w.heap(0);
				const want: number[] = [];
				for (let i = i0; i < i1; i++)
					for (let p = 0; p < 4; p++) want.push(planes[p * n + i] as number);
				expect(
					[...heap.subarray(dst, dst + 4 * (i1 - i0))],
					`${n} [${i0}, ${i1})`,
				).toEqual(want);
				expect([...heap.subarray(src, src + 4 * n)]).toEqual([...planes]);
				for (let i = end; i < end + 256; i++) expect(heap[i]).toBe(0xa5);
			}
		}
	});
});
