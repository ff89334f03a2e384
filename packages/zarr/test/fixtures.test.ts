import { join } from "node:path";
import { FORMATS_DIR, formatsManifest, sha256 } from "@arraystore/conformance";
import { parseDType, swapInPlace, withByteOrder } from "@arraystore/core";
import { describe, expect, it } from "vitest";
import { openZarr, openZarrContainer } from "./helpers.js";

// The manifest writes fill values as JSON (floats' specials as strings, complex as pairs).
function manifestFill(v: unknown, wide = false): unknown {
	// int64-wide types report bigint fill values.
	if (wide && (typeof v === "number" || typeof v === "string"))
		return BigInt(v);
	if (v === "NaN") return Number.NaN;
	if (v === "Infinity") return Number.POSITIVE_INFINITY;
	if (v === "-Infinity") return Number.NEGATIVE_INFINITY;
	if (Array.isArray(v)) return v.map((x) => manifestFill(x));
	return v;
}

const entries = formatsManifest().arrays.filter(
	(a) => a.format === "zarr2" || a.format === "zarr3",
);

describe("zarr: fixtures", () => {
	it("covers every Zarr fixture of the manifest", () => {
		expect(entries.length).toBeGreaterThanOrEqual(39);
	});

	for (const e of entries) {
		it(`reads ${e.id}`, async () => {
			await using a = await openZarr(
				join(FORMATS_DIR, e.file),
				e.dataset ?? "",
			);
			const info = a.info;
			if (e.format === "zarr2") expect(info.dtype.str).toBe(e.dtype);
			else expect(withByteOrder(info.dtype, "<").str).toBe(e.dtype);
			expect(info.shape).toEqual(e.shape);
			expect(info.chunks).toEqual(e.chunks);
			if (e.format === "zarr2") expect(info.order).toBe(e.order);
			const data = await a.read();
			expect(sha256(data.bytes)).toBe(e.sha256_le);
			// sha256 is over the listed dtype's byte order (v2 keeps the stored order).
			const listed = parseDType(e.dtype);
			const asListed = data.bytes.slice();
			if (listed.byteOrder === ">") swapInPlace(listed, asListed);
			expect(sha256(asListed)).toBe(e.sha256);
			expect(info.fillValue).toEqual(
				manifestFill(
					e.fill_value,
					["i8", "u8", "M8", "m8"].includes(listed.code),
				),
			);
			expect(await a.attrs()).toEqual(e.attributes);
		});
	}

	it("reads sub-boxes that cross chunk edges", async () => {
		const e = entries.find((x) => x.id === "zarr3/partial_edge_3d");
		if (!e) throw new Error("fixture missing");
		await using a = await openZarr(join(FORMATS_DIR, e.file));
		const all = new Int32Array((await a.read()).bytes.buffer);
		const part = new Int32Array(
			(
				await a.read([
					{ start: 1, stop: 4 },
					{ start: 2, stop: 7 },
					{ start: 3, stop: 9 },
				])
			).bytes.buffer,
		);
		let k = 0;
		for (let i = 1; i < 4; i++)
			for (let j = 2; j < 7; j++)
				for (let l = 3; l < 9; l++)
					expect(part[k++]).toBe(all[(i * 7 + j) * 9 + l]);
	});
});

// The WebAssembly codecs stay the fallback when the native modules cannot load.
describe("zarr: fixtures through the WebAssembly codecs", () => {
	const compressed = entries.filter((e) =>
		/blosc|zstd|lz4|gzip|zlib/.test(JSON.stringify(e.codecs)),
	);
	it("has compressed fixtures", () => {
		expect(compressed.length).toBeGreaterThanOrEqual(10);
	});
	for (const e of compressed) {
		it(`reads ${e.id}`, async () => {
			await using a = await openZarr(
				join(FORMATS_DIR, e.file),
				e.dataset ?? "",
				"r",
				{ nativeCodecs: false },
			);
			expect(sha256((await a.read()).bytes)).toBe(e.sha256_le);
		});
	}
});

describe("zarr: fixture hierarchies", () => {
	for (const g of formatsManifest().groups.filter((x) =>
		String(x.format).startsWith("zarr"),
	)) {
		it(`lists ${g.file}#${g.path}`, async () => {
			await using c = await openZarrContainer(
				join(FORMATS_DIR, String(g.file)),
			);
			const members = (await c.list(String(g.path))).map((m) => ({
				name: m.path.split("/").pop(),
				kind: m.kind,
			}));
			const want = (g.members as { name: string; kind: string }[]).map((m) => ({
				name: m.name,
				kind: m.kind === "dataset" ? "array" : m.kind,
			}));
			expect(members).toEqual(want);
			expect(await c.attrs(String(g.path))).toEqual(g.attributes);
		});
	}
});
