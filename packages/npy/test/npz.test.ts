import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
	FORMATS_DIR,
	formatsManifest,
	python,
	sha256,
	skipNote,
	tempDir,
} from "@arraystore/conformance";
import {
	type ArrayData,
	isBigEndian,
	type parseDType,
	swapInPlace,
} from "@arraystore/core";
import { createRegistry } from "@arraystore/core/node";
import { describe, expect, it } from "vitest";
import { npyAdapter, npzAdapter } from "../src/index.js";

const registry = createRegistry([npyAdapter, npzAdapter]);
const hasNumpy = python.has("numpy");
if (!hasNumpy) skipNote("npz interop", python.missing("numpy"));
const npyEntries = formatsManifest().arrays.filter(
	(a) => a.format === "npy" && a.id !== "npy/large_1024x1024_f4",
);

/** Stored-byte-order hash of what we read (native), for comparison with numpy's tobytes(). */
function storedHash(
	dtype: ReturnType<typeof parseDType>,
	data: ArrayData,
): string {
	const b = data.bytes.slice();
	if (isBigEndian(dtype)) swapInPlace(dtype, b);
	return sha256(b);
}

const NUMPY_WRITE = `
import hashlib
import numpy as np
rng = np.random.default_rng(7)
arrays = {
    "f8": rng.standard_normal((3, 4)),
    "big_i4": np.arange(12, dtype=">i4").reshape(3, 4),
    "fortran": np.asfortranarray(rng.standard_normal((5, 3)).astype("<f4")),
    "rec": np.array([(1, 2.5, b"ab"), (-3, 1e300, b"xyz")], dtype=[("a", "<i4"), ("b", ">f8"), ("c", "S3")]),
    "zero_d": np.array(3.25),
    "empty": np.zeros((0, 3), dtype="<u2"),
    "u": np.array(["héllo", "wörld"], dtype="<U5"),
    "dt": np.array(["2024-01-01", "NaT"], dtype="datetime64[s]"),
    "naïve key": np.arange(5, dtype="<i2"),
    "grp/inner": np.ones(4, dtype="|b1"),
}
np.savez(INPUT["stored"], **arrays)
np.savez_compressed(INPUT["deflated"], **arrays)
out = {k: {"str": a.dtype.str, "shape": list(a.shape), "sha256": hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()} for k, a in arrays.items()}
print(json.dumps(out))
`;

const NUMPY_READ = `
import hashlib, zipfile
import numpy as np
out = {}
for path in INPUT:
    with zipfile.ZipFile(path) as z:
        bad = z.testzip()
    with np.load(path, allow_pickle=False, max_header_size=10**8) as f:
        out[path] = {"testzip": bad, "arrays": {k: {"str": f[k].dtype.str, "shape": list(f[k].shape), "fortran": bool(f[k].flags.f_contiguous and not f[k].flags.c_contiguous), "sha256": hashlib.sha256(np.ascontiguousarray(f[k]).tobytes()).hexdigest()} for k in f.files}}
print(json.dumps(out))
`;

interface NumpyArray {
	str: string;
	shape: number[];
	sha256: string;
	fortran?: boolean;
}

