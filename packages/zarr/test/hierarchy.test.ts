import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
	FORMATS_DIR,
	pythonLegacy,
	skipNote,
	tempDir,
} from "@arraystore/conformance";
import { describe, expect, it } from "vitest";
import { createZarr, openZarr, openZarrContainer } from "./helpers.js";

const hasZarr2 = pythonLegacy.has("numpy", "zarr");
if (!hasZarr2)
	skipNote(
		"zarr consolidated metadata from zarr-python 2",
		pythonLegacy.missing("numpy", "zarr"),
	);

describe("zarr: containers", () => {
	for (const zarrFormat of [2, 3] as const) {
		it(`creates, lists, updates and deletes groups and arrays (v${zarrFormat})`, async () => {
			await using tmp = await tempDir();
			const root = tmp.join("c.zarr");
			{
				await using c = await openZarrContainer(root, "w+", { zarrFormat });
				await c.createGroup("a/b", { x: 1 });
				await using arr = await c.createArray("a/b/data", {
					dtype: "<f4",
					shape: [4, 4],
					chunks: [2, 2],
					attrs: { unit: "K" },
				});
				await arr.write([{ start: 1, stop: 3 }, 1], new Float32Array([5, 6]));
				await using other = await c.createArray("z", {
					dtype: "|u1",
					shape: [3],
				});
				await other.write([], new Uint8Array([1, 2, 3]));
				await c.setAttrs("a", { y: "two" });
				await c.setAttrs("a", { z: null });
			}
			await using c = await openZarrContainer(root, "r+");
			expect(await c.list("", { recursive: true })).toEqual([
				{ path: "a", kind: "group" },
				{ path: "a/b", kind: "group" },
				{ path: "a/b/data", kind: "array" },
				{ path: "z", kind: "array" },
			]);
			expect(await c.list("a")).toEqual([{ path: "a/b", kind: "group" }]);
			expect(await c.attrs("a")).toEqual({ y: "two", z: null });
			expect(await c.attrs("a/b")).toEqual({ x: 1 });
			await using d = await c.openArray("a/b/data");
			expect(await d.attrs()).toEqual({ unit: "K" });
			expect([
				...new Float32Array((await d.read([{}, 1])).bytes.buffer),
			]).toEqual([0, 5, 6, 0]);
			await c.delete?.("a/b");
			expect(await c.list("", { recursive: true })).toEqual([
				{ path: "a", kind: "group" },
				{ path: "z", kind: "array" },
			]);
			await expect(c.openArray("a/b/data")).rejects.toMatchObject({
				code: "NOT_FOUND",
			});
			await expect(c.createGroup("z/inner")).rejects.toMatchObject({
				code: "INVALID_SELECTION",
			});
		});
	}

	it("opens read-only containers read-only", async () => {
		await using c = await openZarrContainer(
			join(FORMATS_DIR, "zarr2/group_hierarchy.zarr"),
		);
		await expect(c.createGroup("new")).rejects.toMatchObject({
			code: "READ_ONLY",
		});
		await expect(c.setAttrs("", { a: 1 })).rejects.toMatchObject({
			code: "READ_ONLY",
		});
	});

	it("refuses to mix versions in one hierarchy", async () => {
		await using tmp = await tempDir();
		const root = tmp.join("m.zarr");
		await (await openZarrContainer(root, "w+", { zarrFormat: 2 })).close();
		await expect(
			createZarr(root, {
				dtype: "<i4",
				shape: [2],
				path: "x",
				adapterOptions: { zarrFormat: 3 },
			}),
		).rejects.toMatchObject({ code: "UNSUPPORTED" });
		await using _a = await createZarr(root, {
			dtype: "<i4",
			shape: [2],
			path: "x",
		});
		expect(
			JSON.parse(await readFile(join(root, "x", ".zarray"), "utf8"))
				.zarr_format,
		).toBe(2);
	});
});

