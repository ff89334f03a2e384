// HDF5's deflate filter redirected to Node's zlib (worker/native-deflate.mjs): gzip fixtures
// read through it; our shuffle equals HDF5's (chunks h5py stored), so chunks deflated ahead
// match; gzip (+ shuffle) datasets written in whole-chunk and chunk-cutting blocks read back in
// h5py as such; a corrupt chunk fails with a typed error through HDF5's own filter.
import { createHash } from "node:crypto";
import { join } from "node:path";
import {
	FORMATS_DIR,
	formatsManifest,
	python,
	sha256,
	skipNote,
	tempDir,
} from "@arraystore/conformance";
import { isArrayStoreError, parseDType, shapeSize } from "@arraystore/core";
import { describe, expect, it } from "vitest";
import { EncodedChunks } from "../src/encoded-chunks.js";
import { hdf5Adapter } from "../src/index.js";
import { loadH5 } from "../src/module.js";
import { nativeDeflateStats } from "../src/native-deflate.js";
import { shuffle, unshuffle } from "../src/shuffle.js";
import { createOpts, openDriver, readAll } from "./helpers.js";

const sha = (b: Uint8Array): string =>
	createHash("sha256").update(b).digest("hex");

describe("hdf5: native deflate", () => {
	it("runs HDF5's deflate in Node's zlib for every gzip fixture", async () => {
		expect((await loadH5()).nativeDeflate).toBe(true);
		const arrays = formatsManifest().arrays.filter(
			(a) =>
				a.format === "hdf5" &&
				JSON.stringify(a.codecs ?? "").includes("gzip") &&
				!a.dtype.includes("O"),
		);
		expect(arrays.length).toBeGreaterThan(1);
		const before = (await nativeDeflateStats()).inflated;
		for (const a of arrays) {
			const d = await openDriver(
				join(FORMATS_DIR, a.file),
				a.dataset ?? "",
				"r",
				{
					readWorkers: 0,
					directChunks: false,
				},
			);
			try {
				expect(sha256(await readAll(d)), a.id).toBe(a.sha256);
			} finally {
				await d.close();
			}
		}
		const after = await nativeDeflateStats();
		expect(after.inflated).toBeGreaterThan(before);
		expect(after.fallbacks).toBe(0);
	});

	it("keeps chunks encoded ahead by content, bounded", () => {
		const cache = new EncodedChunks();
		const a = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);
		const b = a.slice();
		b[500] = 7;
		cache.put(a, 1, Uint8Array.of(1));
		expect(cache.take(b, 1)).toBeUndefined();
		expect(cache.take(a, 2)).toBeUndefined();
		expect(cache.take(a.slice(), 1)).toEqual(Uint8Array.of(1));
		expect(cache.take(a, 1)).toBeUndefined();
		const big = new Uint8Array(EncodedChunks.CAP / 2 + 1);
		cache.put(big, 1, Uint8Array.of(2));
		cache.put(big.slice(), 1, Uint8Array.of(3));
		expect(cache.bytes).toBeLessThanOrEqual(EncodedChunks.CAP);
		expect(cache.take(big, 1)).toEqual(Uint8Array.of(3));
	});

	it("shuffle and unshuffle are inverse for every element size", () => {
		const raw = Uint8Array.from({ length: 4099 }, (_, i) => (i * 31) % 251);
		for (const size of [1, 2, 3, 4, 8, 16])
			expect(sha(unshuffle(shuffle(raw, size), size))).toBe(sha(raw));
	});
});

const SHUFFLED = `
import h5py, numpy as np
out = {}
with h5py.File(INPUT, "w") as f:
    for name, dt in [("i2", "<i2"), ("f4", "<f4"), ("f8", "<f8"), ("c16", "<c16"), ("s3", "S3")]:
        a = np.random.default_rng(3).integers(0, 256, 24 * 10 * np.dtype(dt).itemsize, dtype="u1").view(dt).reshape(24, 10)
        d = f.create_dataset(name, data=a, chunks=(8, 10), shuffle=True)
        out[name] = {"raw": np.ascontiguousarray(a[:8]).tobytes().hex(), "stored": d.id.read_direct_chunk((0, 0))[1].hex(), "size": np.dtype(dt).itemsize}
print(json.dumps(out))
`;

const hex = (s: string): Uint8Array =>
	Uint8Array.from(s.match(/../g) ?? [], (h) => Number.parseInt(h, 16));

function values(n: number): Float32Array {
	return Float32Array.from(
		{ length: n },
		(_, i) => Math.round(Math.sin(i * 0.001) * 4096) / 8 + (i % 7),
	);
}

const CHECK = `
import h5py, numpy as np, hashlib
with h5py.File(INPUT["file"], "r") as f:
    out = {}
    for k in f:
        d = f[k]
        out[k] = {"sha": hashlib.sha256(np.ascontiguousarray(d[()]).tobytes()).hexdigest(), "compression": d.compression, "opts": d.compression_opts, "shuffle": d.shuffle}
print(json.dumps(out))
`;