describe.skipIf(!hasNumpy)("npz: numpy interop", () => {
	it("reads np.savez (stored, memory-mapped) and np.savez_compressed (deflated) archives", async () => {
		await using tmp = await tempDir();
		const stored = tmp.join("s.npz");
		const deflated = tmp.join("d.npz");
		const expected = python.run<Record<string, NumpyArray>>(NUMPY_WRITE, {
			stored,
			deflated,
		});
		for (const file of [stored, deflated]) {
			await using npz = await registry.openContainer(file);
			expect(npz.format).toBe("npz");
			const listed = (await npz.list("")).map((e) => e.path);
			expect(listed).toEqual(Object.keys(expected).sort());
			for (const [key, want] of Object.entries(expected)) {
				await using a = await npz.openArray(key);
				expect(a.info.dtype.str, key).toBe(want.str);
				expect(a.info.shape, key).toEqual(want.shape);
				expect(a.info.byteOffset === null, key).toBe(file === deflated);
				expect(storedHash(a.info.dtype, await a.read()), key).toBe(want.sha256);
			}
		}
		// A single member opens as file.npz#key.
		await using one = await registry.open(`${deflated}#big_i4`);
		expect(Array.from((await one.read([2])).data as Int32Array)).toEqual([
			8, 9, 10, 11,
		]);
	});

	for (const compression of ["stored", "deflated"] as const) {
		it(`writes ${compression} archives numpy loads with identical bytes and dtypes`, async () => {
			await using tmp = await tempDir();
			const file = tmp.join(`ours-${compression}.npz`);
			const expected: Record<string, NumpyArray> = {};
			{
				await using npz = await registry.openContainer(file, {
					mode: "w+",
					adapterOptions: { compression },
				});
				for (const entry of npyEntries) {
					await using src = await registry.open(join(FORMATS_DIR, entry.file));
					const key = entry.id.slice(4);
					await using dst = await npz.createArray(key, {
						dtype: src.info.dtype,
						shape: src.info.shape,
						order: src.info.order,
					});
					await dst.write([], await src.read());
					expected[key] = {
						str: entry.dtype,
						shape: [...entry.shape],
						sha256: entry.sha256,
						fortran: entry.order === "F" && entry.shape.length > 1,
					};
				}
			}
			const got = python.run<
				Record<
					string,
					{ testzip: string | null; arrays: Record<string, NumpyArray> }
				>
			>(NUMPY_READ, [file])[file];
			expect(got?.testzip).toBe(null);
			expect(got?.arrays).toEqual(expected);
			// And we read our own archive back the same way.
			await using back = await registry.openContainer(file);
			for (const [key, want] of Object.entries(expected)) {
				await using a = await back.openArray(key);
				expect(storedHash(a.info.dtype, await a.read()), key).toBe(want.sha256);
			}
		});
	}

	it("writes zip64 records numpy reads, and reads Python's zip64 end records", async () => {
		await using tmp = await tempDir();
		const ours = tmp.join("z64.npz");
		{
			await using npz = await registry.openContainer(ours, {
				mode: "w+",
				adapterOptions: { forceZip64: true },
			});
			for (const name of ["a", "b"]) {
				await using x = await npz.createArray(name, {
					dtype: "<i8",
					shape: [3],
				});
				await x.write([], new BigInt64Array([1n, 2n, name === "a" ? 3n : 4n]));
			}
		}
		const got = python.run<
			Record<
				string,
				{ testzip: string | null; arrays: Record<string, NumpyArray> }
			>
		>(NUMPY_READ, [ours])[ours];
		expect(got?.testzip).toBe(null);
		expect(Object.keys(got?.arrays ?? {})).toEqual(["a", "b"]);
		const theirs = tmp.join("py64.npz");
		python.run(
			`import zipfile, numpy as np
zipfile.ZIP_FILECOUNT_LIMIT = 1
zipfile.ZIP64_LIMIT = 8
np.savez(INPUT, x=np.arange(4), y=np.arange(3.0))
print("null")`,
			theirs,
		);
		await using npz = await registry.openContainer(theirs);
		await using y = await npz.openArray("y");
		expect(Array.from((await y.read()).data as Float64Array)).toEqual([
			0, 1, 2,
		]);
	});

	it("r+ writes stored members in place (fixing CRCs), adds and replaces members", async () => {
		await using tmp = await tempDir();
		const stored = tmp.join("s.npz");
		const deflated = tmp.join("d.npz");
		python.run(NUMPY_WRITE, { stored, deflated });
		{
			await using npz = await registry.openContainer(stored, { mode: "r+" });
			await using f8 = await npz.openArray("f8", { mode: "r+" });
			await f8.write([0], new Float64Array([1, 2, 3, 4]));
			await using extra = await npz.createArray("extra", {
				dtype: ">f4",
				shape: [2],
				fillValue: 1.5,
			});
			await using e2 = await npz.createArray("empty", {
				dtype: "<i1",
				shape: [2],
				adapterOptions: { compression: "deflated" },
			});
			await e2.write([], new Int8Array([-1, 1]));
			await expect(extra.read()).resolves.toMatchObject({ shape: [2] });
		}
		const got = python.run<
			Record<
				string,
				{ testzip: string | null; arrays: Record<string, NumpyArray> }
			>
		>(NUMPY_READ, [stored])[stored];
		expect(got?.testzip).toBe(null);
		expect(got?.arrays.extra).toMatchObject({ str: ">f4", shape: [2] });
		expect(got?.arrays.empty).toMatchObject({
			str: "|i1",
			shape: [2],
			sha256: sha256(Uint8Array.of(0xff, 1)),
		});
		await using back = await registry.openContainer(stored);
		await using f8 = await back.openArray("f8");
		expect(Array.from((await f8.read([0])).data as Float64Array)).toEqual([
			1, 2, 3, 4,
		]);
		await using extra = await back.openArray("extra");
		expect(Array.from((await extra.read()).data as Float32Array)).toEqual([
			1.5, 1.5,
		]);
		// A written deflated member is inflated to a temporary file and deflated again at close.
		{
			await using d = await registry.openContainer(deflated, { mode: "r+" });
			await using da = await d.openArray("f8", { mode: "r+" });
			await da.write([2, 3], 99);
			expect((await da.read([2, 3])).data).toEqual(new Float64Array([99]));
		}
		const after = python.run<
			Record<
				string,
				{ testzip: string | null; arrays: Record<string, NumpyArray> }
			>
		>(NUMPY_READ, [deflated])[deflated];
		expect(after?.testzip).toBe(null);
		expect(Object.keys(after?.arrays ?? {}).sort()).toEqual(
			(await back.list("")).map((e) => e.path).filter((k) => k !== "extra"),
		);
		await using d2 = await registry.openContainer(deflated);
		await using da2 = await d2.openArray("f8");
		expect(da2.info.byteOffset).toBe(null);
		expect((await da2.read([2, 3])).data).toEqual(new Float64Array([99]));
		expect(
			python.run<number>(
				`import numpy as np\nprint(float(np.load(INPUT)["f8"][2, 3]))`,
				deflated,
			),
		).toBe(99);
	});
});

