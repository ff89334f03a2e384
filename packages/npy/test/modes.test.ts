import { readFileSync, statSync, writeFileSync } from "node:fs";
import { python, sha256, skipNote, tempDir } from "@arraystore/conformance";
import { makeArrayData, parseDType } from "@arraystore/core";
import { createRegistry } from "@arraystore/core/node";
import { describe, expect, it } from "vitest";
import {
	appendNpy,
	formatNpyHeader,
	npyAdapter,
	openNpy,
} from "../src/index.js";

const registry = createRegistry([npyAdapter]);
const hasNumpy = python.has("numpy");
if (!hasNumpy)
	skipNote("npy mode tests' numpy checks", python.missing("numpy"));

function f8(values: number[], shape: number[]) {
	const data = new Float64Array(values);
	return makeArrayData(parseDType("<f8"), shape, new Uint8Array(data.buffer));
}

/** numpy's view of a file: shape, order, values as a flat C-order list. */
function numpyLoad(path: string): {
	shape: number[];
	fortran: boolean;
	values: number[];
	str: string;
} {
	return python.run(
		`import numpy as np
a = np.load(INPUT, allow_pickle=False)
print(json.dumps({"shape": list(a.shape), "fortran": bool(a.flags.f_contiguous and not a.flags.c_contiguous), "values": [float(x) for x in np.ascontiguousarray(a).ravel()], "str": a.dtype.str}))`,
		path,
	);
}

describe("npy: modes", () => {
	it("w+ creates a numpy-loadable file; r+ writes persist; r reads them", async () => {
		await using tmp = await tempDir();
		const file = tmp.join("a.npy");
		{
			await using s = await registry.create(file, {
				dtype: ">f8",
				shape: [2, 3],
			});
			await s.write([1], new Float64Array([4, 5, 6]));
		}
		{
			await using s = await registry.open(file, { mode: "r+" });
			await s.write([0, 1], 9);
		}
		await using r = await registry.open(file);
		expect(r.info.dtype.str).toBe(">f8");
		expect(Array.from((await r.read()).data as Float64Array)).toEqual([
			0, 9, 0, 4, 5, 6,
		]);
		if (hasNumpy)
			expect(numpyLoad(file)).toMatchObject({
				shape: [2, 3],
				values: [0, 9, 0, 4, 5, 6],
				str: ">f8",
			});
	});

	it("w+ honours fillValue and exclusive", async () => {
		await using tmp = await tempDir();
		const file = tmp.join("fill.npy");
		{
			await using s = await registry.create(file, {
				dtype: "<i2",
				shape: [5],
				fillValue: -3,
			});
			expect(Array.from((await s.read()).data as Int16Array)).toEqual([
				-3, -3, -3, -3, -3,
			]);
		}
		await expect(
			registry.create(file, { dtype: "<i2", shape: [5], exclusive: true }),
		).rejects.toMatchObject({ code: "ALREADY_EXISTS" });
	});

	it("c reads its own writes and never touches the file", async () => {
		await using tmp = await tempDir();
		const file = tmp.join("c.npy");
		{
			await using s = await registry.create(file, {
				dtype: "<f8",
				shape: [4],
				order: "C",
			});
			await s.write([], new Float64Array([1, 2, 3, 4]));
		}
		const before = sha256(readFileSync(file));
		const mtime = statSync(file).mtimeMs;
		{
			await using s = await registry.open(file, { mode: "c" });
			await s.write([2], 42);
			expect(Array.from((await s.read()).data as Float64Array)).toEqual([
				1, 2, 42, 4,
			]);
			await s.flush();
		}
		expect(sha256(readFileSync(file))).toBe(before);
		expect(statSync(file).mtimeMs).toBe(mtime);
	});

	it("refuses object dtypes before creating anything", async () => {
		await using tmp = await tempDir();
		const file = tmp.join("o.npy");
		expect(
			npyAdapter.checkDType(
				parseDType({
					names: ["a", "b"],
					formats: ["<i4", "<i4"],
					offsets: [0, 2],
				}),
			).ok,
		).toBe(false);
		await expect(
			registry.create(file, {
				dtype: parseDType({
					names: ["a", "b"],
					formats: ["<i4", "<i4"],
					offsets: [0, 2],
				}),
				shape: [1],
			}),
		).rejects.toMatchObject({ code: "UNSUPPORTED_DTYPE" });
		expect(() => statSync(file)).toThrow();
		// A file with an object header: a typed error, never unpickled.
		const header = new TextEncoder().encode(
			"{'descr': '|O', 'fortran_order': False, 'shape': (1,), }\n",
		);
		const pre = Uint8Array.of(
			0x93,
			0x4e,
			0x55,
			0x4d,
			0x50,
			0x59,
			1,
			0,
			header.length,
			0,
		);
		writeFileSync(file, Buffer.concat([pre, header, Buffer.alloc(8)]));
		await expect(registry.open(file)).rejects.toMatchObject({
			code: "UNSUPPORTED_DTYPE",
		});
	});

	it("reports missing files, bad magic and truncated data as typed errors", async () => {
		await using tmp = await tempDir();
		await expect(registry.open(tmp.join("missing.npy"))).rejects.toMatchObject({
			code: "NOT_FOUND",
		});
		const bad = tmp.join("bad.npy");
		writeFileSync(bad, "\x93NUMPZ\x01\x00garbage");
		await expect(registry.open(bad, { format: "npy" })).rejects.toMatchObject({
			code: "MALFORMED",
		});
		const short = tmp.join("short.npy");
		const h = formatNpyHeader({
			dtype: parseDType("<f8"),
			shape: [10],
			fortranOrder: false,
		});
		writeFileSync(short, Buffer.concat([h, Buffer.alloc(79)]));
		await expect(registry.open(short)).rejects.toMatchObject({
			code: "TRUNCATED",
		});
		writeFileSync(short, Buffer.concat([h, Buffer.alloc(80 + 13)]));
		await using ok = await registry.open(short);
		expect(ok.info.shape).toEqual([10]);
	});
});

