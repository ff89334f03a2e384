import { writeFile } from "node:fs/promises";
import { python, skipNote, tempDir } from "@arraystore/conformance";
import { isArrayStoreError } from "@arraystore/core";
import { describe, expect, it } from "vitest";
import { pickleAdapter } from "../src/index.js";
import { fixturePath, hashAs, registry } from "./helpers.js";

const WRITE = `
import joblib, hashlib, numpy as np
path, compress = INPUT
arrs = {"a": np.arange(50000, dtype=np.float64).reshape(500, 100), "f": np.asfortranarray(np.arange(24, dtype=">i4").reshape(2, 3, 4)),
        "s": np.array([b"ab", b"xyz"]), "z": np.float32(1.5) * np.ones(()), "meta": {"k": [1, 2]}}
joblib.dump(arrs, path, compress=tuple(compress) if compress else 0)
out = {}
for k, v in arrs.items():
    if isinstance(v, np.ndarray):
        out[k] = {"dtype": v.dtype.str, "shape": list(v.shape), "sha256": hashlib.sha256(np.ascontiguousarray(v).tobytes()).hexdigest()}
print(json.dumps(out))
`;

describe.skipIf(!python.has("joblib", "numpy"))(
	"joblib: files written by joblib 1.6",
	() => {
		if (!python.has("joblib", "numpy"))
			skipNote("joblib codecs", python.missing("joblib", "numpy"));
		for (const compress of [null, ["zlib", 3], ["gzip", 3]] as const) {
			it(`reads ${compress ? compress[0] : "uncompressed"} dumps, arrays decompressed lazily`, async () => {
				await using tmp = await tempDir();
				const path = tmp.join(`d.joblib`);
				const want = python.run<
					Record<string, { dtype: string; shape: number[]; sha256: string }>
				>(WRITE, [path, compress]);
				await using c = await registry.openContainer(path);
				expect(c.format).toBe("pickle");
				for (const [k, e] of Object.entries(want)) {
					await using a = await c.openArray(k);
					expect(a.info.dtype.str).toBe(e.dtype);
					expect(a.info.shape).toEqual(e.shape);
					expect(a.info.codecs.map((x) => x.name)).toEqual(
						compress ? [compress[0]] : [],
					);
					expect(hashAs(await a.read(), e.dtype), k).toBe(e.sha256);
					// Blocks stream through the decompressor too.
					let n = 0;
					for await (const b of a.iterBlocks({ maxBlockBytes: 64 * 1024 }))
						n += b.bytes.length;
					expect(n).toBe(
						e.shape.reduce((x, y) => x * y, 1) * a.info.dtype.itemsize,
					);
				}
				expect(await c.attrs("")).toEqual({ meta: { k: [1, 2] } });
			});
		}

		for (const codec of ["bz2", "lzma", "xz"]) {
			it(`refuses ${codec} with UnsupportedCodecError naming it`, async () => {
				await using tmp = await tempDir();
				const path = tmp.join(`d.joblib`);
				python.run(WRITE, [path, [codec, 3]]);
				const err = await registry.openContainer(path).catch((e: unknown) => e);
				expect(isArrayStoreError(err, "UNSUPPORTED_CODEC")).toBe(true);
				expect((err as { codec: string }).codec).toBe(codec);
			});
		}

		it("stops a decompression bomb at the configured limit", async () => {
			await using tmp = await tempDir();
			const path = tmp.join("bomb.joblib");
			python.run(
				"import joblib, numpy as np\njoblib.dump(np.zeros(4_000_000), INPUT, compress=3)\nprint('null')",
				path,
			);
			const err = await registry
				.openContainer(path, {
					adapterOptions: { maxDecompressedBytes: 1_000_000 },
				})
				.catch((e: unknown) => e);
			expect(isArrayStoreError(err, "LIMIT_EXCEEDED")).toBe(true);
		});
	},
);

/** A Python 2 era protocol-2 pickle: `str` values are raw bytes (SHORT_BINSTRING), not text. */
function py2Pickle(): Buffer {
	const b = (...x: number[]) => Buffer.from(x);
	const s = (t: string) =>
		Buffer.concat([b(0x55, t.length), Buffer.from(t, "latin1")]);
	const g = (m: string, n: string) => Buffer.from(`c${m}\n${n}\n`, "latin1");
	const data = Buffer.alloc(24);
	for (const [i, v] of [1.5, -2, 3].entries()) data.writeDoubleLE(v, i * 8);
	return Buffer.concat([
		b(0x80, 0x02, 0x7d, 0x71, 0x00),
		s("x"),
		g("numpy.core.multiarray", "_reconstruct"),
		g("numpy", "ndarray"),
		b(0x4b, 0x00, 0x85),
		s("b"),
		b(0x87, 0x52, 0x28, 0x4b, 0x01, 0x4b, 0x03, 0x85),
		g("numpy", "dtype"),
		s("f8"),
		b(0x4b, 0x00, 0x4b, 0x01, 0x87, 0x52, 0x28, 0x4b, 0x03),
		s("<"),
		b(
			0x4e,
			0x4e,
			0x4e,
			0x4a,
			0xff,
			0xff,
			0xff,
			0xff,
			0x4a,
			0xff,
			0xff,
			0xff,
			0xff,
			0x4b,
			0x00,
			0x74,
			0x62,
			0x89,
		),
		s(data.toString("latin1")),
		b(0x74, 0x62, 0x73, 0x2e),
	]);
}

describe("pickle: adapter", () => {
	it("reads Python 2 era pickles (str as raw bytes)", async () => {
		await using tmp = await tempDir();
		const path = tmp.join("py2.pkl");
		await writeFile(path, py2Pickle());
		await using c = await registry.openContainer(path);
		await using a = await c.openArray("x");
		expect(a.info.dtype.str).toBe("<f8");
		expect(Array.from((await a.read()).data as Float64Array)).toEqual([
			1.5, -2, 3,
		]);
	});

	it("opens a top-level array at path '' and refuses writes", async () => {
		await using a = await registry.open(fixturePath("legacy/np2_array_p4.pkl"));
		expect(a.format).toBe("pickle");
		expect(a.info.shape).toEqual([3, 4]);
		const err = await registry
			.open(fixturePath("legacy/np2_array_p4.pkl"), { mode: "r+" })
			.catch((e: unknown) => e);
		expect(isArrayStoreError(err)).toBe(true);
		expect(pickleAdapter.capabilities.modes).toEqual(["r", "c"]);
	});

	it("lists nested dicts as groups and plain values as attributes", async () => {
		await using c = await registry.openContainer(
			fixturePath("legacy/np2_dict_p4.pkl"),
		);
		const entries = await c.list("nested");
		expect(entries).toEqual([{ path: "nested/inner", kind: "array" }]);
		expect(await c.attrs("nested")).toEqual({ meta: { k: "v", n: [1, 2] } });
		await using t = await c.openArray("transposed_3d");
		expect(t.info.shape).toEqual([3, 2, 4]);
	});

	it("exposes masked arrays as data, key.mask and a fill_value attribute", async () => {
		await using c = await registry.openContainer(
			fixturePath("legacy/np2_masked_p4.pkl"),
		);
		const paths = (await c.list("")).map((e) => e.path);
		expect(paths).toContain("masked_f8");
		expect(paths).toContain("masked_f8.mask");
		expect((await c.attrs("masked_f8")).fill_value).toEqual(
			expect.objectContaining({ shape: [] }),
		);
	});
});
