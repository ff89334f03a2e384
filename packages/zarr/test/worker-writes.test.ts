import { mkdir, readdir, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import {
	python,
	sha256,
	skipNote,
	type TempDir,
	tempDir,
} from "@arraystore/conformance";
import {
	type ArrayDriver,
	isArrayStoreError,
	parseDType,
} from "@arraystore/core";
import { describe, expect, it } from "vitest";
import { zarrAdapter } from "../src/index.js";

const hasTs = python.has("numpy", "tensorstore");
if (!hasTs)
	skipNote(
		"zarr worker writes read by tensorstore",
		python.missing("numpy", "tensorstore"),
	);

// sha256 of the C-order little-endian bytes of each array, as tensorstore reads it.
const TS_SHA = `
import tensorstore as ts, numpy as np, hashlib
out = {}
for c in INPUT:
    t = ts.open({"driver": c["driver"], "kvstore": {"driver": "file", "path": c["path"]}}, open=True).result()
    a = np.ascontiguousarray(np.asarray(t.read().result()))
    out[c["path"]] = hashlib.sha256(a.astype(a.dtype.newbyteorder("<")).tobytes()).hexdigest()
print(json.dumps(out))
`;

function tsSha(
	arrays: { driver: string; path: string }[],
): Record<string, string> {
	return python.run<Record<string, string>>(TS_SHA, arrays);
}

const ROWS = 64;
const COLS = 96;

// Smooth values with noise (compressible, never all zero within a chunk).
function values(n: number, seed: number): Float32Array {
	const f = new Float32Array(n);
	let s = seed;
	for (let i = 0; i < n; i++) {
		s = (s * 1103515245 + 12345) >>> 0;
		f[i] = Math.sin(i / 37) * 50 + (s >>> 24) / 16 + 1;
	}
	return f;
}

// Bytes of `f` on a SharedArrayBuffer (as core's copy engine hands blocks over) or not.
function box(f: Float32Array, shared: boolean): Uint8Array {
	const b = new Uint8Array(
		shared
			? new SharedArrayBuffer(f.byteLength)
			: new ArrayBuffer(f.byteLength),
	);
	b.set(new Uint8Array(f.buffer, f.byteOffset, f.byteLength));
	return b;
}

// Rows [r0, r0 + n) of a C-order [ROWS, COLS] array, and the same rows in F order.
function rowsOf(all: Float32Array, r0: number, n: number, order: "C" | "F") {
	const out = new Float32Array(n * COLS);
	for (let r = 0; r < n; r++)
		for (let c = 0; c < COLS; c++)
			out[order === "C" ? r * COLS + c : c * n + r] = all[
				(r0 + r) * COLS + c
			] as number;
	return out;
}

async function create(
	tmp: TempDir,
	name: string,
	zarrFormat: 2 | 3,
	order: "C" | "F",
	chunks: number[],
	codecs: unknown[],
	workers = 2,
): Promise<ArrayDriver> {
	return (await zarrAdapter.create?.(tmp.join(name), {
		path: "",
		dtype: parseDType("<f4"),
		shape: [ROWS, COLS],
		order,
		offset: 0,
		exclusive: false,
		chunks,
		codecs: codecs as never,
		adapterOptions: { zarrFormat, workers, inlineBytes: 0 },
	})) as ArrayDriver;
}

const CASES = [
	{
		label: "v3 zstd, shared box",
		zarrFormat: 3,
		order: "C",
		shared: true,
		chunks: [16, 32],
		codecs: [{ name: "zstd", config: { level: 1 } }],
	},
	{
		label: "v3 sharded (index at the start), shared box",
		zarrFormat: 3,
		order: "C",
		shared: true,
		chunks: [32, 48],
		codecs: [
			{
				name: "sharding_indexed",
				config: {
					chunk_shape: [16, 16],
					codecs: [{ name: "gzip", config: { level: 1 } }],
					index_location: "start",
				},
			},
		],
	},
	{
		label: "v3 sharded, unshared box",
		zarrFormat: 3,
		order: "C",
		shared: false,
		chunks: [32, 96],
		codecs: [
			{
				name: "sharding_indexed",
				config: { chunk_shape: [16, 32], codecs: [{ name: "zstd" }] },
			},
		],
	},
	{
		label: "v2 blosc, F order, unshared box",
		zarrFormat: 2,
		order: "F",
		shared: false,
		chunks: [16, 32],
		codecs: [
			{
				name: "blosc",
				config: { cname: "lz4", clevel: 5, shuffle: "shuffle" },
			},
		],
	},
] as const;

describe.skipIf(!hasTs)("zarr: whole chunks written by the workers", () => {
	it("writes arrays tensorstore reads back exactly, beside read-modify-write chunks", async () => {
		await using tmp = await tempDir("zarr-ww-");
		const all = values(ROWS * COLS, 7);
		const arrays: { driver: string; path: string }[] = [];
		for (const [i, c] of CASES.entries()) {
			const d = await create(
				tmp,
				`a${i}.zarr`,
				c.zarrFormat,
				c.order,
				[...c.chunks],
				[...c.codecs],
			);
			// First everything (whole chunks only), then rows 8-40 again: whole chunks inside,
			// partial ones at both ends. The second write carries the final values.
			const stale = values(ROWS * COLS, 99);
			await d.write?.(
				{ start: [0, 0], shape: [ROWS, COLS] },
				box(rowsOf(stale, 0, ROWS, c.order), c.shared),
			);
			await d.write?.(
				{ start: [0, 0], shape: [8, COLS] },
				box(rowsOf(all, 0, 8, c.order), c.shared),
			);
			await d.write?.(
				{ start: [8, 0], shape: [32, COLS] },
				box(rowsOf(all, 8, 32, c.order), c.shared),
			);
			await d.write?.(
				{ start: [40, 0], shape: [24, COLS] },
				box(rowsOf(all, 40, 24, c.order), c.shared),
			);
			await d.flush?.();
			await d.close();
			const names = await readdir(tmp.join(`a${i}.zarr`), { recursive: true });
			expect(names.filter((n) => String(n).includes("partial"))).toEqual([]);
			arrays.push({
				driver: c.zarrFormat === 3 ? "zarr3" : "zarr",
				path: tmp.join(`a${i}.zarr`),
			});
		}
		const got = tsSha(arrays);
		const want = sha256(new Uint8Array(all.buffer));
		for (const [i, a] of arrays.entries())
			expect(got[a.path], CASES[i]?.label).toBe(want);
	});

	it("writes many unshared boxes at once through the bounded staging buffers", async () => {
		await using tmp = await tempDir("zarr-ww-");
		const all = values(ROWS * COLS, 11);
		const d = await create(tmp, "m.zarr", 3, "C", [16, 32], [{ name: "zstd" }]);
		// Four 16-row boxes at once, each split into batches: more staged batches than the
		// process keeps staging buffers for.
		await Promise.all(
			[0, 16, 32, 48].map((r) =>
				d.write?.(
					{ start: [r, 0], shape: [16, COLS] },
					box(rowsOf(all, r, 16, "C"), false),
				),
			),
		);
		await d.close();
		const path = tmp.join("m.zarr");
		expect(tsSha([{ driver: "zarr3", path }])[path]).toBe(
			sha256(new Uint8Array(all.buffer)),
		);
	});

	it("removes chunks and shards that become all fill, and stores the others", async () => {
		await using tmp = await tempDir("zarr-ww-");
		for (const sharded of [false, true]) {
			const name = sharded ? "s.zarr" : "c.zarr";
			const d = await create(
				tmp,
				name,
				3,
				"C",
				sharded ? [32, 32] : [16, 32],
				sharded
					? [
							{
								name: "sharding_indexed",
								config: { chunk_shape: [16, 16], codecs: [{ name: "zstd" }] },
							},
						]
					: [{ name: "zstd" }],
			);
			await d.write?.(
				{ start: [0, 0], shape: [ROWS, COLS] },
				box(values(ROWS * COLS, 3), true),
			);
			// Zeros (the fill value) over rows 0-31, except one element of the first chunk.
			const z = new Float32Array(32 * COLS);
			z[5] = 2.5;
			await d.write?.({ start: [0, 0], shape: [32, COLS] }, box(z, true));
			await d.close();
			const files = (
				await readdir(join(tmp.join(name), "c"), { recursive: true })
			)
				.map(String)
				.filter((f) => /^\d+\/\d+$/.test(f))
				.sort();
			// Grid rows 0 (16 or 32 rows) keep only chunk/shard 0/0; the rest hold data.
			const cols = COLS / 32;
			const gridRows = sharded ? 2 : 4;
			const expected = [];
			for (let r = 0; r < gridRows; r++)
				for (let c = 0; c < cols; c++)
					if ((r === 0 && c === 0) || r >= gridRows / 2)
						expected.push(`${r}/${c}`);
			expect(files).toEqual(expected.sort());
		}
	});
});

describe("zarr: worker write failures", () => {
	it("reports an unwritable chunk as a typed error and leaves no temporary file", async () => {
		await using tmp = await tempDir("zarr-ww-");
		const d = await create(tmp, "e.zarr", 2, "C", [16, 32], [{ name: "zstd" }]);
		// A non-empty directory where chunk 1.1 goes: the rename over it fails.
		const blocker = join(tmp.join("e.zarr"), "1.1");
		await mkdir(blocker, { recursive: true });
		await writeFile(join(blocker, "x"), "x");
		const err = await d
			.write?.(
				{ start: [0, 0], shape: [ROWS, COLS] },
				box(values(ROWS * COLS, 5), true),
			)
			.then(
				() => undefined,
				(e: unknown) => e,
			);
		await d.close();
		expect(isArrayStoreError(err), String(err)).toBe(true);
		expect((err as { code: string }).code).toBe("IO_ERROR");
		const names = await readdir(tmp.join("e.zarr"));
		expect(names.filter((n) => n.includes("partial"))).toEqual([]);
		expect(names).toContain("0.0");
	});

	it("reports an unwritable shard as a typed error and leaves no temporary file", async () => {
		await using tmp = await tempDir("zarr-ww-");
		const d = await create(
			tmp,
			"es.zarr",
			3,
			"C",
			[32, 32],
			[
				{
					name: "sharding_indexed",
					config: { chunk_shape: [16, 16], codecs: [{ name: "zstd" }] },
				},
			],
		);
		// A non-empty directory where shard 1/1 goes: the rename over it fails.
		const blocker = join(tmp.join("es.zarr"), "c", "1", "1");
		await mkdir(blocker, { recursive: true });
		await writeFile(join(blocker, "x"), "x");
		const err = await d
			.write?.(
				{ start: [0, 0], shape: [ROWS, COLS] },
				box(values(ROWS * COLS, 5), true),
			)
			.then(
				() => undefined,
				(e: unknown) => e,
			);
		await d.close();
		expect(isArrayStoreError(err), String(err)).toBe(true);
		expect((err as { code: string }).code).toBe("IO_ERROR");
		const names = (
			await readdir(join(tmp.join("es.zarr"), "c"), { recursive: true })
		).map(String);
		expect(names.filter((n) => n.includes("partial"))).toEqual([]);
		expect(names).toContain("0/0");
	});

	it("stops an aborted write between batches, leaving whole chunk files only", async () => {
		await using tmp = await tempDir("zarr-ww-");
		const d = await create(tmp, "x.zarr", 3, "C", [16, 32], [{ name: "zstd" }]);
		const ctl = new AbortController();
		const p = d.write?.(
			{ start: [0, 0], shape: [ROWS, COLS] },
			box(values(ROWS * COLS, 5), true),
			ctl.signal,
		);
		ctl.abort();
		const err = await p?.then(
			() => undefined,
			(e: unknown) => e,
		);
		await d.close();
		expect((err as { name?: string } | undefined)?.name).toBe("AbortError");
		const names = (await readdir(tmp.join("x.zarr"), { recursive: true })).map(
			String,
		);
		expect(names.filter((n) => n.includes("partial"))).toEqual([]);
	});
});

// A pool smaller than the machine's cores: the calling thread writes batches beside the worker
// (src/batch-write.ts), through the same writer.
describe.skipIf(!hasTs || availableParallelism() < 2)(
	"zarr: one codec worker and the calling thread",
	() => {
		it("write arrays tensorstore reads back exactly", async () => {
			await using tmp = await tempDir("zarr-ww1-");
			const all = values(ROWS * COLS, 21);
			const arrays: { driver: string; path: string }[] = [];
			for (const [i, c] of CASES.entries()) {
				const d = await create(
					tmp,
					`b${i}.zarr`,
					c.zarrFormat,
					c.order,
					[...c.chunks],
					[...c.codecs],
					1,
				);
				// Two boxes at once, as the copy engine writes blocks.
				await Promise.all(
					[0, 32].map((r) =>
						d.write?.(
							{ start: [r, 0], shape: [32, COLS] },
							box(rowsOf(all, r, 32, c.order), c.shared),
						),
					),
				);
				await d.close();
				arrays.push({
					driver: c.zarrFormat === 3 ? "zarr3" : "zarr",
					path: tmp.join(`b${i}.zarr`),
				});
			}
			const got = tsSha(arrays);
			const want = sha256(new Uint8Array(all.buffer));
			for (const [i, a] of arrays.entries())
				expect(got[a.path], CASES[i]?.label).toBe(want);
		});

		it("report unwritable chunks as typed errors and leave no temporary file", async () => {
			await using tmp = await tempDir("zarr-ww1-");
			const d = await create(
				tmp,
				"e.zarr",
				2,
				"C",
				[16, 32],
				[{ name: "zstd" }],
				1,
			);
			// Non-empty directories where every chunk but 0.0 goes: whichever thread writes a
			// chunk, its rename fails.
			for (let r = 0; r < ROWS / 16; r++)
				for (let c = 0; c < COLS / 32; c++) {
					if (r === 0 && c === 0) continue;
					const blocker = join(tmp.join("e.zarr"), `${r}.${c}`);
					await mkdir(blocker, { recursive: true });
					await writeFile(join(blocker, "x"), "x");
				}
			const err = await d
				.write?.(
					{ start: [0, 0], shape: [ROWS, COLS] },
					box(values(ROWS * COLS, 5), false),
				)
				.then(
					() => undefined,
					(e: unknown) => e,
				);
			await d.close();
			expect(isArrayStoreError(err), String(err)).toBe(true);
			expect((err as { code: string }).code).toBe("IO_ERROR");
			const names = await readdir(tmp.join("e.zarr"));
			expect(names.filter((n) => n.includes("partial"))).toEqual([]);
		});
	},
);
