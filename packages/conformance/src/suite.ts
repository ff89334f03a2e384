/**
 * `describeArrayStore`: the conformance suite every adapter runs in a few lines. Cases the
 * adapter cannot support are skipped from its capabilities and `checkDType`, never by hand.
 */
import { existsSync } from "node:fs";
import {
	type AdapterRegistry,
	type ArrayAdapter,
	type ArrayStore,
	type DType,
	isArrayStoreError,
	makeArrayData,
	parseDType,
	withByteOrder,
} from "@arraystore/core";
import { createRegistry } from "@arraystore/core/node";
import { describe, expect, it } from "vitest";
import {
	type NaiveIndex,
	naiveAssign,
	naiveSelect,
	randomBytes,
} from "./data.js";
import { fingerprint } from "./fs-state.js";
import { tempDir } from "./temp.js";

/** Options of {@link describeArrayStore}. */
export interface ConformanceOptions {
	readonly adapter: ArrayAdapter;
	/**
	 * A target for a new array called `name` inside the temp dir `dir`: `join(dir, name + ".npy")`,
	 * or `join(dir, "f.h5") + "#/" + name` for containers.
	 */
	readonly makeTarget: (dir: string, name: string) => string;
	/** Registry to open through (default: one holding only `adapter`). */
	readonly registry?: AdapterRegistry;
	/** Adapter options passed on create and open. */
	readonly adapterOptions?: Readonly<Record<string, unknown>>;
	/** Chunks to create chunked stores with (default: about a third of each dimension). */
	readonly chunked?: boolean;
	/** Extra `it`s inside the suite's describe. */
	readonly additionalTests?: () => void;
}

/** Every dtype the suite tries; each runs where `checkDType` accepts it. */
export const CONFORMANCE_DTYPES: readonly string[] = [
	"|b1",
	"|i1",
	"<i2",
	"<i4",
	"<i8",
	"|u1",
	"<u2",
	"<u4",
	"<u8",
	"<f2",
	"<f4",
	"<f8",
	"<c8",
	"<c16",
	"|S5",
	"<U3",
	"<M8[ns]",
	"<m8[s]",
	"|V6",
];
const STRUCTURED: unknown = [
	["a", "<i4"],
	["b", "<f8", [2]],
	["c", "|S3"],
];

/** Registers the whole suite for one adapter. */
export function describeArrayStore(options: ConformanceOptions): void {
	const { adapter } = options;
	const caps = adapter.capabilities;
	const registry = options.registry ?? createRegistry([adapter]);
	const adapterOptions = options.adapterOptions ?? {};
	const writable = caps.modes.includes("w+");
	const dtypes = [
		...CONFORMANCE_DTYPES.map((s) => parseDType(s)),
		parseDType(STRUCTURED as never),
	];
	const big = caps.byteOrders.includes(">")
		? dtypes
				.filter((d) => d.itemsize > 1 && d.kind !== "S" && d.kind !== "V")
				.map((d) => withByteOrder(d, ">"))
		: [];
	const accepted = (d: DType) => adapter.checkDType(d).ok;
	const chunksFor = (shape: readonly number[]) =>
		caps.chunked && options.chunked !== false
			? shape.map((n) => Math.max(1, Math.ceil(n / 3)))
			: undefined;

	async function create(
		target: string,
		dtype: DType | string,
		shape: readonly number[],
		extra: Record<string, unknown> = {},
	): Promise<ArrayStore> {
		const chunks = chunksFor(shape);
		return registry.create(target, {
			format: adapter.name,
			dtype: typeof dtype === "string" ? parseDType(dtype) : dtype,
			shape,
			adapterOptions,
			...(chunks ? { chunks } : {}),
			...extra,
		});
	}
	async function reopen(
		target: string,
		mode: "r" | "r+" | "c" = "r",
		extra: Record<string, unknown> = {},
	): Promise<ArrayStore> {
		return (await registry.open(target, {
			format: adapter.name,
			mode,
			adapterOptions,
			...extra,
		})) as ArrayStore;
	}
	const fileOf = (target: string) => target.split("#")[0] as string;

	describe(`conformance: ${adapter.name}`, () => {
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
				const refused = [...dtypes, parseDType("<f16")].find(
					(d) => !accepted(d),
				);
				if (!refused) return expect(refused).toBeUndefined();
				await using tmp = await tempDir();
				const target = options.makeTarget(tmp.path, "refused");
				await expect(create(target, refused, [3])).rejects.toMatchObject({
					code: "UNSUPPORTED_DTYPE",
				});
				expect(existsSync(fileOf(target))).toBe(false);
			});
		});

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
				await expect(
					store.write([0], new Float32Array(4)),
				).rejects.toMatchObject({ code: "SHAPE_MISMATCH" });
				await expect(
					store.write(
						[0],
						makeArrayData(parseDType("<i4"), [3], new Uint8Array(12)),
					),
				).rejects.toMatchObject({ code: "DTYPE_MISMATCH" });
			});
		});

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
					await store.write(
						[1, { start: 1, stop: 3 }],
						new Int32Array([7, -8]),
					);
					await store.flush();
				}
				await using back = await reopen(target);
				expect([
					...new Int32Array((await back.read([1])).bytes.buffer),
				]).toEqual([0, 7, -8, 0]);
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

			it.skipIf(
				!caps.modes.includes("c") || adapter.nativeCopyOnWrite === true,
			)("c refuses to grow its overlay past maxOverlayBytes", async () => {
				await using tmp = await tempDir();
				const target = options.makeTarget(tmp.path, "cap");
				await (await create(target, "<f8", [200, 100])).close();
				await using store = await reopen(target, "c", {
					maxOverlayBytes: 1024,
				});
				await expect(store.write([], 1)).rejects.toMatchObject({
					code: "LIMIT_EXCEEDED",
				});
			});

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
				const ids = new Uint8Array(
					new Uint32Array(396).map((_, i) => i).buffer,
				);
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
			await reopen(options.makeTarget(tmp.path, "nothing")).catch(
				(e: unknown) => errors.push(e),
			);
			expect(errors).toHaveLength(1);
			expect(errors.every((e) => isArrayStoreError(e))).toBe(true);
		});

		options.additionalTests?.();
	});
}

function compareIndex(a: readonly number[], b: readonly number[]): number {
	for (let i = 0; i < a.length; i++)
		if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
	return 0;
}
