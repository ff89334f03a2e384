import { copyFile, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
	FORMATS_DIR,
	formatsManifest,
	sha256,
	tempDir,
} from "@arraystore/conformance";
import {
	type DriverCreateOptions,
	type DriverOpenOptions,
	type Probe,
	parseDType,
} from "@arraystore/core";
import { createRegistry } from "@arraystore/core/node";
import { describe, expect, it } from "vitest";
import { openRawRegion, rawAdapter, readSidecar } from "../src/index.js";
import { adapterFor, IO_PATHS } from "./helpers.js";

const f4 = join(FORMATS_DIR, "raw/f4_100.dat");
const be = join(FORMATS_DIR, "raw/be_i4_8x8_offset128.dat");
const beEntry = formatsManifest().arrays.find(
	(a) => a.id === "raw/be_i4_8x8_offset128",
);

function openOpts(extra: Partial<DriverOpenOptions> = {}): DriverOpenOptions {
	return { mode: "r", path: "", adapterOptions: {}, ...extra };
}
function createOpts(
	dtype: string,
	shape: number[],
	extra: Partial<DriverCreateOptions> = {},
): DriverCreateOptions {
	return {
		path: "",
		dtype: parseDType(dtype),
		shape,
		order: "C",
		offset: 0,
		exclusive: false,
		adapterOptions: {},
		...extra,
	};
}

describe("raw: adapter surface", () => {
	it("declares numpy.memmap's capabilities", () => {
		expect(rawAdapter.name).toBe("raw");
		expect(rawAdapter.extensions).toEqual([".dat", ".raw", ".bin", ".memmap"]);
		expect(rawAdapter.createExtensions).toEqual([
			".dat",
			".raw",
			".bin",
			".memmap",
		]);
		expect(rawAdapter.nativeCopyOnWrite).toBe(true);
		expect(rawAdapter.capabilities).toMatchObject({
			modes: ["r", "r+", "w+", "c"],
			orders: ["C", "F"],
			byteOrders: ["<", ">"],
			chunked: false,
			codecs: [],
			attributes: "none",
			hierarchy: "none",
			needsLayout: true,
			resize: true,
			zeroCopy: true,
		});
		expect(adapterFor(false).capabilities.zeroCopy).toBe(false);
	});

	it("sniffs only files with a sidecar", () => {
		const probe = (hasSidecar: boolean): Probe => ({
			path: "x.dat",
			extension: ".dat",
			size: 400,
			isDirectory: false,
			head: new Uint8Array(16),
			entries: [],
			hasSidecar,
			signatures: new Map(),
		});
		expect(rawAdapter.sniff?.(probe(true))).toBe(true);
		expect(rawAdapter.sniff?.(probe(false))).toBe(false);
	});

	it("is found by extension or, for other names, by its sidecar", async () => {
		const registry = createRegistry([rawAdapter]);
		await using a = await registry.open(be);
		expect(a.format).toBe("raw");
		expect(a.info.byteOffset).toBe(128);
		await using tmp = await tempDir();
		const odd = tmp.join("data.thing");
		await copyFile(be, odd);
		await expect(registry.open(odd)).rejects.toMatchObject({
			code: "NO_ADAPTER",
		});
		await copyFile(`${be}.json`, `${odd}.json`);
		await using b = await registry.open(odd);
		expect(b.info.shape).toEqual([8, 8]);
	});

	it("accepts every fixed-size dtype and refuses kind O", () => {
		for (const d of [
			"|b1",
			">i8",
			"<u2",
			"<f2",
			">f16",
			"<c32",
			">c16",
			"|S7",
			">U3",
			"<M8[ns]",
			">m8[10s]",
			"|V6",
		]) {
			expect(rawAdapter.checkDType(parseDType(d))).toEqual({ ok: true });
		}
		expect(
			rawAdapter.checkDType(
				parseDType([
					["a", "<i4"],
					["b", ">f8", [2]],
					["c", "|S3"],
				]),
			),
		).toEqual({ ok: true });
		const vlen = {
			str: "|O",
			code: "O",
			kind: "O",
			byteOrder: "|",
			itemsize: 0,
			alignment: 1,
			vlen: "utf8",
		} as const;
		expect(rawAdapter.checkDType(vlen).ok).toBe(false);
	});
});

