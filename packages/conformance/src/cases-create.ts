/**
 * Conformance cases: create, write, reopen: every dtype and byte order, F order, shapes, fill, refusals.
 */
import { existsSync } from "node:fs";
import { makeArrayData, parseDType, withByteOrder } from "@arraystore/core";
import { describe, expect, it } from "vitest";
import { type NaiveIndex, naiveSelect, randomBytes } from "./data.js";
import type { SuiteContext } from "./suite-context.js";
import { tempDir } from "./temp.js";

/** Registers these cases inside the suite's describe. */
export function createCases(ctx: SuiteContext): void {
	const {
		caps,
		writable,
		dtypes,
		big,
		accepted,
		create,
		reopen,
		fileOf,
		options,
	} = ctx;
	describe.skipIf(!writable)("create, write, reopen", () => {
		for (const dtype of [...dtypes, ...big]) {
			it.skipIf(!accepted(dtype))(
				`round-trips ${dtype.str}${dtype.fields ? " (structured)" : ""}`,
				async () => {
					await using tmp = await tempDir();
					const target = options.makeTarget(tmp.path, "a");
					const shape = [5, 7];
					const data = randomBytes(dtype, 35, 7);
					{
						await using store = await create(target, dtype, shape);
						expect(store.mode).toBe("w+");
						await store.write(
							[],
							makeArrayData(withByteOrder(dtype, "native"), shape, data),
						);
						expect((await store.read()).bytes).toEqual(data);
					}
					await using again = await reopen(target);
					expect(again.mode).toBe("r");
					expect(again.info.shape).toEqual(shape);
					expect(withByteOrder(again.info.dtype, "<").str).toBe(
						withByteOrder(dtype, "<").str,
					);
					const back = await again.read();
					expect(back.shape).toEqual(shape);
					expect(back.bytes).toEqual(data);
				},
			);
		}

		it.skipIf(!caps.orders.includes("F"))(
			"stores F order and still reads and writes in C order",
			async () => {
				await using tmp = await tempDir();
				const target = options.makeTarget(tmp.path, "f");
				const shape = [4, 5, 6];
				const data = randomBytes(parseDType("<i4"), 120, 3);
				{
					await using store = await create(target, "<i4", shape, {
						order: "F",
					});
					await store.write([], data);
				}
				await using back = await reopen(target);
				expect(back.info.order).toBe("F");
				expect((await back.read()).bytes).toEqual(data);
				const sel: NaiveIndex[] = [{ start: 1, stop: 4 }, 2, { step: -2 }];
				expect((await back.read(sel)).bytes).toEqual(
					naiveSelect(data, shape, 4, sel).bytes,
				);
			},
		);

		for (const shape of [
			[],
			[1],
			[0],
			[0, 3],
			[13, 7],
			[3, 1, 5],
		] as number[][]) {
			it(`handles shape [${shape.join(", ")}]`, async () => {
				await using tmp = await tempDir();
				const target = options.makeTarget(tmp.path, "s");
				const n = shape.reduce((a, b) => a * b, 1);
				const data = randomBytes(parseDType("<f8"), n, 5);
				{
					await using store = await create(target, "<f8", shape);
					await store.write([], data);
				}
				await using back = await reopen(target);
				expect(back.info.shape).toEqual(shape);
				const all = await back.read();
				expect(all.shape).toEqual(shape);
				expect(all.bytes).toEqual(data);
			});
		}

		it.skipIf(options.huge !== true)(
			"addresses more than 2^31 elements",
			async () => {
				await using tmp = await tempDir();
				const target = options.makeTarget(tmp.path, "huge");
				const n = 2 ** 31 + 10;
				{
					await using store = await create(
						target,
						"|u1",
						[n],
						caps.chunked ? { chunks: [2 ** 26] } : {},
					);
					await store.write([{ start: n - 4 }], new Uint8Array([1, 2, 3, 4]));
					await store.write([5], 9);
				}
				await using back = await reopen(target);
				expect(back.info.shape).toEqual([n]);
				expect([...(await back.read([{ start: n - 6 }])).bytes]).toEqual([
					0, 0, 1, 2, 3, 4,
				]);
				expect([...(await back.read([{ start: 4, stop: 7 }])).bytes]).toEqual([
					0, 9, 0,
				]);
			},
		);

		it("unwritten elements read as the fill value (zero by default)", async () => {
			await using tmp = await tempDir();
			const target = options.makeTarget(tmp.path, "z");
			await using store = await create(target, "<i4", [6, 4]);
			await store.write([2], new Int32Array([1, 2, 3, 4]));
			const got = new Int32Array((await store.read()).bytes.buffer);
			expect([...got]).toEqual([
				0,
				0,
				0,
				0,
				0,
				0,
				0,
				0,
				1,
				2,
				3,
				4,
				...new Array(12).fill(0),
			]);
		});

		it("refuses dtypes the format cannot express before creating anything", async () => {
			const refused = [...dtypes, parseDType("<f16")].find((d) => !accepted(d));
			if (!refused) return expect(refused).toBeUndefined();
			await using tmp = await tempDir();
			const target = options.makeTarget(tmp.path, "refused");
			await expect(create(target, refused, [3])).rejects.toMatchObject({
				code: "UNSUPPORTED_DTYPE",
			});
			expect(existsSync(fileOf(target))).toBe(false);
		});
	});
}
