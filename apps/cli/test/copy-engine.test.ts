import { readdir } from "node:fs/promises";
import { tempDir } from "@arraystore/conformance";
import {
	CopyJournal,
	copyArray,
	isArrayStoreError,
	memoryBudget,
	memoryJournalStorage,
	parseDType,
	planArrayCopy,
} from "@arraystore/core";
import { describe, expect, it } from "vitest";
import { makeArray, registry, spyStore, storeHash } from "./helpers.js";

const MiB = 1024 * 1024;

describe("copy: memory budget", () => {
	it("refuses a target chunk larger than the budget allows, naming both sizes", () => {
		let err: unknown;
		try {
			memoryBudget({
				maxMemory: 64 * MiB,
				concurrency: 2,
				targetChunkBytes: 32 * MiB,
			});
		} catch (e) {
			err = e;
		}
		expect(isArrayStoreError(err, "LIMIT_EXCEEDED")).toBe(true);
		expect((err as Error).message).toMatch(/32 MiB.*64 MiB/);
	});

	it("refuses a budget that cannot even decode one source chunk", () => {
		expect(() =>
			memoryBudget({ maxMemory: 1 * MiB, sourceChunkBytes: 4 * MiB }),
		).toThrow(/too small/);
	});

	it("counts an HDF5 side's blocks twice (the wasm heap keeps the largest block)", () => {
		const plain = memoryBudget({
			maxMemory: 256 * MiB,
			concurrency: 2,
			sourceFormat: "zarr",
			targetFormat: "zarr",
		});
		const h5 = memoryBudget({
			maxMemory: 256 * MiB,
			concurrency: 2,
			sourceFormat: "hdf5",
			targetFormat: "zarr",
		});
		const both = memoryBudget({
			maxMemory: 256 * MiB,
			concurrency: 2,
			sourceFormat: "hdf5",
			targetFormat: "hdf5",
		});
		expect(h5.blockMultiplier).toBe(plain.blockMultiplier + 1);
		expect(both.blockMultiplier).toBe(plain.blockMultiplier + 2);
		expect(h5.maxBlockBytes).toBeLessThan(plain.maxBlockBytes);
	});

	it("plans blocks of whole target chunks whose estimated peak stays under the budget", () => {
		const plan = planArrayCopy(
			{
				shape: [4000, 300],
				dtype: parseDType("<f8"),
				targetChunks: [64, 100],
				sourceChunks: [100, 300],
			},
			{ maxMemory: 48 * MiB, concurrency: 2 },
		);
		expect(
			(plan.blockShape[0] as number) % 64 === 0 ||
				(plan.blockShape[0] as number) >= 4000,
		).toBe(true);
		expect(
			(plan.blockShape[1] as number) % 100 === 0 ||
				(plan.blockShape[1] as number) >= 300,
		).toBe(true);
		expect(plan.peakMemory).toBeLessThanOrEqual(48 * MiB);
		expect(plan.blockCount).toBeGreaterThan(1);
	});
});