describe("raw: layout from options and sidecar", () => {
	it("derives a 1-d shape from the file size, after the offset", async () => {
		const d = await rawAdapter.open(
			f4,
			openOpts({ dtype: parseDType("<f4"), offset: 8 }),
		);
		expect(d.info.shape).toEqual([98]);
		expect(d.info.byteOffset).toBe(8);
		await d.close();
		const e = await rawAdapter.open(
			f4,
			openOpts({ dtype: parseDType("<i2"), offset: 0 }),
		);
		expect(e.info.shape).toEqual([200]);
		await e.close();
	});

	it("refuses a file that is not a whole number of elements (SizeMismatchError)", async () => {
		await expect(
			rawAdapter.open(f4, openOpts({ dtype: parseDType("<f8"), offset: 4 })),
		).rejects.toMatchObject({ code: "SIZE_MISMATCH" });
		await expect(
			rawAdapter.open(f4, openOpts({ dtype: parseDType("|V3"), offset: 0 })),
		).rejects.toMatchObject({ code: "SIZE_MISMATCH" });
	});

	it("refuses an offset past the end and a layout longer than the file (OutOfBoundsError)", async () => {
		await expect(
			rawAdapter.open(f4, openOpts({ dtype: parseDType("<f4"), offset: 404 })),
		).rejects.toMatchObject({ code: "OUT_OF_BOUNDS" });
		for (const mode of ["r", "r+", "c"] as const) {
			await expect(
				rawAdapter.open(
					f4,
					openOpts({ mode, dtype: parseDType("<f4"), shape: [101], offset: 0 }),
				),
			).rejects.toMatchObject({
				code: "OUT_OF_BOUNDS",
			});
			await expect(
				rawAdapter.open(
					f4,
					openOpts({ mode, dtype: parseDType("<f4"), shape: [100], offset: 4 }),
				),
			).rejects.toMatchObject({
				code: "OUT_OF_BOUNDS",
			});
		}
		await expect(
			openRawRegion(f4, {
				mode: "r",
				dtype: parseDType("<f4"),
				shape: [10, 11],
				order: "F",
				offset: 0,
			}),
		).rejects.toMatchObject({
			code: "OUT_OF_BOUNDS",
		});
	});

	it("uses the sidecar when the caller gives no dtype; explicit fields win over it", async () => {
		const a = await rawAdapter.open(be, openOpts());
		expect(a.info).toMatchObject({
			shape: [8, 8],
			order: "C",
			byteOffset: 128,
		});
		expect(a.info.dtype.str).toBe(">i4");
		await a.close();
		// The caller's offset wins over the sidecar's 128: the first 256 bytes of the file, verbatim.
		const b = await rawAdapter.open(be, openOpts({ offset: 0 }));
		expect(b.info.byteOffset).toBe(0);
		const out = new Uint8Array(256);
		await b.read({ start: [0, 0], shape: [8, 8] }, out);
		expect(out).toEqual(new Uint8Array(await readFile(be)).subarray(0, 256));
		await b.close();
		// A dtype from the caller means the caller's layout, as numpy.memmap: offset 0, 1-d shape from the size.
		const c = await rawAdapter.open(be, openOpts({ dtype: parseDType("<u4") }));
		expect(c.info.dtype.str).toBe("<u4");
		expect(c.info.shape).toEqual([96]);
		expect(c.info.byteOffset).toBe(0);
		await c.close();
		const e = await rawAdapter.open(
			be,
			openOpts({ dtype: parseDType(">i4"), shape: [8, 8], offset: 128 }),
		);
		const whole = new Uint8Array(256);
		await e.read({ start: [0, 0], shape: [8, 8] }, whole);
		expect(sha256(whole)).toBe(beEntry?.sha256);
		await e.close();
		// Without a dtype, an explicit shape overrides the sidecar's.
		const g = await rawAdapter.open(be, openOpts({ shape: [4, 16] }));
		expect(g.info.shape).toEqual([4, 16]);
		expect(g.info.byteOffset).toBe(128);
		await g.close();
	});

	it("without layout and without sidecar: LayoutRequiredError", async () => {
		await using tmp = await tempDir();
		const file = tmp.join("x.dat");
		await writeFile(file, new Uint8Array(64));
		await expect(rawAdapter.open(file, openOpts())).rejects.toMatchObject({
			code: "LAYOUT_REQUIRED",
			target: file,
		});
		// A shape alone is not a layout.
		await expect(
			rawAdapter.open(file, openOpts({ shape: [8] })),
		).rejects.toMatchObject({ code: "LAYOUT_REQUIRED" });
	});

	it("checks byte_length against dtype and shape (SizeMismatchError) and refuses malformed sidecars", async () => {
		await using tmp = await tempDir();
		const file = tmp.join("x.dat");
		await writeFile(file, new Uint8Array(64));
		const cases: [unknown, string][] = [
			[{ dtype: "<f4", shape: [16], byte_length: 60 }, "SIZE_MISMATCH"],
			[
				{ dtype: "<f4", shape: [4, 4], order: "F", offset: 0, byte_length: 64 },
				"OK",
			],
			[{ dtype: "<f4", shape: [4, 4], order: "X" }, "MALFORMED"],
			[{ dtype: "<f4", shape: [-1] }, "MALFORMED"],
			[{ dtype: "<f4", shape: "16" }, "MALFORMED"],
			[{ dtype: "<f4", offset: -3 }, "MALFORMED"],
			[{ shape: [16] }, "MALFORMED"],
			[{ dtype: 42 }, "MALFORMED"],
			[{ dtype: "<q9" }, "UNSUPPORTED_DTYPE"],
			[[1, 2], "MALFORMED"],
			["{not json", "MALFORMED"],
		];
		for (const [doc, code] of cases) {
			await writeFile(
				`${file}.json`,
				typeof doc === "string" ? doc : JSON.stringify(doc),
			);
			const p = rawAdapter.open(file, openOpts());
			if (code === "OK") await (await p).close();
			else await expect(p, JSON.stringify(doc)).rejects.toMatchObject({ code });
		}
	});

	it("missing files are NotFoundError in every mode", async () => {
		await using tmp = await tempDir();
		const file = tmp.join("missing.dat");
		for (const mode of ["r", "r+", "c"] as const) {
			await expect(
				rawAdapter.open(file, openOpts({ mode, dtype: parseDType("<f4") })),
			).rejects.toMatchObject({ code: "NOT_FOUND" });
			await expect(
				openRawRegion(file, {
					mode,
					dtype: parseDType("<f4"),
					shape: [1],
					order: "C",
					offset: 0,
				}),
			).rejects.toMatchObject({
				code: "NOT_FOUND",
			});
		}
		await expect(
			rawAdapter.open(f4, openOpts({ path: "x" })),
		).rejects.toMatchObject({ code: "NOT_FOUND" });
	});
});