describe("npz: reading deflated members", () => {
	it("serves random and backward reads of a large deflated member without caching it", async () => {
		await using tmp = await tempDir();
		const file = tmp.join("big.npz");
		const rows = 512;
		const values = new Float64Array(rows * 256).map((_, i) => i);
		{
			await using npz = await registry.openContainer(file, {
				mode: "w+",
				adapterOptions: { compression: "deflated" },
			});
			await using x = await npz.createArray("x", {
				dtype: "<f8",
				shape: [rows, 256],
			});
			await x.write([], values);
		}
		await using npz = await registry.openContainer(file, {
			adapterOptions: { cacheBytes: 0 },
		});
		await using x = await npz.openArray("x");
		for (const r of [10, 300, 5, 511, 0]) {
			const row = await x.read([r, { start: 3, stop: 6 }]);
			expect(Array.from(row.data as Float64Array)).toEqual([
				r * 256 + 3,
				r * 256 + 4,
				r * 256 + 5,
			]);
		}
		const col = await x.read([null, 7]);
		expect((col.data as Float64Array)[400]).toBe(400 * 256 + 7);
		let count = 0;
		for await (const block of x.iterBlocks({ maxBlockBytes: 64 * 1024 }))
			count += block.bytes.length;
		expect(count).toBe(values.byteLength);
	});

	it("opens mode c over a container without touching the file", async () => {
		await using tmp = await tempDir();
		const file = tmp.join("c.npz");
		{
			await using npz = await registry.openContainer(file, { mode: "w+" });
			await using x = await npz.createArray("x", { dtype: "<i4", shape: [4] });
			await x.write([], new Int32Array([1, 2, 3, 4]));
		}
		const before = sha256(readFileSync(file));
		{
			await using npz = await registry.openContainer(file, { mode: "c" });
			await using x = await npz.openArray("x");
			await x.write([1], 20);
			expect(Array.from((await x.read()).data as Int32Array)).toEqual([
				1, 20, 3, 4,
			]);
		}
		expect(sha256(readFileSync(file))).toBe(before);
	});
});
