import { open, stat } from "node:fs/promises";
import { python, skipNote, tempDir } from "@arraystore/conformance";
import {
	type ArrayStore,
	type DriverCreateOptions,
	parseDType,
} from "@arraystore/core";
import { createRegistry } from "@arraystore/core/node";
import { describe, expect, it } from "vitest";
import { openRawRegion } from "../src/index.js";
import { adapterFor, IO_PATHS, noise } from "./helpers.js";

const GiB = 2 ** 30;
const ROW = 1024; // f8 elements per row: 8 KiB rows
const SHAPE = [(6 * GiB) / (ROW * 8), ROW];

function createOpts(): DriverCreateOptions {
	return {
		path: "",
		dtype: parseDType("<f8"),
		shape: SHAPE,
		order: "C",
		offset: 0,
		exclusive: false,
		adapterOptions: { sidecar: false },
	};
}

// Cheap equality (vitest's deep equality allocates, which would blur the memory measurement).
function same(a: Uint8Array, b: Uint8Array | undefined): boolean {
	return b !== undefined && Buffer.compare(a, b) === 0;
}

async function pread(
	file: string,
	position: number,
	length: number,
): Promise<Uint8Array> {
	const fh = await open(file, "r");
	try {
		const buf = new Uint8Array(length);
		const { bytesRead } = await fh.read(buf, 0, length, position);
		expect(bytesRead).toBe(length);
		return buf;
	} finally {
		await fh.close();
	}
}

describe("raw: files and offsets past 4 GiB", () => {
	for (const io of IO_PATHS) {
		it(`${io.name}: a sparse 6 GiB file is written and read near its end with little resident memory`, async () => {
			await using tmp = await tempDir();
			const file = tmp.join("big.dat");
			const rows = SHAPE[0] as number;
			const rowBytes = ROW * 8;
			// Boxes: the last rows, rows straddling 4 GiB (a window boundary), one row in each GiB.
			const boxes = [
				{ row: rows - 3, count: 3 },
				{ row: (4 * GiB) / rowBytes - 2, count: 5 },
				...[0, 1, 2, 3, 4, 5].map((g) => ({
					row: (g * GiB) / rowBytes + 17 + g,
					count: 1,
				})),
			];
			const rssBefore = process.memoryUsage().rss;
			const d = await adapterFor(io.mmap).create(file, createOpts());
			const st = await stat(file);
			expect(st.size).toBe(6 * GiB);
			expect(st.blocks * 512).toBeLessThan(16 * 1024 * 1024); // sparse
			const written = boxes.map((b, i) => noise(b.count * rowBytes, 1000 + i));
			for (const [i, b] of boxes.entries()) {
				await d.write?.(
					{ start: [b.row, 0], shape: [b.count, ROW] },
					written[i] as Uint8Array,
				);
			}
			// An element box across the 4 GiB boundary, read back element-wise (one column).
			const column = new Uint8Array(5 * 8);
			await d.read(
				{ start: [(4 * GiB) / rowBytes - 2, 7], shape: [5, 1] },
				column,
			);
			const straddle = written[1] as Uint8Array;
			for (let r = 0; r < 5; r++)
				expect(
					same(
						column.subarray(r * 8, r * 8 + 8),
						straddle.subarray(r * rowBytes + 56, r * rowBytes + 64),
					),
				).toBe(true);
			for (const [i, b] of boxes.entries()) {
				const out = new Uint8Array(b.count * rowBytes);
				await d.read({ start: [b.row, 0], shape: [b.count, ROW] }, out);
				expect(same(out, written[i])).toBe(true);
			}
			// Untouched bytes near the end read as zeros.
			const zeros = new Uint8Array(rowBytes);
			await d.read({ start: [rows - 4, 0], shape: [1, ROW] }, zeros);
			expect(zeros.every((x) => x === 0)).toBe(true);
			await d.flush?.();
			const grown = process.memoryUsage().rss - rssBefore;
			await d.close();
			// The file holds the writes (positional reads, independent of the mapping).
			for (const [i, b] of boxes.entries()) {
				expect(await pread(file, b.row * rowBytes, b.count * rowBytes)).toEqual(
					written[i],
				);
			}
			expect(grown).toBeLessThan(64 * 1024 * 1024);
			process.stderr.write(
				`[raw] ${io.name}: 6 GiB sparse file, RSS growth ${(grown / 1024 / 1024).toFixed(1)} MB\n`,
			);

			if (!python.has("numpy")) {
				skipNote("numpy reads the 6 GiB file", python.missing("numpy"));
				return;
			}
			const got = python.run<string[]>(
				`import numpy as np, base64
a = np.memmap(INPUT["file"], dtype="<f8", mode="r", shape=tuple(INPUT["shape"]))
print(json.dumps([base64.b64encode(np.ascontiguousarray(a[r:r+c]).tobytes()).decode() for r, c in INPUT["boxes"]]))`,
				{ file, shape: SHAPE, boxes: boxes.map((b) => [b.row, b.count]) },
			);
			for (const [i, b64] of got.entries())
				expect(new Uint8Array(Buffer.from(b64, "base64"))).toEqual(written[i]);
		});

		it(`${io.name}: a region at an unaligned offset past 5 GiB`, async () => {
			await using tmp = await tempDir();
			const file = tmp.join("far.bin");
			const offset = 5 * GiB + 4096 + 3;
			const dtype = parseDType(">i4");
			const d = await openRawRegion(file, {
				mode: "w+",
				dtype,
				shape: [3, 5],
				order: "F",
				offset,
				mmap: io.mmap,
			});
			expect((await stat(file)).size).toBe(offset + 60);
			const data = noise(60, 42);
			await d.write?.({ start: [0, 0], shape: [3, 5] }, data);
			const box = new Uint8Array(2 * 2 * 4);
			await d.read({ start: [1, 3], shape: [2, 2] }, box);
			// F order: element (i, j) at (i + 3 j) × 4; the box is in F order too.
			const at = (i: number, j: number) =>
				data.subarray((i + 3 * j) * 4, (i + 3 * j + 1) * 4);
			expect(box).toEqual(
				new Uint8Array([...at(1, 3), ...at(2, 3), ...at(1, 4), ...at(2, 4)]),
			);
			await d.close();
			expect(await pread(file, offset, 60)).toEqual(data);
			expect(await pread(file, offset - 8, 8)).toEqual(new Uint8Array(8));
		});

		it(`${io.name}: a store of more than 2^31 elements (through the registry)`, async () => {
			await using tmp = await tempDir();
			const file = tmp.join("huge.dat");
			const registry = createRegistry([adapterFor(io.mmap)]);
			const n = 2 ** 31 + 10;
			{
				await using store = await registry.create(file, {
					format: "raw",
					dtype: parseDType("|u1"),
					shape: [n],
				});
				await store.write([{ start: n - 4 }], new Uint8Array([1, 2, 3, 4]));
				await store.write([5], 9);
			}
			expect(await pread(file, n - 6, 6)).toEqual(
				new Uint8Array([0, 0, 1, 2, 3, 4]),
			);
			await using back = (await registry.open(file, {
				format: "raw",
				mode: "r",
			})) as ArrayStore;
			expect(back.info.shape).toEqual([n]);
			expect([...(await back.read([{ start: n - 6 }])).bytes]).toEqual([
				0, 0, 1, 2, 3, 4,
			]);
			expect([...(await back.read([{ start: 4, stop: 7 }])).bytes]).toEqual([
				0, 9, 0,
			]);
		});
	}
});
