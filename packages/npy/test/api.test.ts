import { describe, expect, it } from "vitest";

describe("npy: public API", () => {
	it("exports exactly these names", async () => {
		const api = await import("../src/index.js");
		expect(Object.keys(api).sort()).toEqual([
			"ARRAY_ALIGN",
			"DEFAULT_MAX_DEPTH",
			"DEFAULT_MAX_HEADER_BYTES",
			"GROWTH_AXIS_MAX_DIGITS",
			"NPY_ADAPTER",
			"NPY_MAGIC",
			"NPZ_ADAPTER",
			"appendNpy",
			"checkNpyDType",
			"createNpy",
			"encodeHeaderText",
			"formatNpyHeader",
			"hasNpyMagic",
			"hasZipMagic",
			"isPyDict",
			"isPyTuple",
			"npyAdapter",
			"npyHeaderDict",
			"npzAdapter",
			"openNpy",
			"openNpz",
			"parseNpyHeader",
			"parseNpyHeaderText",
			"parseNpyPreamble",
			"parsePyLiteral",
			"readNpyHeader",
			"readNpzOptions",
			"wrapHeader",
		]);
	});

	it("describes the adapters' capabilities", async () => {
		const { npyAdapter, npzAdapter } = await import("../src/index.js");
		expect(npyAdapter).toMatchObject({
			name: "npy",
			extensions: [".npy"],
			nativeCopyOnWrite: true,
		});
		expect(npyAdapter.capabilities).toMatchObject({
			modes: ["r", "r+", "w+", "c"],
			orders: ["C", "F"],
			byteOrders: ["<", ">"],
			hierarchy: "none",
			attributes: "none",
			resize: true,
		});
		expect(npzAdapter).toMatchObject({
			name: "npz",
			extensions: [".npz"],
			nativeCopyOnWrite: false,
		});
		expect(npzAdapter.capabilities).toMatchObject({
			hierarchy: "flat",
			attributes: "none",
			resize: false,
			codecs: ["deflate"],
		});
	});
});
