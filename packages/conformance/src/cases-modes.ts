import { type ArrayStore, parseDType } from "@arraystore/core";
import { describe, expect, it } from "vitest";
import { randomBytes } from "./data.js";
import { fingerprint } from "./fs-state.js";
import type { SuiteContext } from "./suite-context.js";
import { tempDir } from "./temp.js";

/** Registers these cases inside the suite's describe. */
export function modeCases(ctx: SuiteContext): void {
	const {
		adapter,
		caps,
		registry,
		adapterOptions,
		writable,
		create,
		reopen,
		fileOf,
		options,
	} = ctx;
	describe.skipIf(!writable)("modes", () => {
		it("defaults to 'r' and rejects writes there", async () => {
			await using tmp = await tempDir();
			const target = options.makeTarget(tmp.path, "ro");
			(await create(target, "<i2", [4])).close();
			await using store = await registry.open(target, {
				format: adapter.name,
				adapterOptions,
			});
			expect(store.mode).toBe("r");
			const rw = store as ArrayStore;
			await expect(rw.write([], 1)).rejects.toMatchObject({
				code: "READ_ONLY",
			});
			await expect(rw.setAttrs({ a: 1 })).rejects.toMatchObject({
				code: "READ_ONLY",
			});
			await expect(rw.resize([8])).rejects.toMatchObject({
				code: "READ_ONLY",
			});
			await rw.flush();
		});

		it.skipIf(!caps.modes.includes("r+"))("r+ writes persist", async () => {
			await using tmp = await tempDir();
			const target = options.makeTarget(tmp.path, "rw");
			await (await create(target, "<i4", [3, 4])).close();
			{
				await using store = await reopen(target, "r+");
				await store.write([1, { start: 1, stop: 3 }], new Int32Array([7, -8]));
				await store.flush();
			}
			await using back = await reopen(target);
			expect([...new Int32Array((await back.read([1])).bytes.buffer)]).toEqual([
				0, 7, -8, 0,
			]);
		});

		it.skipIf(!caps.modes.includes("c"))(
			"c reads its own writes and never changes the file",
			async () => {
				await using tmp = await tempDir();
				const target = options.makeTarget(tmp.path, "cow");
				const data = randomBytes(parseDType("<f8"), 60, 2);
				{
					await using s = await create(target, "<f8", [10, 6]);
					await s.write([], data);
				}
				const before = await fingerprint(fileOf(target));
				{
					await using store = await reopen(target, "c");
					expect(store.mode).toBe("c");
					await store.write([{ start: 2, stop: 4 }], 42);
					const got = new Float64Array((await store.read([3])).bytes.buffer);
					expect([...got]).toEqual(new Array(6).fill(42));
					expect((await store.read([0])).bytes).toEqual(data.subarray(0, 48));
					await store.flush();
				}
				expect(await fingerprint(fileOf(target))).toBe(before);
				await using back = await reopen(target);
				expect((await back.read()).bytes).toEqual(data);
			},
		);

		it.skipIf(!caps.modes.includes("c") || adapter.nativeCopyOnWrite === true)(
			"c refuses to grow its overlay past maxOverlayBytes",
			async () => {
				await using tmp = await tempDir();
				const target = options.makeTarget(tmp.path, "cap");
				await (await create(target, "<f8", [200, 100])).close();
				await using store = await reopen(target, "c", {
					maxOverlayBytes: 1024,
				});
				await expect(store.write([], 1)).rejects.toMatchObject({
					code: "LIMIT_EXCEEDED",
				});
			},
		);

		it.skipIf(!caps.resize)("resize grows the first axis", async () => {
			await using tmp = await tempDir();
			const target = options.makeTarget(tmp.path, "grow");
			{
				await using s = await create(target, "<i4", [2, 3]);
				await s.write([], new Int32Array([1, 2, 3, 4, 5, 6]));
				await s.resize([4, 3]);
				expect(s.info.shape).toEqual([4, 3]);
			}
			await using back = await reopen(target);
			expect(back.info.shape).toEqual([4, 3]);
			expect([...new Int32Array((await back.read()).bytes.buffer)]).toEqual([
				1, 2, 3, 4, 5, 6, 0, 0, 0, 0, 0, 0,
			]);
		});
	});
}