describe("raw: create (w+)", () => {
	it("creates a sparse file of offset + nbytes with the fixtures' sidecar format", async () => {
		await using tmp = await tempDir();
		const file = tmp.join("a.dat");
		const d = await rawAdapter.create(
			file,
			createOpts(">f8", [3, 5], { order: "F", offset: 100 }),
		);
		await d.close();
		expect((await stat(file)).size).toBe(100 + 3 * 5 * 8);
		expect(new Uint8Array(await readFile(file)).every((b) => b === 0)).toBe(
			true,
		);
		const side = JSON.parse(await readFile(`${file}.json`, "utf8"));
		expect(side).toMatchObject({
			dtype: ">f8",
			shape: [3, 5],
			order: "F",
			offset: 100,
			byte_length: 120,
		});
		const back = await readSidecar(file);
		expect(back?.dtype?.str).toBe(">f8");
	});

	it("writes structured dtypes as descr lists in the sidecar", async () => {
		await using tmp = await tempDir();
		const file = tmp.join("s.dat");
		const dtype = [
			["a", "<i4"],
			["b", ">f8", [2]],
		];
		await (
			await rawAdapter.create(file, createOpts(dtype as never, [2]))
		).close();
		const side = JSON.parse(await readFile(`${file}.json`, "utf8"));
		expect(side.dtype).toEqual([
			["a", "<i4"],
			["b", ">f8", [2]],
		]);
		const d = await rawAdapter.open(file, openOpts());
		expect(d.info.dtype.itemsize).toBe(20);
		await d.close();
	});

	it("skips the sidecar with adapterOptions.sidecar === false", async () => {
		await using tmp = await tempDir();
		const file = tmp.join("a.bin");
		await (
			await rawAdapter.create(
				file,
				createOpts("<i2", [4], { adapterOptions: { sidecar: false } }),
			)
		).close();
		await expect(stat(`${file}.json`)).rejects.toMatchObject({
			code: "ENOENT",
		});
		await expect(rawAdapter.open(file, openOpts())).rejects.toMatchObject({
			code: "LAYOUT_REQUIRED",
		});
	});

	it("replaces (truncates) an existing file, or refuses with exclusive (AlreadyExistsError)", async () => {
		await using tmp = await tempDir();
		const file = tmp.join("a.dat");
		await writeFile(file, new Uint8Array(1000).fill(7));
		await expect(
			rawAdapter.create(file, createOpts("<i2", [4], { exclusive: true })),
		).rejects.toMatchObject({ code: "ALREADY_EXISTS" });
		expect((await stat(file)).size).toBe(1000);
		await (await rawAdapter.create(file, createOpts("<i2", [4]))).close();
		expect(new Uint8Array(await readFile(file))).toEqual(new Uint8Array(8));
	});

	it("refuses what a raw file cannot hold", async () => {
		await using tmp = await tempDir();
		const file = tmp.join("a.dat");
		await expect(
			rawAdapter.create(file, createOpts("<f4", [4], { chunks: [2] })),
		).rejects.toMatchObject({ code: "UNSUPPORTED" });
		await expect(
			rawAdapter.create(file, createOpts("<f4", [4], { fillValue: 1 })),
		).rejects.toMatchObject({ code: "UNSUPPORTED" });
		await expect(
			rawAdapter.create(file, createOpts("<f4", [4], { attrs: { a: 1 } })),
		).rejects.toMatchObject({ code: "UNSUPPORTED" });
		await (
			await rawAdapter.create(file, createOpts("<f4", [4], { fillValue: 0 }))
		).close();
	});

	it("region w+ creates or extends but never truncates (headers and trailers survive)", async () => {
		await using tmp = await tempDir();
		const file = tmp.join("r.bin");
		const head = new Uint8Array(128).fill(0xaa);
		const tail = new Uint8Array(64).fill(0xbb);
		await writeFile(file, Buffer.concat([head, new Uint8Array(32), tail]));
		const d = await openRawRegion(file, {
			mode: "w+",
			dtype: parseDType("<u4"),
			shape: [8],
			order: "C",
			offset: 128,
		});
		await d.write?.({ start: [0], shape: [8] }, new Uint8Array(32).fill(1));
		await d.close();
		const bytes = new Uint8Array(await readFile(file));
		expect(bytes.length).toBe(224);
		expect(bytes.subarray(0, 128)).toEqual(head);
		expect(bytes.subarray(128, 160)).toEqual(new Uint8Array(32).fill(1));
		expect(bytes.subarray(160)).toEqual(tail);
		const e = await openRawRegion(file, {
			mode: "w+",
			dtype: parseDType("<u4"),
			shape: [100],
			order: "C",
			offset: 128,
		});
		await e.close();
		expect((await stat(file)).size).toBe(528);
		const fresh = tmp.join("new.bin");
		await (
			await openRawRegion(fresh, {
				mode: "w+",
				dtype: parseDType("<u4"),
				shape: [3],
				order: "C",
				offset: 10,
			})
		).close();
		expect((await stat(fresh)).size).toBe(22);
	});
});