const CORRUPT = `
import h5py, numpy as np
with h5py.File(INPUT, "w") as f:
    f.create_dataset("x", data=np.arange(4000, dtype="<f8").reshape(40, 100), chunks=(10, 100), compression="gzip", shuffle=True)
with h5py.File(INPUT, "r") as f:
    info = f["x"].id.get_chunk_info(1)
print(json.dumps({"offset": info.byte_offset, "size": info.size}))
`;

describe.skipIf(!python.has("h5py"))(
	"hdf5: deflate through Node's zlib with h5py",
	() => {
		if (!python.has("h5py"))
			skipNote("hdf5 native deflate", python.missing("h5py"));

		it("shuffles chunks exactly as HDF5 does (chunks deflated ahead match HDF5's input)", async () => {
			await using tmp = await tempDir();
			const got = python.run<
				Record<string, { raw: string; stored: string; size: number }>
			>(SHUFFLED, join(tmp.path, "s.h5"));
			for (const [name, g] of Object.entries(got)) {
				expect({ name, bytes: sha(shuffle(hex(g.raw), g.size)) }).toEqual({
					name,
					bytes: sha(hex(g.stored)),
				});
				expect(sha(unshuffle(hex(g.stored), g.size))).toBe(sha(hex(g.raw)));
			}
		});

		it("writes gzip and shuffle + gzip datasets h5py reads as such, with edge chunks and partial-chunk writes", async () => {
			await using tmp = await tempDir();
			const file = join(tmp.path, "z.h5");
			const [R, C, K] = [37, 45, 29];
			const shape = [R, C, K];
			const bytes = new Uint8Array(values(shapeSize(shape)).buffer);
			const before = await nativeDeflateStats();
			const cases = [
				{
					name: "sg",
					codecs: [{ name: "shuffle" }, { name: "gzip", config: { level: 1 } }],
				},
				{ name: "g6", codecs: [{ name: "gzip", config: { level: 6 } }] },
			];
			for (const c of cases) {
				const d = await hdf5Adapter.create?.(
					file,
					createOpts(`/${c.name}`, parseDType("<f4"), shape, {
						chunks: [8, 16, 29],
						codecs: c.codecs,
					}),
				);
				if (!d?.write) throw new Error("no create");
				// Row blocks of 5 cut the 8-row chunks: HDF5 reads chunks back and rewrites them.
				const row = C * K * 4;
				for (let r = 0; r < R; r += 5) {
					const n = Math.min(5, R - r);
					await d.write(
						{ start: [r, 0, 0], shape: [n, C, K] },
						bytes.subarray(r * row, (r + n) * row),
					);
				}
				// Then whole chunks, deflated ahead in the thread pool.
				await d.write({ start: [0, 0, 0], shape }, bytes);
				expect(sha(await readAll(d))).toBe(sha(bytes));
				await d.close();
			}
			const after = await nativeDeflateStats();
			expect(after.taken).toBeGreaterThan(before.taken);
			expect(after.deflated).toBeGreaterThan(before.deflated);
			expect(after.inflated).toBeGreaterThan(before.inflated);
			expect(after.fallbacks).toBe(before.fallbacks);
			const seen = python.run<Record<string, unknown>>(CHECK, { file });
			expect(seen.sg).toEqual({
				sha: sha(bytes),
				compression: "gzip",
				opts: 1,
				shuffle: true,
			});
			expect(seen.g6).toEqual({
				sha: sha(bytes),
				compression: "gzip",
				opts: 6,
				shuffle: false,
			});
		});

		it("fails on a corrupt chunk with a typed error, through HDF5's own filter", async () => {
			await using tmp = await tempDir();
			const file = join(tmp.path, "bad.h5");
			const at = python.run<{ offset: number; size: number }>(CORRUPT, file);
			const { openSync, writeSync, closeSync } = await import("node:fs");
			const fd = openSync(file, "r+");
			writeSync(fd, new Uint8Array(at.size).fill(0x5a), 0, at.size, at.offset);
			closeSync(fd);
			const before = (await nativeDeflateStats()).fallbacks;
			const d = await openDriver(file, "/x", "r", {
				readWorkers: 0,
				directChunks: false,
			});
			try {
				const err = await readAll(d).catch((e: unknown) => e);
				expect(isArrayStoreError(err)).toBe(true);
				expect((await nativeDeflateStats()).fallbacks).toBeGreaterThan(before);
				// The first chunk is intact and still reads.
				const out = new Uint8Array(10 * 100 * 8);
				await d.read({ start: [0, 0], shape: [10, 100] }, out);
				expect(new Float64Array(out.buffer)[999]).toBe(999);
			} finally {
				await d.close();
			}
		});
	},
);
