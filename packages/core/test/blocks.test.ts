import {
	gridBlocks,
	planBlocks,
	resolveSelection,
	slabShape,
} from "@arraystore/core";
import { describe, expect, it } from "vitest";

describe("core: blocks", () => {
	it("plans blocks of whole target chunks under the budget", () => {
		const shape = [1000, 800, 3];
		for (const [target, source, budget] of [
			[[64, 64, 3], [100, 100, 3], 8 << 20],
			[[10, 800, 3], null, 1 << 20],
			[[7, 9, 1], [5, 5, 1], 50_000],
		] as [number[], number[] | null, number][]) {
			const b = planBlocks(shape, 4, {
				targetChunks: target,
				sourceChunks: source,
				maxBlockBytes: budget,
			});
			for (const [d, x] of b.entries()) {
				expect(
					x % (target[d] as number) === 0 || x >= (shape[d] as number),
				).toBe(true);
			}
			expect(b.reduce((a, x) => a * x, 4)).toBeLessThanOrEqual(budget);
		}
	});
	it("aligns to source chunks when the budget allows", () => {
		expect(
			planBlocks([1000, 1000], 1, {
				targetChunks: [10, 1000],
				sourceChunks: [25, 1000],
				maxBlockBytes: 50_000,
			}),
		).toEqual([50, 1000]);
	});
	it("refuses a target chunk larger than the budget", () => {
		expect(() =>
			planBlocks([100, 100], 8, {
				targetChunks: [100, 100],
				maxBlockBytes: 1000,
			}),
		).toThrow(expect.objectContaining({ code: "LIMIT_EXCEEDED" }));
	});
	it("makes contiguous slabs for unchunked data", () => {
		expect(slabShape([100, 50], 8, "C", 4000)).toEqual([10, 50]);
		expect(slabShape([100, 50], 8, "F", 4000)).toEqual([100, 5]);
		expect(slabShape([2, 10_000_000], 8, "C", 8 << 20)).toEqual([1, 1048576]);
	});
	it("tiles a region exactly once with truncated edges", () => {
		const region = resolveSelection([10, 7]).box;
		const seen = new Uint8Array(70);
		for (const { region: r } of gridBlocks(region, [3, 4])) {
			for (let i = 0; i < (r.shape[0] as number); i++)
				for (let j = 0; j < (r.shape[1] as number); j++) {
					const at =
						((r.start[0] as number) + i) * 7 + (r.start[1] as number) + j;
					seen[at] = (seen[at] as number) + 1;
				}
		}
		expect(seen.every((c) => c === 1)).toBe(true);
		expect([...gridBlocks({ start: [], shape: [] }, [])]).toHaveLength(1);
		expect([...gridBlocks({ start: [0], shape: [0] }, [5])]).toHaveLength(0);
	});
});