describe("raw: resize", () => {
	for (const io of IO_PATHS) {
		it(`${io.name}: grows and shrinks axis 0 (C), the last axis (F), and keeps the sidecar in step`, async () => {
			await using tmp = await tempDir();
			const adapter = adapterFor(io.mmap);
			const file = tmp.join("g.dat");
			const d = await adapter.create(
				file,
				createOpts("<i4", [2, 3], { offset: 16 }),
			);
			await d.write?.(
				{ start: [0, 0], shape: [2, 3] },
				new Uint8Array(new Int32Array([1, 2, 3, 4, 5, 6]).buffer),
			);
			await d.resize?.([5, 3]);
			expect(d.info.shape).toEqual([5, 3]);
			expect(d.info.blockShape).toEqual([5, 3]);
			expect((await stat(file)).size).toBe(16 + 60);
			await d.write?.(
				{ start: [4, 0], shape: [1, 3] },
				new Uint8Array(new Int32Array([7, 8, 9]).buffer),
			);
			await d.resize?.([1, 3]);
			await expect(d.resize?.([1, 4])).rejects.toMatchObject({
				code: "UNSUPPORTED",
			});
			await d.close();
			expect((await stat(file)).size).toBe(16 + 12);
			expect(
				new Int32Array(new Uint8Array(await readFile(file)).slice(16).buffer),
			).toEqual(new Int32Array([1, 2, 3]));
			expect(JSON.parse(await readFile(`${file}.json`, "utf8"))).toMatchObject({
				shape: [1, 3],
				byte_length: 12,
				offset: 16,
			});

			const f = tmp.join("f.dat");
			const fd = await adapter.create(
				f,
				createOpts("<i2", [2, 3], { order: "F" }),
			);
			await fd.resize?.([2, 6]);
			await expect(fd.resize?.([3, 6])).rejects.toMatchObject({
				code: "UNSUPPORTED",
			});
			await fd.close();
			expect((await stat(f)).size).toBe(24);
		});

		it(`${io.name}: resize is ReadOnlyError in r and UnsupportedError in c`, async () => {
			await using tmp = await tempDir();
			const file = tmp.join("a.dat");
			await copyFile(f4, file);
			await copyFile(`${f4}.json`, `${file}.json`);
			const r = await adapterFor(io.mmap).open(file, openOpts());
			await expect(r.resize?.([200])).rejects.toMatchObject({
				code: "READ_ONLY",
			});
			await expect(
				r.write?.({ start: [0], shape: [1] }, new Uint8Array(4)),
			).rejects.toMatchObject({ code: "READ_ONLY" });
			await r.close();
			const c = await adapterFor(io.mmap).open(file, openOpts({ mode: "c" }));
			await expect(c.resize?.([200])).rejects.toMatchObject({
				code: "UNSUPPORTED",
			});
			await c.close();
		});
	}
});
