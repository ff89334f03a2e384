import { describe, expect, it } from "vitest";

describe("zarr: public API", () => {
	it("exports exactly these names", async () => {
		const api = await import("../src/index.js");
		expect(Object.keys(api).sort()).toEqual([
			"createZarrAdapter",
			"zarrAdapter",
		]);
	});

	it("describes the adapter", async () => {
		const { zarrAdapter } = await import("../src/index.js");
		expect(zarrAdapter.name).toBe("zarr");
		expect(zarrAdapter.extensions).toEqual([".zarr"]);
		expect(zarrAdapter.nativeCopyOnWrite).toBeUndefined();
		expect(zarrAdapter.capabilities).toMatchObject({
			modes: ["r", "r+", "w+", "c"],
			orders: ["C", "F"],
			byteOrders: ["<", ">"],
			chunked: true,
			attributes: "readwrite",
			hierarchy: "tree",
			resize: true,
		});
		const probe = (entries: string[], isDirectory = true) => ({
			path: "x",
			extension: "",
			size: 0,
			isDirectory,
			head: new Uint8Array(),
			entries,
			hasSidecar: false,
			signatures: new Map(),
		});
		for (const marker of ["zarr.json", ".zarray", ".zgroup", ".zmetadata"])
			expect(zarrAdapter.sniff?.(probe(["a", marker]))).toBe(true);
		expect(zarrAdapter.sniff?.(probe(["a.txt"]))).toBe(false);
		expect(zarrAdapter.sniff?.(probe([".zarray"], false))).toBe(false);
	});
});
