import { open, readFile, writeFile } from "node:fs/promises";
import { tempDir } from "@arraystore/conformance";
import { describe, expect, it } from "vitest";
import { loadMmap, type MmapLib } from "../src/index.js";
import { WindowedMapping } from "../src/mapping.js";
import { regionRuns } from "../src/runs.js";
import { naiveBox, naiveScatter, noise } from "./helpers.js";

function prng(seed: number): () => number {
	let a = seed;
	return () => {
		a = (a * 1103515245 + 12345) % 2147483648;
		return a / 2147483648;
	};
}

/** The same strided copy, one byte at a time: the reference for the native one. */
function referenceCopy(
	from: Uint8Array,
	fromOffset: number,
	to: Uint8Array,
	toOffset: number,
	run: number,
	counts: readonly number[],
	fs: readonly number[],
	ts: readonly number[],
): void {
	const idx = counts.map(() => 0);
	const total = counts.reduce((a, b) => a * b, 1);
	for (let i = 0; i < total; i++) {
		let f = fromOffset;
		let t = toOffset;
		idx.forEach((x, d) => {
			f += x * (fs[d] as number);
			t += x * (ts[d] as number);
		});
		for (let k = 0; k < run; k++) to[t + k] = from[f + k] as number;
		for (let d = counts.length - 1; d >= 0; d--) {
			idx[d] = (idx[d] as number) + 1;
			if ((idx[d] as number) < (counts[d] as number)) break;
			idx[d] = 0;
		}
	}
}

async function patchedLib(): Promise<
	MmapLib & { copyStrided: NonNullable<MmapLib["copyStrided"]> }
> {
	const lib = await loadMmap();
	if (!lib?.copyStrided)
		throw new Error(
			"mmap-io was built without copyStrided: the patch in patches/mmap-io@1.1.7.patch is not applied",
		);
	return lib as MmapLib & {
		copyStrided: NonNullable<MmapLib["copyStrided"]>;
	};
}

describe("raw: native strided copy (mmap-io patch)", () => {
	it("copies N-d run geometries like a byte-by-byte reference, into SharedArrayBuffers too", async () => {
		const { copyStrided } = await patchedLib();
		const r = prng(7);
		for (let i = 0; i < 200; i++) {
			const dims = Math.floor(r() * 4);
			const counts = Array.from(
				{ length: dims },
				() => 1 + Math.floor(r() * 5),
			);
			const run = 1 + Math.floor(r() * 9);
			// Source strides at least the span of the inner dimensions (runs never overlap).
			const fs: number[] = [];
			let acc = run + Math.floor(r() * 4);
			for (let d = dims - 1; d >= 0; d--) {
				fs[d] = acc;
				acc = acc * (counts[d] as number) + Math.floor(r() * 5);
			}
			const ts: number[] = [];
			let tacc = run;
			for (let d = dims - 1; d >= 0; d--) {
				ts[d] = tacc;
				tacc *= counts[d] as number;
			}
			const fromOffset = Math.floor(r() * 6);
			const toOffset = Math.floor(r() * 6);
			const from = noise(fromOffset + acc + run, i);
			const shared = new Uint8Array(new SharedArrayBuffer(toOffset + tacc + 3));
			const expected = new Uint8Array(shared.length);
			copyStrided(from, fromOffset, shared, toOffset, run, counts, fs, ts);
			referenceCopy(from, fromOffset, expected, toOffset, run, counts, fs, ts);
			expect(shared).toEqual(expected);
		}
	});

	it("refuses boxes past either view and bad arguments before copying a byte", async () => {
		const { copyStrided } = await patchedLib();
		const from = noise(64, 1);
		const to = new Uint8Array(16);
		const bad: [string, () => void][] = [
			["source end", () => copyStrided(from, 60, to, 0, 8, [1], [0], [0])],
			["target end", () => copyStrided(from, 0, to, 0, 4, [5], [4], [4])],
			[
				"last run",
				() => copyStrided(from, 0, to, 0, 2, [2, 5], [32, 7], [8, 2]),
			],
			["negative", () => copyStrided(from, -1, to, 0, 1, [], [], [])],
			["fraction", () => copyStrided(from, 0.5, to, 0, 1, [], [], [])],
			["unsafe", () => copyStrided(from, 0, to, 0, 1, [2 ** 60], [1], [0])],
			[
				"overflow",
				() =>
					copyStrided(
						from,
						0,
						to,
						0,
						1,
						[2 ** 40, 2 ** 40],
						[2 ** 40, 2 ** 12],
						[0, 0],
					),
			],
			["lengths", () => copyStrided(from, 0, to, 0, 1, [1, 1], [1], [1, 1])],
			[
				"not views",
				() =>
					copyStrided([1, 2] as unknown as Uint8Array, 0, to, 0, 1, [], [], []),
			],
		];
		for (const [what, call] of bad) {
			expect(call, what).toThrow(/copyStrided/);
			expect(
				to.every((b) => b === 0),
				what,
			).toBe(true);
		}
		// An empty box copies nothing, whatever its offsets.
		copyStrided(from, 1000, to, 1000, 4, [0, 3], [1, 1], [1, 1]);
		expect(to.every((b) => b === 0)).toBe(true);
	});

	for (const order of ["C", "F"] as const) {
		it(`a mapping reads and writes ${order}-order boxes the same with and without it`, async () => {
			const lib = await patchedLib();
			let calls = 0;
			const counted: MmapLib = {
				...lib,
				copyStrided: (...args: Parameters<typeof lib.copyStrided>) => {
					calls++;
					lib.copyStrided(...args);
				},
			};
			const plain: MmapLib = { ...lib, copyStrided: undefined };
			await using tmp = await tempDir();
			const shape = [29, 17, 13];
			const itemsize = 2;
			const offset = 4096 * 3 + 10;
			const nbytes = shape.reduce((a, b) => a * b, 1) * itemsize;
			const bytes = noise(offset + nbytes + 5, 3);
			for (const [name, l] of [
				["native", counted],
				["js", plain],
			] as const) {
				const file = tmp.join(`${name}.bin`);
				await writeFile(file, bytes);
				const fh = await open(file, "r+");
				// Windows of 16 KiB: most boxes sit in one window, some straddle two.
				const m = new WindowedMapping(
					l,
					fh,
					bytes.length,
					{ writable: true, private: false },
					file,
					{ windowBytes: 16384, maxWindows: 2 },
				);
				const r = prng(11);
				const model = bytes.slice();
				const region = model.subarray(offset, offset + nbytes);
				for (let i = 0; i < 60; i++) {
					const start = shape.map((s) => Math.floor(r() * s));
					const box = shape.map(
						(s, d) => 1 + Math.floor(r() * (s - (start[d] as number))),
					);
					const n = box.reduce((a, b) => a * b, 1) * itemsize;
					const runs = () =>
						regionRuns(shape, order, itemsize, offset, { start, shape: box });
					if (i % 3 === 2) {
						const src = noise(n, 50 + i);
						await m.write(runs(), src);
						naiveScatter(region, shape, itemsize, order, start, box, src);
					} else {
						const out = new Uint8Array(n);
						await m.read(runs(), out);
						expect(out).toEqual(
							naiveBox(region, shape, itemsize, order, start, box),
						);
					}
				}
				await m.release();
				await fh.close();
				const written = new Uint8Array(await readFile(file));
				expect(written).toEqual(model);
			}
			// The native path was taken (not only the run-by-run fallback).
			expect(calls).toBeGreaterThan(10);
		});
	}
});
