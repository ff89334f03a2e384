import {
	type ArrayStore,
	isArrayStoreError,
	parseDType,
} from "@arraystore/core";
import { describe, expect, it } from "vitest";
import {
	type NaiveIndex,
	naiveAssign,
	naiveSelect,
	randomBytes,
} from "./data.js";
import type { SuiteContext } from "./suite-context.js";
import { tempDir } from "./temp.js";

/** Registers these cases inside the suite's describe. */
export function lifecycleCases(ctx: SuiteContext): void {
	const { writable, create, reopen, options } = ctx;
	describe.skipIf(!writable)("lifecycle", () => {
		it("close is idempotent and use after close throws ClosedError", async () => {
			await using tmp = await tempDir();
			const store = await create(
				options.makeTarget(tmp.path, "life"),
				"<i4",
				[3],
			);
			await Promise.all([store.close(), store.close()]);
			await store.close();
			expect(store.closed).toBe(true);
			await expect(store.read()).rejects.toMatchObject({ code: "CLOSED" });
			await expect(store.write([], 1)).rejects.toMatchObject({
				code: "CLOSED",
			});
			expect(() => store.iterBlocks()).toThrow(
				expect.objectContaining({ code: "CLOSED" }),
			);
		});
		it("await using closes the store", async () => {
			await using tmp = await tempDir();
			let outer: ArrayStore | undefined;
			{
				await using store = await create(
					options.makeTarget(tmp.path, "disp"),
					"<i4",
					[3],
				);
				outer = store;
			}
			expect(outer?.closed).toBe(true);
		});
		it("opening a missing target is NotFoundError", async () => {
			await using tmp = await tempDir();
			await expect(
				reopen(options.makeTarget(tmp.path, "missing")),
			).rejects.toMatchObject({ code: "NOT_FOUND" });
		});
	});

	describe.skipIf(!writable)("iterBlocks", () => {
		it("covers every element exactly once, in C order of block index", async () => {
			await using tmp = await tempDir();
			const shape = [11, 9, 4];
			const data = randomBytes(parseDType("<i2"), 396, 4);
			await using store = await create(
				options.makeTarget(tmp.path, "it"),
				"<i2",
				shape,
			);
			await store.write([], data);
			// Element numbers as u4, so each block's selection tells which elements it covers.
			const ids = new Uint8Array(new Uint32Array(396).map((_, i) => i).buffer);
			for (const opts of [
				{},
				{ blockShape: [4, 5, 3] },
				{ maxBlockBytes: 100 },
			]) {
				const seen = new Uint8Array(396);
				const rebuilt = new Uint8Array(data.length);
				let last: readonly number[] | undefined;
				for await (const block of store.iterBlocks(opts)) {
					if (last) expect(compareIndex(last, block.index)).toBeLessThan(0);
					last = block.index;
					const sel = block.selection as NaiveIndex[];
					const covered = new Uint32Array(
						naiveSelect(ids, shape, 4, sel).bytes.slice().buffer,
					);
					expect(covered.length).toBe(block.shape.reduce((x, y) => x * y, 1));
					for (const e of covered) seen[e] = (seen[e] as number) + 1;
					naiveAssign(rebuilt, shape, 2, sel, block.bytes);
				}
				expect(seen.every((c) => c === 1)).toBe(true);
				expect(rebuilt).toEqual(data);
			}
		});
		it("honours an abort signal and early break", async () => {
			await using tmp = await tempDir();
			await using store = await create(
				options.makeTarget(tmp.path, "abort"),
				"<i2",
				[50, 4],
			);
			const ac = new AbortController();
			let n = 0;
			const run = async () => {
				for await (const _ of store.iterBlocks({
					blockShape: [5, 4],
					signal: ac.signal,
				})) {
					n++;
					if (n === 2) ac.abort();
				}
			};
			await expect(run()).rejects.toThrow();
			expect(n).toBe(2);
			let m = 0;
			for await (const _ of store.iterBlocks({ blockShape: [5, 4] })) {
				if (++m === 3) break;
			}
			expect(m).toBe(3);
		});
		it("yields one block for 0-d and none for empty arrays", async () => {
			await using tmp = await tempDir();
			await using zero = await create(
				options.makeTarget(tmp.path, "zd"),
				"<f8",
				[],
			);
			const blocks = [];
			for await (const b of zero.iterBlocks()) blocks.push(b);
			expect(blocks.map((b) => b.shape)).toEqual([[]]);
			await using empty = await create(
				options.makeTarget(tmp.path, "em"),
				"<f8",
				[0, 4],
			);
			for await (const _ of empty.iterBlocks())
				throw new Error("an empty array yields no block");
		});
	});

	it("every error it throws is an ArrayStoreError", async () => {
		await using tmp = await tempDir();
		const errors: unknown[] = [];
		await reopen(options.makeTarget(tmp.path, "nothing")).catch((e: unknown) =>
			errors.push(e),
		);
		expect(errors).toHaveLength(1);
		expect(errors.every((e) => isArrayStoreError(e))).toBe(true);
	});
}

function compareIndex(a: readonly number[], b: readonly number[]): number {
	for (let i = 0; i < a.length; i++)
		if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
	return 0;
}
