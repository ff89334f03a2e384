import { makeArrayData, parseDType } from "@arraystore/core";
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
export function selectionCases(ctx: SuiteContext): void {
	const { writable, create, options } = ctx;
	describe.skipIf(!writable)("selections", () => {
		const shape = [7, 6, 5];
		const dtype = parseDType("<u2");
		const full = randomBytes(dtype, 210, 11);
		const selections: NaiveIndex[][] = [
			[],
			[3],
			[-1],
			[{ start: 2, stop: 5 }],
			[null, { start: 1, stop: 6, step: 2 }],
			[{ step: -1 }],
			[{ start: 6, stop: 0, step: -3 }, 2, { start: -2 }],
			[1, -2, 4],
			[{ start: 10, stop: 20 }],
			[null, null, { step: 4 }],
		];
		for (const sel of selections) {
			it(`reads and writes ${JSON.stringify(sel)}`, async () => {
				await using tmp = await tempDir();
				const target = options.makeTarget(tmp.path, "sel");
				await using store = await create(target, dtype, shape);
				await store.write([], full);
				const want = naiveSelect(full, shape, 2, sel);
				const got = await store.read(sel);
				expect(got.shape).toEqual(want.shape);
				expect(got.bytes).toEqual(want.bytes);
				const values = randomBytes(dtype, want.bytes.length / 2, 99);
				await store.write(sel, values);
				const expected = full.slice();
				naiveAssign(expected, shape, 2, sel, values);
				expect((await store.read()).bytes).toEqual(expected);
			});
		}
		it("rejects bad selections with InvalidSelectionError", async () => {
			await using tmp = await tempDir();
			await using store = await create(
				options.makeTarget(tmp.path, "bad"),
				dtype,
				shape,
			);
			for (const bad of [
				[7],
				[-8],
				[0, 0, 0, 0],
				[{ step: 0 }],
				[1.5],
			] as NaiveIndex[][]) {
				await expect(store.read(bad)).rejects.toMatchObject({
					code: "INVALID_SELECTION",
				});
			}
			await expect(store.write([99], 1)).rejects.toMatchObject({
				code: "INVALID_SELECTION",
			});
		});
		it("broadcasts scalars and checks sizes and dtypes", async () => {
			await using tmp = await tempDir();
			await using store = await create(
				options.makeTarget(tmp.path, "scalar"),
				"<f4",
				[4, 3],
			);
			await store.write([{ start: 1, stop: 3 }], 2.5);
			expect([
				...new Float32Array((await store.read([1])).bytes.buffer),
			]).toEqual([2.5, 2.5, 2.5]);
			expect([
				...new Float32Array((await store.read([0])).bytes.buffer),
			]).toEqual([0, 0, 0]);
			await expect(store.write([0], new Float32Array(4))).rejects.toMatchObject(
				{ code: "SHAPE_MISMATCH" },
			);
			await expect(
				store.write(
					[0],
					makeArrayData(parseDType("<i4"), [3], new Uint8Array(12)),
				),
			).rejects.toMatchObject({ code: "DTYPE_MISMATCH" });
		});
	});
}
