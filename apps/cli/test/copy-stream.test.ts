import { tempDir } from "@arraystore/conformance";
import {
	CopyJournal,
	copyArray,
	memoryJournalStorage,
	parseDType,
	planArrayCopy,
	STREAM_BLOCK_BYTES,
} from "@arraystore/core";
import { describe, expect, it } from "vitest";
import { garbageCollector } from "../src/memory.js";
import { makeArray, registry, spyStore, storeHash } from "./helpers.js";

const MiB = 1024 * 1024;

describe("copy: streamed contiguous copies", () => {
	it("plans cache-sized blocks between unchunked layouts, budget-sized ones for chunked targets", () => {
		const dtype = { shape: [100000, 100], dtype: parseDType("<f8") };
		const flat = planArrayCopy(dtype, { maxMemory: 256 * MiB });
		expect(flat.blockBytes).toBeLessThanOrEqual(STREAM_BLOCK_BYTES);
		expect(flat.budget.maxBlockBytes).toBeGreaterThan(STREAM_BLOCK_BYTES);
		const chunked = planArrayCopy(
			{ ...dtype, targetChunks: [10000, 100] },
			{ maxMemory: 256 * MiB },
		);
		expect(chunked.blockBytes).toBeGreaterThan(STREAM_BLOCK_BYTES);
		// A target written past the page cache asks for larger blocks; the budget still caps them.
		const direct = planArrayCopy(dtype, {
			maxMemory: 256 * MiB,
			streamBlockBytes: 4 * MiB,
		});
		expect(direct.blockBytes).toBeGreaterThan(2 * MiB);
		expect(direct.blockBytes).toBeLessThanOrEqual(4 * MiB);
		const small = planArrayCopy(dtype, {
			maxMemory: 64 * MiB,
			streamBlockBytes: 256 * MiB,
		});
		expect(small.blockBytes).toBeLessThanOrEqual(small.budget.maxBlockBytes);
		expect(small.budget.maxBlockBytes).toBeLessThan(256 * MiB);
	});

	it("keeps more writes in flight, reuses a fixed set of block buffers and copies every value", async () => {
		await using tmp = await tempDir();
		await makeArray(tmp.join("a.npy"), "<f4", [12000, 1000], (i) => i * 0.5);
		await using src = await registry.open(tmp.join("a.npy"));
		const inner = await registry.create(tmp.join("b.npy"), {
			dtype: "<f4",
			shape: [12000, 1000],
		});
		const buffers = new Set<ArrayBufferLike>();
		const dst = spyStore(inner, {
			see: (bytes) => buffers.add(bytes.buffer),
		});
		const plan = planArrayCopy(
			{ shape: [12000, 1000], dtype: src.info.dtype },
			{ maxMemory: 256 * MiB },
		);
		const r = await copyArray(src, dst, {
			blockShape: plan.blockShape,
			budgetBlockBytes: plan.budget.maxBlockBytes,
		});
		await inner.close();
		expect(r.blocksWritten).toBe(plan.blockCount);
		expect(plan.blockCount).toBeGreaterThan(8);
		// Two writes at once (the default) would leave the thread pool idle for small blocks.
		expect(dst.maxInFlight).toBeGreaterThan(2);
		expect(dst.maxInFlight).toBeLessThanOrEqual(4);
		// k writes + the block being read + the one read ahead.
		expect(buffers.size).toBeLessThanOrEqual(dst.maxInFlight + 2);
		for (const b of buffers) expect(b).toBeInstanceOf(SharedArrayBuffer);
		await using back = await registry.open(tmp.join("b.npy"));
		expect(await storeHash(back)).toBe(await storeHash(src));
	});

	it("asks for a collection only after two budget blocks' worth of bytes, with that allowance", async () => {
		await using tmp = await tempDir();
		await makeArray(tmp.join("a.npy"), "<i4", [8000, 1000], (i) => i);
		await using src = await registry.open(tmp.join("a.npy"));
		await using dst = await registry.create(tmp.join("b.npy"), {
			dtype: "<i4",
			shape: [8000, 1000],
		});
		const calls: number[] = [];
		const budgetBlock = 8 * MiB;
		const r = await copyArray(src, dst, {
			blockShape: [500, 1000],
			budgetBlockBytes: budgetBlock,
			releaseMemory: (garbage) => calls.push(garbage),
		});
		expect(r.blocksWritten).toBe(16);
		// 32 MB in 2 MB blocks; a call every 16 MiB of blocks.
		expect(calls.length).toBe(Math.floor(r.bytesWritten / (2 * budgetBlock)));
		for (const g of calls) expect(g).toBe(2 * budgetBlock);
	});
});

describe("copy: journal epochs", () => {
	it("trusts lines written without fsync only in the epoch that wrote them", async () => {
		const inner = memoryJournalStorage();
		const a = {
			read: () => inner.read(),
			append: (t: string) => inner.append(t),
			reset: (t: string) => inner.reset(t),
			epoch: "boot-A",
		};
		const text = () => inner.text ?? "";
		const j = await CopyJournal.open(a, "plan");
		await j.recordCreated("x", true);
		await j.recordBlocks("x", [0, 1], true);
		await j.recordBlocks("x", [2, 3], false);
		await j.recordDone("x", false);
		const lines = text()
			.trim()
			.split("\n")
			.map((l) => JSON.parse(l));
		expect(lines.filter((l) => l.epoch === "boot-A")).toHaveLength(2);
		const same = await CopyJournal.open(
			{ ...memoryJournalStorage(text()), epoch: "boot-A" },
			"plan",
		);
		expect([...same.completed("x")].sort()).toEqual([0, 1, 2, 3]);
		expect(same.isDone("x")).toBe(true);
		// After a restart of the machine only what reached the disk counts.
		const later = await CopyJournal.open(
			{ ...memoryJournalStorage(text()), epoch: "boot-B" },
			"plan",
		);
		expect([...later.completed("x")].sort()).toEqual([0, 1]);
		expect(later.isCreated("x")).toBe(true);
		expect(later.isDone("x")).toBe(false);
	});

	it("writes every line durably when the storage has no epoch", async () => {
		const durable: boolean[] = [];
		const inner = memoryJournalStorage();
		const storage = {
			read: () => inner.read(),
			reset: (t: string) => inner.reset(t),
			append: (t: string, d?: boolean) => {
				durable.push(d !== false);
				return inner.append(t);
			},
		};
		const j = await CopyJournal.open(storage, "plan");
		await j.recordBlocks("x", [0], false);
		expect(durable).toEqual([true]);
		expect(inner.text).not.toContain("epoch");
	});
});

describe("cli: garbage collection hook", () => {
	it("collects when more than the allowed garbage has piled up", async () => {
		const collect = garbageCollector();
		expect(collect).toBeDefined();
		collect?.(0); // sets the baseline
		let junk: Uint8Array[] | null = [];
		for (let i = 0; i < 16; i++) junk.push(new Uint8Array(4 * MiB));
		junk = null;
		const before = process.memoryUsage().arrayBuffers;
		collect?.(16 * MiB);
		// Backing stores are freed on a background thread after the collection.
		for (let i = 0; i < 50; i++) {
			if (process.memoryUsage().arrayBuffers < before - 48 * MiB) break;
			await new Promise((r) => setTimeout(r, 10));
		}
		expect(process.memoryUsage().arrayBuffers).toBeLessThan(before - 48 * MiB);
	});
});