describe("copy: copyArray", () => {
	it("writes each planned block once, at most `concurrency` at a time, and copies every value", async () => {
		await using tmp = await tempDir();
		await makeArray(tmp.join("a.npy"), "<i4", [20000, 50], (i) => i * 7 - 5);
		await using src = await registry.open(tmp.join("a.npy"));
		const inner = await registry.create(tmp.join("b.zarr"), {
			dtype: "<i4",
			shape: [20000, 50],
			chunks: [16, 50],
		});
		const dst = spyStore(inner);
		const plan = planArrayCopy(
			{ shape: [20000, 50], dtype: src.info.dtype, targetChunks: [16, 50] },
			{ maxMemory: 48 * MiB, concurrency: 3 },
		);
		const r = await copyArray(src, dst, {
			blockShape: plan.blockShape,
			concurrency: 3,
		});
		await inner.close();
		expect(plan.blockCount).toBeGreaterThan(3);
		expect(r.blocksWritten).toBe(plan.blockCount);
		expect(dst.writes).toBe(plan.blockCount);
		expect(dst.maxInFlight).toBeLessThanOrEqual(3);
		expect((plan.blockShape[0] as number) % 16).toBe(0);
		await using back = await registry.open(tmp.join("b.zarr"));
		expect(await storeHash(back)).toBe(await storeHash(src));
	});

	it("refuses an impossible budget before writing anything", async () => {
		await using tmp = await tempDir();
		await makeArray(tmp.join("a.npy"), "<f8", [1000, 1000], (i) => i);
		await using src = await registry.open(tmp.join("a.npy"));
		await using dst = await registry.create(tmp.join("b.zarr"), {
			dtype: "<f8",
			shape: [1000, 1000],
			chunks: [1000, 1000],
		});
		await expect(
			copyArray(src, dst, { maxMemory: 64 * MiB }),
		).rejects.toMatchObject({ code: "LIMIT_EXCEEDED" });
		expect(
			(await readdir(tmp.join("b.zarr"))).filter((f) => f !== "zarr.json"),
		).toEqual([]);
	});

	it("casts safely per block and refuses lossy casts unless allowed", async () => {
		await using tmp = await tempDir();
		await makeArray(tmp.join("a.npy"), "<i2", [100], (i) => i * 300 - 15000);
		await using src = await registry.open(tmp.join("a.npy"));
		await using wide = await registry.create(tmp.join("w.npy"), {
			dtype: "<f8",
			shape: [100],
		});
		await copyArray(src, wide);
		const w = (await wide.read()).data as Float64Array;
		expect(Array.from(w.slice(0, 3))).toEqual([-15000, -14700, -14400]);

		await using f8 = await registry.open(tmp.join("w.npy"));
		await using narrow = await registry.create(tmp.join("n.npy"), {
			dtype: "<i1",
			shape: [100],
		});
		await expect(copyArray(f8, narrow)).rejects.toMatchObject({
			code: "UNSUPPORTED_DTYPE",
		});
		await copyArray(f8, narrow, { unsafeCast: true });
		const n = (await narrow.read()).data as Int8Array;
		expect(n[0]).toBe((((-15000 % 256) + 256 + 128) % 256) - 128);
	});

	it("journals durable blocks and resumes after an abort with identical values", async () => {
		await using tmp = await tempDir();
		await makeArray(tmp.join("a.npy"), "<f8", [2000, 64], (i) => Math.sin(i));
		await using src = await registry.open(tmp.join("a.npy"));
		const storage = memoryJournalStorage();
		const blockShape = [100, 64];
		const journal = await CopyJournal.open(storage, "plan-1");
		expect(journal.resumed).toBe(false);
		const stop = new AbortController();
		const dst1 = await registry.create(tmp.join("b.npy"), {
			dtype: "<f8",
			shape: [2000, 64],
		});
		await expect(
			copyArray(src, dst1, {
				blockShape,
				journal,
				journalKey: "x",
				checkpointInterval: 0,
				concurrency: 1,
				signal: stop.signal,
				onProgress: (p) => {
					if (p.blocksDone === 7) stop.abort();
				},
			}),
		).rejects.toMatchObject({ name: "AbortError" });
		await dst1.close();
		const done = journal.completed("x");
		expect(done.size).toBeGreaterThanOrEqual(7);
		expect(done.size).toBeLessThan(20);
		expect(storage.text?.split("\n")[0]).toBe('{"journal":1,"plan":"plan-1"}');

		const again = await CopyJournal.open(storage, "plan-1");
		expect(again.resumed).toBe(true);
		expect(again.completed("x").size).toBe(done.size);
		await using dst2 = await registry.open(tmp.join("b.npy"), { mode: "r+" });
		const r = await copyArray(src, dst2, {
			blockShape,
			journal: again,
			journalKey: "x",
		});
		expect(r.blocksSkipped).toBe(done.size);
		expect(r.blocksWritten).toBe(20 - done.size);
		expect(await storeHash(dst2)).toBe(await storeHash(src));
	});

	it("verifies every block and reports a corrupted one", async () => {
		await using tmp = await tempDir();
		await makeArray(tmp.join("a.npy"), "<u2", [512, 40], (i) => i % 60000);
		await using src = await registry.open(tmp.join("a.npy"));
		await using ok = await registry.create(tmp.join("ok.zarr"), {
			dtype: "<u2",
			shape: [512, 40],
			chunks: [64, 40],
		});
		const r = await copyArray(src, ok, { verify: true });
		expect(r.blocksVerified).toBeGreaterThan(0);
		expect(r.blocksVerified).toBe(r.blocksWritten);

		const inner = await registry.create(tmp.join("bad.zarr"), {
			dtype: "<u2",
			shape: [512, 40],
			chunks: [64, 40],
		});
		const bad = spyStore(inner, {
			corrupt: (call, bytes) => {
				if (call === 1) bytes[10] = (bytes[10] ?? 0) ^ 0xff;
			},
		});
		await expect(
			copyArray(src, bad, { verify: true, blockShape: [64, 40] }),
		).rejects.toThrow(/verify failed: block \[\d+, 0\]/);
		await inner.close();
	});
});

describe("copy: resume journal", () => {
	it("starts afresh for another plan, ignores a torn last line and distrusts a corrupt one", async () => {
		const storage = memoryJournalStorage(
			'{"journal":1,"plan":"A"}\n{"array":"x","created":true}\n{"array":"x","blocks":[0,1]}\n{"array":"x","blo',
		);
		const a = await CopyJournal.open(storage, "A");
		expect(a.resumed).toBe(true);
		expect([...a.completed("x")]).toEqual([0, 1]);
		expect(a.isCreated("x")).toBe(true);
		expect(storage.text?.endsWith("\n")).toBe(true);

		const b = await CopyJournal.open(storage, "B");
		expect(b.resumed).toBe(false);
		expect(b.completed("x").size).toBe(0);
		expect(storage.text).toBe('{"journal":1,"plan":"B"}\n');

		const corrupt = memoryJournalStorage(
			'{"journal":1,"plan":"C"}\nnot json\n{"array":"x","blocks":[3]}\n',
		);
		const c = await CopyJournal.open(corrupt, "C");
		expect(c.resumed).toBe(false);
		expect(c.completed("x").size).toBe(0);
	});
});