describe("npy: resize and append", () => {
	it("grows axis 0 of a C-order file in place, keeping the data offset", async () => {
		await using tmp = await tempDir();
		const file = tmp.join("grow.npy");
		expect(await appendNpy(file, f8([1, 2, 3, 4], [2, 2]))).toEqual([2, 2]);
		const first = await openNpy(file, { mode: "r" });
		const offset = first.header.dataOffset;
		await first.close();
		expect(await appendNpy(file, f8([5, 6], [1, 2]))).toEqual([3, 2]);
		expect(await appendNpy(file, f8([7, 8, 9, 10], [2, 2]))).toEqual([5, 2]);
		const d = await openNpy(file, { mode: "r" });
		expect(d.header.dataOffset).toBe(offset);
		await d.close();
		await using s = await registry.open(file);
		expect(Array.from((await s.read()).data as Float64Array)).toEqual([
			1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
		]);
		if (hasNumpy)
			expect(numpyLoad(file)).toMatchObject({
				shape: [5, 2],
				values: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
			});
	});

	it("grows the last axis of an F-order file", async () => {
		await using tmp = await tempDir();
		const file = tmp.join("f.npy");
		{
			await using s = await registry.create(file, {
				dtype: "<f8",
				shape: [2, 2],
				order: "F",
			});
			await s.write([], new Float64Array([1, 2, 3, 4]));
		}
		expect(await appendNpy(file, f8([5, 6], [2, 1]))).toEqual([2, 3]);
		await expect(appendNpy(file, f8([5, 6, 7], [1, 3]))).rejects.toMatchObject({
			code: "SHAPE_MISMATCH",
		});
		await using s = await registry.open(file);
		expect(Array.from((await s.read()).data as Float64Array)).toEqual([
			1, 2, 5, 3, 4, 6,
		]);
		if (hasNumpy)
			expect(numpyLoad(file)).toMatchObject({
				shape: [2, 3],
				fortran: true,
				values: [1, 2, 5, 3, 4, 6],
			});
	});

	it("rewrites the header and moves the data when the shape outgrows the padding", async () => {
		await using tmp = await tempDir();
		const file = tmp.join("tight.npy");
		// A writer without any padding: the header has room for exactly "(2, 2)".
		const header = Buffer.from(
			"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }\n",
			"latin1",
		);
		const pre = Buffer.from([
			0x93,
			0x4e,
			0x55,
			0x4d,
			0x50,
			0x59,
			1,
			0,
			header.length & 0xff,
			header.length >> 8,
		]);
		writeFileSync(
			file,
			Buffer.concat([
				pre,
				header,
				Buffer.from(new Float64Array([1, 2, 3, 4]).buffer),
				Buffer.from("trailing"),
			]),
		);
		const d = await openNpy(file, { mode: "r+" });
		const oldOffset = d.header.dataOffset;
		await d.resize([3, 2]); // same number of digits: fits in place
		expect(d.header.dataOffset).toBe(oldOffset);
		await d.resize([10, 2]); // one more digit: the header grows, the data moves
		expect(d.header.dataOffset).toBe(128);
		const rows = new Float64Array(16).map((_, i) => 5 + i);
		await d.write(
			{ start: [2, 0], shape: [8, 2] },
			new Uint8Array(rows.buffer),
		);
		await d.close();
		const expected = [1, 2, 3, 4, ...rows];
		await using s = await registry.open(file);
		expect(s.info.shape).toEqual([10, 2]);
		expect(Array.from((await s.read()).data as Float64Array)).toEqual(expected);
		expect(statSync(file).size).toBe(128 + 160);
		if (hasNumpy)
			expect(numpyLoad(file)).toMatchObject({
				shape: [10, 2],
				values: expected,
			});
	});

	it("keeps the bytes of rows that were there when growing reopens the region", async () => {
		await using tmp = await tempDir();
		const file = tmp.join("g.npy");
		await appendNpy(file, f8([1, 2], [2]));
		for (let i = 3; i <= 40; i++) await appendNpy(file, f8([i], [1]));
		await using s = await registry.open(file);
		expect(Array.from((await s.read()).data as Float64Array)).toEqual(
			Array.from({ length: 40 }, (_, i) => i + 1),
		);
	});

	it("refuses resizing other axes, 0-d files and mode r", async () => {
		await using tmp = await tempDir();
		const file = tmp.join("z.npy");
		{
			await using s = await registry.create(file, { dtype: "<f4", shape: [] });
			await expect(s.resize([1])).rejects.toMatchObject({
				code: "SHAPE_MISMATCH",
			});
		}
		const two = tmp.join("two.npy");
		{
			await using s = await registry.create(two, {
				dtype: "<f4",
				shape: [2, 2],
			});
			await expect(s.resize([2, 3])).rejects.toMatchObject({
				code: "UNSUPPORTED",
			});
			await s.resize([4, 2]);
			expect(s.info.shape).toEqual([4, 2]);
			await s.resize([1, 2]);
			expect(s.info.shape).toEqual([1, 2]);
		}
		await using r = await registry.open(two);
		expect(r.info.shape).toEqual([1, 2]);
		await expect(
			(r as unknown as { resize(s: number[]): Promise<void> }).resize([3, 2]),
		).rejects.toMatchObject({ code: "READ_ONLY" });
	});
});
