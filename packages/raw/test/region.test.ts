import { open, readFile, writeFile } from "node:fs/promises";
import { tempDir } from "@arraystore/conformance";
import { parseDType } from "@arraystore/core";
import { describe, expect, it } from "vitest";
import { loadMmap, openRawRegion } from "../src/index.js";
import { WindowedMapping } from "../src/mapping.js";
import { regionRuns } from "../src/runs.js";
import { IO_PATHS, naiveBox, naiveScatter, noise } from "./helpers.js";

function randomBox(
	shape: readonly number[],
	r: () => number,
): { start: number[]; shape: number[] } {
	const start = shape.map((s) => Math.floor(r() * s));
	return {
		start,
		shape: shape.map(
			(s, d) => 1 + Math.floor(r() * (s - (start[d] as number))),
		),
	};
}
function prng(seed: number): () => number {
	let a = seed;
	return () => {
		a = (a * 1103515245 + 12345) % 2147483648;
		return a / 2147483648;
	};
}

describe("raw: runs", () => {
	it("merges whole inner dimensions into one run", () => {
		const full = regionRuns([10, 4, 5], "C", 2, 0, {
			start: [3, 0, 0],
			shape: [2, 4, 5],
		});
		expect([full.count, full.runLength]).toEqual([1, 80]);
		const rows = regionRuns([10, 4, 5], "C", 2, 7, {
			start: [3, 1, 0],
			shape: [2, 2, 5],
		});
		expect([rows.count, rows.runLength]).toEqual([2, 20]);
		expect(rows.next() && rows.fileOffset).toBe(7 + (3 * 20 + 5) * 2);
		const f = regionRuns([10, 4], "F", 8, 0, { start: [0, 1], shape: [10, 2] });
		expect([f.count, f.runLength]).toEqual([1, 160]);
		const zero = regionRuns([], "C", 4, 12, { start: [], shape: [] });
		expect([zero.count, zero.runLength, zero.next(), zero.fileOffset]).toEqual([
			1,
			4,
			true,
			12,
		]);
		expect(
			regionRuns([3, 0], "C", 4, 0, { start: [0, 0], shape: [3, 0] }).count,
		).toBe(0);
	});
});

