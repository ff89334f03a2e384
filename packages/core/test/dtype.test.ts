import {
	decodeElement,
	encodeElement,
	halfToNumber,
	numberToHalf,
	numpyName,
	parseDType,
	sameLayout,
	swapInPlace,
	toDescr,
	withByteOrder,
} from "@arraystore/core";
import { describe, expect, it } from "vitest";

describe("core: dtype parse", () => {
	it("parses dtype.str forms into canonical numpy str", () => {
		const cases: [string, string, number][] = [
			["<f4", "<f4", 4],
			[">i2", ">i2", 2],
			["|b1", "|b1", 1],
			["<c16", "<c16", 16],
			["|S5", "|S5", 5],
			["<U3", "<U3", 12],
			["<M8[ns]", "<M8[ns]", 8],
			[">m8[10s]", ">m8[10s]", 8],
			["|V12", "|V12", 12],
			["<i1", "|i1", 1],
			["f8", "<f8", 8],
			["=u4", "<u4", 4],
			["?", "|b1", 1],
			["d", "<f8", 8],
			["<M8", "<M8", 8],
		];
		for (const [input, str, size] of cases) {
			const d = parseDType(input);
			expect(d.str, input).toBe(str);
			expect(d.itemsize, input).toBe(size);
		}
	});
	it("parses numpy names as str(dtype) prints them", () => {
		expect(parseDType("float32").str).toBe("<f4");
		expect(parseDType("int64").str).toBe("<i8");
		expect(parseDType("bool").str).toBe("|b1");
		expect(parseDType("complex128").str).toBe("<c16");
		expect(parseDType("datetime64[D]").str).toBe("<M8[D]");
		expect(parseDType("timedelta64[s]").str).toBe("<m8[s]");
		expect(parseDType("float16").str).toBe("<f2");
	});
	it("parses structured descr lists with padding, sub-arrays, nesting and titles", () => {
		const d = parseDType([
			["a", "<i4"],
			["", "|V4"],
			["b", "<f8", [2]],
			["c", [["x", "<u2"]]],
			[["T", "t"], "|S2"],
		] as never);
		expect(d.itemsize).toBe(4 + 4 + 16 + 2 + 2);
		expect(d.fields?.map((f) => [f.name, f.offset])).toEqual([
			["a", 0],
			["b", 8],
			["c", 24],
			["t", 26],
		]);
		expect(d.fields?.[3]?.title).toBe("T");
		expect(toDescr(d)).toEqual([
			["a", "<i4"],
			["", "|V4"],
			["b", "<f8", [2]],
			["c", [["x", "<u2"]]],
			[["T", "t"], "|S2"],
		]);
	});
	it("parses numpy's dict form with offsets and itemsize", () => {
		const d = parseDType({
			names: ["x", "y"],
			formats: ["<i2", "<f4"],
			offsets: [0, 4],
			itemsize: 12,
		});
		expect(d.itemsize).toBe(12);
		expect(toDescr(d)).toEqual([
			["x", "<i2"],
			["", "|V2"],
			["y", "<f4"],
			["", "|V4"],
		]);
	});
	it("refuses object, StringDType and nonsense with UnsupportedDTypeError", () => {
		for (const bad of ["|O", "O", "T", "<f3", "x9", "<M8[parsec]", "<i16"]) {
			expect(() => parseDType(bad), bad).toThrow(
				expect.objectContaining({ code: "UNSUPPORTED_DTYPE" }),
			);
		}
	});
	it("keeps long double as opaque (f16 is not float16)", () => {
		expect(parseDType("<f16")).toMatchObject({ itemsize: 16, opaque: true });
		expect(parseDType("<f2")).toMatchObject({ itemsize: 2 });
	});
	it("prints numpy names", () => {
		expect(numpyName(parseDType("<f4"))).toBe("float32");
		expect(numpyName(parseDType(">f8"))).toBe(">f8");
		expect(numpyName(parseDType("<M8[D]"))).toBe("datetime64[D]");
		expect(numpyName(parseDType("|S5"))).toBe("|S5");
		expect(
			numpyName(
				parseDType([
					["a", "<i4"],
					["b", "<f8"],
				] as never),
			),
		).toBe("[('a', '<i4'), ('b', '<f8')]");
	});
	it("changes byte order recursively and compares layouts", () => {
		const be = parseDType([
			["a", ">i4"],
			["b", ">f8", [2]],
		] as never);
		const le = withByteOrder(be, "<");
		expect(toDescr(le)).toEqual([
			["a", "<i4"],
			["b", "<f8", [2]],
		]);
		expect(sameLayout(be, le)).toBe(true);
		expect(sameLayout(parseDType("<i4"), parseDType("<u4"))).toBe(false);
	});
});

describe("core: float16", () => {
	it("round-trips every non-NaN half bit pattern", () => {
		for (let bits = 0; bits < 0x10000; bits++) {
			const v = halfToNumber(bits);
			if (Number.isNaN(v)) continue;
			expect(numberToHalf(v)).toBe(bits);
		}
	});
	it("matches numpy on known values (bytes from h5py in formats.md)", () => {
		// [0.5, 1, -2, 65504, 6e-8, inf, nan, 3.14159] → 0038 003c 00c0 ff7b 0100 007c 007e 4842 (LE)
		const want = [
			0x3800, 0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x7e00, 0x4248,
		];
		expect(
			[
				0.5,
				1,
				-2,
				65504,
				6e-8,
				Number.POSITIVE_INFINITY,
				Number.NaN,
				// biome-ignore lint/suspicious/noApproximativeNumericConstant: the value formats.md measured with h5py
				3.14159,
			].map(numberToHalf),
		).toEqual(want);
	});
});

describe("core: byte order and elements", () => {
	it("swaps only big-endian parts of a record", () => {
		const d = parseDType([
			["a", ">u2"],
			["b", "<u2"],
			["c", ">c8"],
		] as never);
		const bytes = new Uint8Array([1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8]);
		swapInPlace(d, bytes);
		expect([...bytes]).toEqual([2, 1, 3, 4, 4, 3, 2, 1, 8, 7, 6, 5]);
	});
	it("encodes and decodes elements of every kind", () => {
		const cases: [string, unknown][] = [
			["|b1", true],
			["<i2", -5],
			[">i4", 123456],
			["<u8", 2n ** 64n - 1n],
			["<f2", 1.5],
			[">f8", -0.25],
			["<c8", [1.5, -2]],
			["|S4", "ab"],
			["<U2", "é中"],
			["<M8[s]", -(2n ** 63n)],
			["<m8[D]", 5n],
		];
		for (const [s, v] of cases) {
			const d = parseDType(s);
			expect(decodeElement(d, encodeElement(d, v as never)), s).toEqual(v);
		}
		expect([...encodeElement(parseDType(">i2"), 1)]).toEqual([0, 1]);
		expect(() => encodeElement(parseDType("<i4"), "x" as never)).toThrow(
			expect.objectContaining({ code: "DTYPE_MISMATCH" }),
		);
	});
});
