import {
	type ArrayAdapter,
	createArrayStore,
	makeArrayData,
	parseDType,
	type Selection,
	slice,
} from "@arraystore/core";
import { describe, expect, it } from "vitest";
import {
	type NaiveIndex,
	naiveAssign,
	naiveSelect,
	randomBytes,
} from "../../conformance/src/index.js"; // no package dependency: conformance depends on core
import { memoryDriver } from "./memory-driver.js";

const caps: ArrayAdapter["capabilities"] = {
	modes: ["r", "r+", "w+", "c"],
	orders: ["C", "F"],
	byteOrders: ["<", ">"],
	chunked: false,
	codecs: [],
	attributes: "readwrite",
	hierarchy: "none",
	needsLayout: false,
	resize: false,
	zeroCopy: false,
};
const ctx = (mode: "r" | "r+" | "c" = "r+") => ({
	format: "memory",
	target: "mem",
	mode,
	capabilities: caps,
});

// F-order, big-endian storage: the store must still present C order, native bytes.
function fbeStore(shape: number[]) {
	const dtype = parseDType(">i4");
	const n = shape.reduce((a, b) => a * b, 1);
	const logical = new Int32Array(n).map((_, i) => i * 7 - 50);
	const stored = new Uint8Array(n * 4);
	const strides = shape.map((_, d) =>
		shape.slice(0, d).reduce((a, b) => a * b, 1),
	);
	const cStrides = shape.map((_, d) =>
		shape.slice(d + 1).reduce((a, b) => a * b, 1),
	);
	const dv = new DataView(stored.buffer);
	for (let i = 0; i < n; i++) {
		const idx = cStrides.map(
			(s, d) => Math.floor(i / s) % (shape[d] as number),
		);
		dv.setInt32(
			4 * idx.reduce((a, x, d) => a + x * (strides[d] as number), 0),
			logical[i] as number,
			false,
		);
	}
	return { driver: memoryDriver(dtype, shape, "F", stored), logical };
}

describe("core: store", () => {
	it("reads F-order big-endian storage as C-order native data, for any selection", async () => {
		const shape = [5, 4, 3];
		const { driver, logical } = fbeStore(shape);
		const store = createArrayStore(driver, ctx("r"));
		const full = new Uint8Array(logical.buffer);
		expect((await store.read()).bytes).toEqual(full);
		for (const sel of [
			[1],
			[slice(null, null, -2), 2],
			[null, slice(1, 3), -1],
			[-1, -1, -1],
		] as NaiveIndex[][]) {
			const got = await store.read(sel as Selection);
			const want = naiveSelect(full, shape, 4, sel);
			expect(got.shape).toEqual(want.shape);
			expect(got.bytes).toEqual(want.bytes);
		}
		expect(store.info.dtype.str).toBe(">i4");
		expect((await store.read()).dtype.str).toBe("<i4");
	});

	it("writes strided selections into F-order big-endian storage (read-modify-write of gaps)", async () => {
		const shape = [6, 5];
		const { driver, logical } = fbeStore(shape);
		const store = createArrayStore(driver, ctx());
		const full = new Uint8Array(logical.buffer.slice(0));
		const sel: NaiveIndex[] = [slice(5, null, -2), slice(0, 5, 2)];
		const values = new Int32Array([1, 2, 3, 4, 5, 6, 7, 8, 9]);
		await store.write(sel as Selection, values);
		naiveAssign(full, shape, 4, sel, new Uint8Array(values.buffer));
		expect((await store.read()).bytes).toEqual(full);
	});

	it("splits sparse strided selections instead of reading a huge bounding box", async () => {
		const dtype = parseDType("<u1");
		const driver = memoryDriver(dtype, [64 * 1024 * 1024]);
		const store = createArrayStore(driver, ctx());
		await store.write(
			[slice(0, null, 8 * 1024 * 1024)],
			new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]),
		);
		const got = await store.read([slice(0, null, 8 * 1024 * 1024)]);
		expect([...got.bytes]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
		expect(driver.stored[8 * 1024 * 1024 * 3]).toBe(4);
	});

	it("accepts ArrayData in another byte order and checks layouts", async () => {
		const store = createArrayStore(memoryDriver(parseDType("<u2"), [2]), ctx());
		await store.write(
			[],
			makeArrayData(parseDType(">u2"), [2], new Uint8Array([1, 2, 3, 4])),
		);
		expect([...new Uint16Array((await store.read()).bytes.buffer)]).toEqual([
			0x0102, 0x0304,
		]);
	});

	it("mode c keeps writes in the overlay and the driver untouched", async () => {
		const driver = memoryDriver(
			parseDType("<f8"),
			[100, 10],
			"C",
			undefined,
			[30, 4],
		);
		const store = createArrayStore(driver, {
			...ctx("c"),
			maxOverlayBytes: 1 << 20,
		});
		await store.write([slice(10, 40), 3], 9);
		expect(driver.writes).toBe(0);
		expect(driver.stored.every((b) => b === 0)).toBe(true);
		const col = new Float64Array((await store.read([null, 3])).bytes.buffer);
		expect(
			[...col]
				.map((v, i) => (i >= 10 && i < 40 ? v === 9 : v === 0))
				.every(Boolean),
		).toBe(true);
		await store.setAttrs({ a: 1 });
		expect(await store.attrs()).toEqual({ a: 1 });
		await expect(store.resize([5, 10])).rejects.toMatchObject({
			code: "UNSUPPORTED",
		});
	});

	it("wraps driver failures into typed errors with the target", async () => {
		const driver = memoryDriver(parseDType("<f8"), [4]);
		driver.read = async () => {
			throw new TypeError("boom");
		};
		const store = createArrayStore(driver, ctx());
		await expect(store.read()).rejects.toMatchObject({
			code: "IO_ERROR",
			target: "mem",
		});
	});

	it("prefetches blocks and covers a region selection", async () => {
		const driver = memoryDriver(parseDType("<u1"), [10, 10]);
		driver.stored.set(randomBytes(parseDType("<u1"), 100, 3));
		const store = createArrayStore(driver, ctx("r"));
		const blocks = [];
		for await (const b of store.iterBlocks({
			selection: [slice(2, 9), slice(1, 10)],
			blockShape: [3, 4],
			prefetch: 2,
		}))
			blocks.push(b);
		expect(blocks.map((b) => b.offset)).toEqual([
			[2, 1],
			[2, 5],
			[2, 9],
			[5, 1],
			[5, 5],
			[5, 9],
			[8, 1],
			[8, 5],
			[8, 9],
		]);
		expect(blocks[8]?.shape).toEqual([1, 1]);
		expect(blocks[8]?.bytes[0]).toBe(driver.stored[89]);
	});
});
