import { readFile, writeFile } from "node:fs/promises";
import { python, skipNote, tempDir } from "@arraystore/conformance";
import { isArrayStoreError } from "@arraystore/core";
import { describe, expect, it } from "vitest";
import { pickleAdapter } from "../src/index.js";
import { fixturePath, hashAs, registry } from "./helpers.js";

const WRITE = `
import joblib, hashlib, numpy as np
path, compress = INPUT
rng = np.random.default_rng(5)
arrs = {"a": np.arange(50000, dtype=np.float64).reshape(500, 100), "f": np.asfortranarray(np.arange(24, dtype=">i4").reshape(2, 3, 4)),
        "s": np.array([b"ab", b"xyz"]), "z": np.float32(1.5) * np.ones(()), "meta": {"k": [1, 2]},
        "noise": {"be": rng.standard_normal((300, 200)).astype(">f8"), "fo": np.asfortranarray(rng.integers(0, 1000, (70, 90), dtype=np.int16))},
        "runs": np.repeat(np.arange(200, dtype=np.uint8), rng.integers(1, 700, 200).astype(np.int64))}
joblib.dump(arrs, path, compress=tuple(compress) if compress else 0)
out = {}
def walk(prefix, d):
    for k, v in d.items():
        if isinstance(v, np.ndarray):
            out[prefix + k] = {"dtype": v.dtype.str, "shape": list(v.shape), "sha256": hashlib.sha256(np.ascontiguousarray(v).tobytes()).hexdigest()}
        elif isinstance(v, dict) and k != "meta":
            walk(prefix + k + "/", v)
walk("", arrs)
print(json.dumps(out))
`;

type Want = Record<string, { dtype: string; shape: number[]; sha256: string }>;

/** Every compressor joblib 1.6 offers (`lz4` needs the python lz4 package). */
const CODECS = [
	["zlib", 3],
	["gzip", 3],
	["bz2", 1],
	["bz2", 9],
	["lzma", 3],
	["xz", 6],
	["lz4", 3],
	["lz4", 9],
] as const;

const needs = (codec: string) =>
	codec === "lz4" ? ["joblib", "numpy", "lz4"] : ["joblib", "numpy"];

describe.skipIf(!python.has("joblib", "numpy"))(
	"joblib: files written by joblib 1.6",
	() => {
		if (!python.has("joblib", "numpy"))
			skipNote("joblib codecs", python.missing("joblib", "numpy"));
		if (!python.has("lz4")) skipNote("joblib lz4", python.missing("lz4"));
		for (const compress of [null, ...CODECS]) {
			const name = compress
				? `${compress[0]} (level ${compress[1]})`
				: "uncompressed";
			it.skipIf(compress !== null && !python.has(...needs(compress[0])))(
				`reads ${name} dumps, arrays decompressed lazily`,
				async () => {
					await using tmp = await tempDir();
					const path = tmp.join(`d.joblib`);
					const want = python.run<Want>(WRITE, [path, compress]);
					await using c = await registry.openContainer(path);
					expect(c.format).toBe("pickle");
					expect(Object.keys(want).length).toBe(6);
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
				},
			);
		}

		const BOMB =
			"import joblib, numpy as np\njoblib.dump(np.zeros(4_000_000), INPUT[0], compress=tuple(INPUT[1]))\nprint('null')";
		for (const [codec, level] of CODECS) {
			if ((codec === "lz4" && level === 9) || (codec === "bz2" && level === 9))
				continue;
			it.skipIf(!python.has(...needs(codec)))(
				`stops a ${codec} decompression bomb at the configured limit`,
				async () => {
					await using tmp = await tempDir();
					const path = tmp.join("bomb.joblib");
					python.run(BOMB, [path, [codec, level]]);
					const err = await registry
						.openContainer(path, {
							adapterOptions: { maxDecompressedBytes: 1_000_000 },
						})
						.catch((e: unknown) => e);
					expect(isArrayStoreError(err, "LIMIT_EXCEEDED"), String(err)).toBe(
						true,
					);
				},
			);
		}

		it("caps liblzma's memory (xz preset 9 needs a 64 MiB dictionary)", async () => {
			await using tmp = await tempDir();
			const path = tmp.join("big-dict.joblib");
			python.run(WRITE, [path, ["xz", 9]]);
			const err = await registry
				.openContainer(path, {
					adapterOptions: { maxDecoderMemory: 8 * 2 ** 20 },
				})
				.catch((e: unknown) => e);
			expect(isArrayStoreError(err, "LIMIT_EXCEEDED"), String(err)).toBe(true);
			// The default (256 MiB) reads it.
			await using c = await registry.openContainer(path);
			expect((await c.list("")).length).toBeGreaterThan(0);
		});

		for (const [codec, level] of CODECS) {
			if ((codec === "lz4" && level === 9) || (codec === "bz2" && level === 9))
				continue;
			it.skipIf(!python.has(...needs(codec)))(
				`turns truncated and corrupted ${codec} files into typed errors`,
				async () => {
					await using tmp = await tempDir();
					const path = tmp.join("d.joblib");
					python.run(WRITE, [path, [codec, level]]);
					const good = await readFile(path);
					// Cut in the middle and just before the end.
					for (const cut of [good.length >> 1, good.length - 3]) {
						await writeFile(path, good.subarray(0, cut));
						const err = await registry
							.openContainer(path)
							.catch((e: unknown) => e);
						expect(isArrayStoreError(err, "TRUNCATED"), `${cut}: ${err}`).toBe(
							true,
						);
					}
					// Codecs with a checksum must notice any flipped byte; lzma "alone" and
					// joblib's lz4 frames have none, so they may decode to wrong bytes, but
					// still only ever fail with typed errors.
					const checked = codec !== "lzma" && codec !== "lz4";
					for (const at of [0.3, 0.5, 0.7, 0.9]) {
						const bad = Buffer.from(good);
						const i = Math.floor(bad.length * at);
						bad[i] = (bad[i] as number) ^ 0x5a;
						await writeFile(path, bad);
						const err = await readAll(path).catch((e: unknown) => e);
						if (checked || err !== undefined)
							expect(
								isArrayStoreError(err) &&
									["MALFORMED", "TRUNCATED", "LIMIT_EXCEEDED"].includes(
										err.code,
									),
								`${at}: ${err}`,
							).toBe(true);
					}
				},
			);
		}
	},
);

/** Opens a joblib file and reads every array and attribute. */
async function readAll(path: string): Promise<undefined> {
	await using c = await registry.openContainer(path);
	for (const e of await c.list("", { recursive: true })) {
		if (e.kind !== "array") continue;
		await using a = await c.openArray(e.path);
		await a.read();
	}
	await c.attrs("");
	return undefined;
}

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