describe("raw: region driver", () => {
	for (const io of IO_PATHS) {
		for (const order of ["C", "F"] as const) {
			it(`${io.name}: ${order}-order boxes follow the file bytes, across 4 KiB windows`, async () => {
				await using tmp = await tempDir();
				const file = tmp.join("a.bin");
				const shape = [37, 23, 11];
				const itemsize = 4;
				const offset = 1000;
				const nbytes = shape.reduce((a, b) => a * b, 1) * itemsize;
				const bytes = noise(offset + nbytes + 77, 9);
				await writeFile(file, bytes);
				const full = bytes.slice(offset, offset + nbytes);
				const d = await openRawRegion(file, {
					mode: "r+",
					dtype: parseDType("<u4"),
					shape,
					order,
					offset,
					mmap: io.mmap,
					windowBytes: 4096,
					maxWindows: 2,
				});
				expect(d.mapped).toBe(io.mmap);
				const r = prng(order === "C" ? 1 : 2);
				for (let i = 0; i < 40; i++) {
					const box = randomBox(shape, r);
					const out = new Uint8Array(
						box.shape.reduce((a, b) => a * b, 1) * itemsize,
					);
					await d.read(box, out);
					expect(out).toEqual(
						naiveBox(full, shape, itemsize, order, box.start, box.shape),
					);
				}
				// Writes: mirror them into a model of the file, then compare the whole file.
				const model = bytes.slice();
				for (let i = 0; i < 25; i++) {
					const box = randomBox(shape, r);
					const n = box.shape.reduce((a, b) => a * b, 1);
					const src = noise(n * itemsize, 100 + i);
					await d.write?.(box, src);
					const region = model.subarray(offset, offset + nbytes);
					naiveScatter(
						region,
						shape,
						itemsize,
						order,
						box.start,
						box.shape,
						src,
					);
				}
				await d.flush({ durable: true });
				expect(new Uint8Array(await readFile(file))).toEqual(model);
				await d.close();
			});
		}

		it(`${io.name}: r+ writes reach the file at flush; close is idempotent; use after close is ClosedError`, async () => {
			await using tmp = await tempDir();
			const file = tmp.join("b.bin");
			await writeFile(file, new Uint8Array(64));
			const d = await openRawRegion(file, {
				mode: "r+",
				dtype: parseDType(">i2"),
				shape: [4, 8],
				order: "C",
				offset: 0,
				mmap: io.mmap,
			});
			await d.write?.(
				{ start: [1, 2], shape: [2, 2] },
				new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]),
			);
			await d.flush();
			const bytes = new Uint8Array(await readFile(file));
			expect([...bytes.subarray(20, 24)]).toEqual([1, 2, 3, 4]);
			expect([...bytes.subarray(36, 40)]).toEqual([5, 6, 7, 8]);
			await Promise.all([d.close(), d.close()]);
			await d.close();
			await expect(
				d.read({ start: [0, 0], shape: [1, 1] }, new Uint8Array(2)),
			).rejects.toMatchObject({ code: "CLOSED" });
			await expect(
				d.write?.({ start: [0, 0], shape: [1, 1] }, new Uint8Array(2)),
			).rejects.toMatchObject({ code: "CLOSED" });
		});

		it(`${io.name}: refuses bad regions and wrong buffer sizes; honours an aborted signal`, async () => {
			await using tmp = await tempDir();
			const file = tmp.join("c.bin");
			await writeFile(file, new Uint8Array(64));
			const d = await openRawRegion(file, {
				mode: "r",
				dtype: parseDType("<f8"),
				shape: [2, 4],
				order: "F",
				offset: 0,
				mmap: io.mmap,
			});
			await expect(
				d.read({ start: [1, 0], shape: [2, 1] }, new Uint8Array(16)),
			).rejects.toMatchObject({ code: "INVALID_SELECTION" });
			await expect(
				d.read({ start: [0], shape: [1] }, new Uint8Array(8)),
			).rejects.toMatchObject({ code: "INVALID_SELECTION" });
			await expect(
				d.read({ start: [0, 0], shape: [1, 1] }, new Uint8Array(9)),
			).rejects.toMatchObject({ code: "SHAPE_MISMATCH" });
			const ac = new AbortController();
			ac.abort();
			await expect(
				d.read({ start: [0, 0], shape: [1, 1] }, new Uint8Array(8), ac.signal),
			).rejects.toMatchObject({ name: "AbortError" });
			await d.close();
		});

		it(`${io.name}: 0-d and empty arrays`, async () => {
			await using tmp = await tempDir();
			const file = tmp.join("z.bin");
			await writeFile(file, new Uint8Array([0, 0, 0x80, 0x3f]));
			const z = await openRawRegion(file, {
				mode: "r",
				dtype: parseDType("<f4"),
				shape: [],
				order: "C",
				offset: 0,
				mmap: io.mmap,
			});
			const out = new Uint8Array(4);
			await z.read({ start: [], shape: [] }, out);
			expect(new Float32Array(out.buffer)[0]).toBe(1);
			expect(z.info.blockShape).toEqual([]);
			await z.close();
			const e = await openRawRegion(file, {
				mode: "r",
				dtype: parseDType("<f4"),
				shape: [0, 5],
				order: "C",
				offset: 4,
				mmap: io.mmap,
			});
			await e.read({ start: [0, 0], shape: [0, 5] }, new Uint8Array(0));
			await e.close();
		});
	}

	it("slab blocks are about 8 MiB along axis 0 (C) or the last axis (F)", async () => {
		await using tmp = await tempDir();
		const file = tmp.join("s.bin");
		const fh = await open(file, "w");
		await fh.truncate(64 * 1024 * 1024);
		await fh.close();
		const c = await openRawRegion(file, {
			mode: "r",
			dtype: parseDType("<f8"),
			shape: [4096, 2048],
			order: "C",
			offset: 0,
		});
		expect(c.info.blockShape).toEqual([512, 2048]);
		await c.close();
		const f = await openRawRegion(file, {
			mode: "r",
			dtype: parseDType("<f8"),
			shape: [4096, 2048],
			order: "F",
			offset: 0,
		});
		expect(f.info.blockShape).toEqual([4096, 256]);
		await f.close();
		const wide = await openRawRegion(file, {
			mode: "r",
			dtype: parseDType("<f8"),
			shape: [2, 4 * 1024 * 1024],
			order: "C",
			offset: 0,
		});
		expect(wide.info.blockShape).toEqual([1, 1024 * 1024]);
		await wide.close();
	});
});

describe("raw: windowed mapping", () => {
	it("keeps a bounded number of page-aligned windows and copies across them", async () => {
		const lib = await loadMmap();
		expect(lib).not.toBeNull();
		if (!lib) return;
		await using tmp = await tempDir();
		const file = tmp.join("w.bin");
		const bytes = noise(10 * 4096 + 123, 5);
		await writeFile(file, bytes);
		const fh = await open(file, "r");
		const m = new WindowedMapping(
			lib,
			fh,
			bytes.length,
			{ writable: false, private: false },
			file,
			{ windowBytes: 4096 + 100, maxWindows: 3 },
		);
		expect(m.windowBytes).toBe(4096);
		const r = prng(3);
		for (let i = 0; i < 50; i++) {
			const start = Math.floor(r() * bytes.length);
			const len = Math.floor(r() * (bytes.length - start));
			const out = new Uint8Array(len);
			await m.read(
				regionRuns([bytes.length], "C", 1, 0, { start: [start], shape: [len] }),
				out,
			);
			expect(out).toEqual(bytes.subarray(start, start + len));
			expect(m.liveWindows).toBeLessThanOrEqual(3);
		}
		await expect(
			m.read(
				regionRuns([bytes.length + 1], "C", 1, 0, {
					start: [0],
					shape: [bytes.length + 1],
				}),
				new Uint8Array(bytes.length + 1),
			),
		).rejects.toMatchObject({
			code: "OUT_OF_BOUNDS",
		});
		await m.release();
		expect(m.liveWindows).toBe(0);
		await fh.close();
	});
});