describe("zarr: consolidated metadata", () => {
	it("reads arrays and groups known only from .zmetadata", async () => {
		await using tmp = await tempDir();
		const root = tmp.join("cons.zarr");
		{
			await using c = await openZarrContainer(root, "w+", { zarrFormat: 2 });
			await c.createGroup("g", { k: "v" });
			await using a = await c.createArray("g/x", {
				dtype: "<i2",
				shape: [3],
				chunks: [3],
				attrs: { n: 1 },
			});
			await a.write([], new Int16Array([7, 8, 9]));
		}
		const meta: Record<string, unknown> = {};
		for (const f of [
			".zgroup",
			"g/.zgroup",
			"g/.zattrs",
			"g/x/.zarray",
			"g/x/.zattrs",
		]) {
			meta[f] = JSON.parse(await readFile(join(root, f), "utf8"));
			await rm(join(root, f));
		}
		await writeFile(
			join(root, ".zmetadata"),
			JSON.stringify({ metadata: meta, zarr_consolidated_format: 1 }),
		);
		await using c = await openZarrContainer(root, "r+");
		expect(await c.list("", { recursive: true })).toEqual([
			{ path: "g", kind: "group" },
			{ path: "g/x", kind: "array" },
		]);
		expect(await c.attrs("g")).toEqual({ k: "v" });
		await using x = await c.openArray("g/x", { mode: "r+" });
		expect([...new Int16Array((await x.read()).bytes.buffer)]).toEqual([
			7, 8, 9,
		]);
		// Writes keep .zmetadata true to the files.
		await x.setAttrs({ n: 2 });
		const cons = JSON.parse(await readFile(join(root, ".zmetadata"), "utf8"));
		expect(cons.metadata["g/x/.zattrs"]).toEqual({ n: 2 });
	});

	it.skipIf(!hasZarr2)(
		"reads a store consolidated by zarr-python 2",
		async () => {
			await using tmp = await tempDir();
			const root = tmp.join("zp.zarr");
			pythonLegacy.run(
				`
import zarr, numpy as np, os
g = zarr.open_group(INPUT, mode="w")
g.attrs["title"] = "consolidated"
a = g.create_dataset("sub/arr", data=np.arange(12, dtype=">u4").reshape(3, 4), chunks=(2, 2))
a.attrs["units"] = "s"
zarr.consolidate_metadata(INPUT)
for f in ["sub/arr/.zarray", "sub/arr/.zattrs", "sub/.zgroup"]:
    os.remove(os.path.join(INPUT, f))
print("null")
`,
				root,
			);
			await using c = await openZarrContainer(root);
			expect(await c.attrs("")).toEqual({ title: "consolidated" });
			expect(await c.list("", { recursive: true })).toEqual([
				{ path: "sub", kind: "group" },
				{ path: "sub/arr", kind: "array" },
			]);
			await using a = await c.openArray("sub/arr");
			expect(a.info.dtype.str).toBe(">u4");
			expect(await a.attrs()).toEqual({ units: "s" });
			expect([...new Uint32Array((await a.read()).bytes.buffer)]).toEqual([
				0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
			]);
		},
	);
});

describe("zarr: resize", () => {
	for (const [label, codecs] of [
		["chunks", [{ name: "zstd" }]],
		[
			"shards",
			[
				{
					name: "sharding_indexed",
					config: { chunk_shape: [2, 2], codecs: [{ name: "gzip" }] },
				},
			],
		],
	] as const) {
		it(`shrinks and grows; elements cut off read as fill when they come back (${label})`, async () => {
			await using tmp = await tempDir();
			const root = tmp.join("r.zarr");
			await using a = await createZarr(root, {
				dtype: "<i4",
				shape: [6, 6],
				chunks: [4, 4],
				codecs: codecs as never,
				fillValue: -1,
			});
			await a.write(
				[],
				new Int32Array(36).map((_, i) => i),
			);
			await a.resize([3, 5]);
			expect(a.info.shape).toEqual([3, 5]);
			expect([...new Int32Array((await a.read()).bytes.buffer)]).toEqual([
				0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16,
			]);
			await a.resize([6, 6]);
			const all = [...new Int32Array((await a.read()).bytes.buffer)];
			expect(all).toEqual(
				Array.from({ length: 36 }, (_, i) => (i < 18 && i % 6 < 5 ? i : -1)),
			);
			await using again = await openZarr(root);
			expect(again.info.shape).toEqual([6, 6]);
		});
	}
});
