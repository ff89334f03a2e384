// Direct chunk reads (direct-read.ts): chunked datasets whose filters are deflate, shuffle and
// fletcher32 are read from the file with Node's fs and zlib instead of HDF5. The fixtures and
// h5py-written files must read exactly as h5py reads them, through the direct path where the
// chunk index allows it and through HDF5 elsewhere; corrupt chunks, sizes and addresses are
// typed errors.
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
import { type ArrayDriver, type Region, shapeSize } from "@arraystore/core";
import { describe, expect, it } from "vitest";
import { directReadStats } from "../src/direct-read.js";
import { fletcher32, stripFletcher32 } from "../src/fletcher32.js";
import { openDriver, readAll } from "./helpers.js";

const sha = (b: Uint8Array): string =>
	createHash("sha256").update(b).digest("hex");

async function readBox(d: ArrayDriver, region: Region): Promise<Uint8Array> {
	const out = new Uint8Array(shapeSize(region.shape) * d.info.dtype.itemsize);
	await d.read(region, out);
	return out;
}

// Fixtures whose chunk index and filters the direct path takes (the rest goes through HDF5).
const DIRECT = new Set([
	"hdf5/filters/gzip_shuffle",
	"hdf5/filters/fletcher32",
	"hdf5/filters/gzip_only",
	"hdf5/special/fill_unwritten",
	"hdf5/special/big_endian_i4_chunked",
	"hdf5/special/resizable",
	"hdf5/hierarchy/group1/subgroup/data_b",
	"hdf5/multi/series",
	"hdf5/multi/nested/volume",
	"hdf5/libver_v110/fixed_array_index",
	"hdf5/libver_v110/single_chunk_index",
	"hdf5/libver_v110/g/extensible_array_index",
	"hdf5/libver_v110/btree_v2_index",
	"hdf5/types/float16",
]);

describe("hdf5: direct chunk reads of the fixtures", () => {
	const arrays = formatsManifest().arrays.filter(
		(a) => a.format === "hdf5" && a.chunks !== null && !a.dtype.includes("O"),
	);
	it("reads every chunked fixture with its manifest sha256, directly where the index allows", async () => {
		expect(arrays.length).toBeGreaterThanOrEqual(DIRECT.size + 1);
		for (const a of arrays) {
			const d = await openDriver(join(FORMATS_DIR, a.file), a.dataset ?? "");
			try {
				const before = directReadStats();
				expect(sha256(await readAll(d)), a.id).toBe(a.sha256);
				const after = directReadStats();
				expect({ id: a.id, direct: after.reads > before.reads }).toEqual({
					id: a.id,
					direct: DIRECT.has(a.id),
				});
				if (a.id === "hdf5/special/fill_unwritten")
					expect(after.filled).toBeGreaterThan(before.filled);
			} finally {
				await d.close();
			}
		}
	});

	it("reads boxes that cut through chunks as whole reads do", async () => {
		const file = join(FORMATS_DIR, "hdf5/filters.h5");
		const d = await openDriver(file, "/gzip_shuffle");
		const ref = await openDriver(file, "/gzip_shuffle", "r", {
			directChunks: false,
		});
		try {
			for (const region of [
				{ start: [5, 7], shape: [90, 60] },
				{ start: [31, 31], shape: [2, 2] },
				{ start: [99, 0], shape: [1, 80] },
				{ start: [0, 0], shape: [0, 5] },
			]) {
				const before = directReadStats().reads;
				const got = await readBox(d, region);
				expect(directReadStats().reads).toBe(before + 1);
				expect(sha(got)).toBe(sha(await readBox(ref, region)));
			}
		} finally {
			await d.close();
			await ref.close();
		}
	});

	it("decodes each chunk once when reads walk through it row by row", async () => {
		const a = formatsManifest().arrays.find(
			(x) => x.id === "hdf5/filters/gzip_shuffle",
		);
		const d = await openDriver(
			join(FORMATS_DIR, "hdf5/filters.h5"),
			"/gzip_shuffle",
		);
		try {
			const [rows, cols] = d.info.shape as [number, number];
			const all = new Uint8Array(rows * cols * 4);
			const before = directReadStats();
			for (let r = 0; r < rows; r++)
				all.set(
					await readBox(d, { start: [r, 0], shape: [1, cols] }),
					r * cols * 4,
				);
			const after = directReadStats();
			expect(sha256(all)).toBe(a?.sha256);
			// 4 × 3 chunks of 32 × 32, each decoded once; the other row reads hit the cache.
			expect(after.chunks - before.chunks).toBe(12);
			expect(after.cached - before.cached).toBe(rows * 3 - 12);
		} finally {
			await d.close();
		}
	});

	it("leaves lzf, read-write opens and directChunks: false to HDF5", async () => {
		const file = join(FORMATS_DIR, "hdf5/filters.h5");
		const lzf = formatsManifest().arrays.find(
			(a) => a.id === "hdf5/filters/lzf",
		);
		for (const [path, opts] of [
			["/lzf", {}],
			["/gzip_shuffle", { directChunks: false }],
		] as const) {
			const d = await openDriver(file, path, "r", opts);
			try {
				const before = directReadStats().reads;
				const bytes = await readAll(d);
				if (path === "/lzf") expect(sha256(bytes)).toBe(lzf?.sha256);
				expect(directReadStats().reads).toBe(before);
			} finally {
				await d.close();
			}
		}
	});
});

describe("hdf5: fletcher32", () => {
	it("checks the checksum HDF5 stores, in either byte order HDF5 accepts", () => {
		// Odd length: the last byte counts as the high byte of a word (HDF5's reading of it).
		const data = new TextEncoder().encode("abcde");
		const sum = fletcher32(data);
		expect(sum).not.toBe(fletcher32(new TextEncoder().encode("abcd")));
		const chunk = new Uint8Array(9);
		chunk.set(data);
		new DataView(chunk.buffer).setUint32(5, sum, true);
		expect(stripFletcher32(chunk)).toEqual(data);
		const old = chunk.slice();
		old.set(
			[6, 5, 8, 7].map((i) => chunk[i] as number),
			5,
		);
		expect(stripFletcher32(old)).toEqual(data);
		old[0] = (old[0] as number) ^ 1;
		expect(stripFletcher32(old)).toBeNull();
		expect(stripFletcher32(new Uint8Array(3))).toBeNull();
	});
});

const MAKE = `
import h5py, numpy as np, hashlib
rng = np.random.default_rng(8)
f4 = (np.arange(40 * 300 * 70, dtype="<f4").reshape(40, 300, 70) % 977) / 8 + rng.integers(0, 4, (40, 300, 70)).astype("<f4")
be = (np.arange(300 * 200, dtype=">i4").reshape(300, 200) * 7919) % 100003
u8 = rng.integers(0, 8, (1000, 500), dtype="u1")
f8 = np.linspace(-1, 1, 130 * 90).reshape(130, 90)
out = {}
for libver in ["earliest", "latest"]:
    path = INPUT["file"] + "." + libver
    # The "latest" file starts after a 512-byte user block: every address is relative to it.
    extra = {"userblock_size": 512} if libver == "latest" else {}
    with h5py.File(path, "w", libver=libver, **extra) as f:
        f.create_dataset("f4", data=f4, chunks=(8, 64, 32), compression="gzip", compression_opts=1, shuffle=True)
        f.create_dataset("be", data=be, chunks=(32, 50), compression="gzip")
        f.create_dataset("u8", data=u8, chunks=(100, 100), compression="gzip", shuffle=True, fletcher32=True)
        f.create_dataset("plain", data=f8, chunks=(16, 32))
        f.create_dataset("f8s", data=f8, chunks=(16, 30), compression="gzip", shuffle=True)
        f.create_dataset("f8w", data=f8, chunks=(16, 32), compression="gzip", shuffle=True)
        # 36 elements a chunk: not a multiple of 16, so the JavaScript word unshuffle, not SIMD.
        f.create_dataset("f4w", data=f4[0, :60, :48], chunks=(3, 12), compression="gzip", shuffle=True)
        f.create_dataset("one", data=f8, chunks=(130, 90), compression="gzip", fletcher32=True)
        s = f.create_dataset("sparse", shape=(100, 60), dtype="<i2", chunks=(10, 20), compression="gzip", fillvalue=-7)
        s[15:35, 25:45] = 3
        # One unlimited dimension: extensible arrays under "latest" (1500 chunks reach secondary blocks).
        e = f.create_dataset("ea0", data=np.arange(30000, dtype="<i4").reshape(3000, 10) * 7, maxshape=(None, 10), chunks=(2, 10), compression="gzip", shuffle=True)
        e = f.create_dataset("ea1", shape=(10, 3000), maxshape=(10, None), chunks=(10, 2), dtype="<f4", fillvalue=5)
        e[:, 500:2500] = np.arange(20000, dtype="<f4").reshape(10, 2000)
        # Two unlimited dimensions: version-2 B-trees under "latest" (10000 chunks, depth 2).
        b = f.create_dataset("bt0", shape=(200, 200), maxshape=(None, None), chunks=(2, 2), dtype="<i2", fillvalue=-1)
        b[:150, 20:] = (np.arange(150 * 180).reshape(150, 180) % 30000).astype("<i2")
        # 6000 chunks: a paged fixed array under "latest" (pages of 1024), pages 2 and 3 never written.
        pg = f.create_dataset("pg", shape=(60, 5000), chunks=(1, 50), dtype="<u2", compression="gzip", shuffle=True, fillvalue=9)
        pg[:20] = (np.arange(20 * 5000) % 60000).reshape(20, 5000)
        pg[50:] = 2
        f.create_dataset("bt1", data=np.arange(90 * 70, dtype="<f8").reshape(90, 70), maxshape=(None, None), chunks=(4, 4), compression="gzip", fletcher32=True)
    with h5py.File(path, "r") as f:
        for name, boxes in INPUT["sels"].items():
            a = f[name]
            out[libver + "/" + name] = [hashlib.sha256(np.ascontiguousarray(a[tuple(slice(s, s + n) for s, n in zip(b["start"], b["shape"]))]).tobytes()).hexdigest() for b in boxes]
print(json.dumps(out))
`;

// Shuffled chunks read whole (the first box) unshuffled with SIMD (4- or 8-byte elements, a
// multiple of 16 a chunk) and with the JavaScript word loops.
const SIMD = new Set(["f4", "f8s", "f8w"]);
const WORDS = new Set(["f4w"]);

const whole = (shape: number[]): Region => ({
	start: shape.map(() => 0),
	shape,
});

const SELECTIONS: Record<string, Region[]> = {
	f4: [whole([40, 300, 70]), { start: [3, 10, 5], shape: [34, 280, 64] }],
	be: [whole([300, 200]), { start: [31, 49], shape: [200, 101] }],
	u8: [whole([1000, 500]), { start: [150, 0], shape: [700, 333] }],
	plain: [whole([130, 90]), { start: [17, 3], shape: [100, 80] }],
	f8s: [whole([130, 90]), { start: [9, 31], shape: [70, 50] }],
	// Runs of whole words (unshuffled into the caller's buffer) and of parts of words.
	f8w: [
		whole([130, 90]),
		{ start: [9, 32], shape: [70, 52] },
		{ start: [9, 31], shape: [70, 50] },
	],
	f4w: [whole([60, 48]), { start: [4, 8], shape: [50, 36] }],
	one: [whole([130, 90]), { start: [1, 1], shape: [5, 5] }],
	sparse: [whole([100, 60]), { start: [12, 22], shape: [30, 30] }],
	ea0: [whole([3000, 10]), { start: [1001, 3], shape: [1500, 5] }],
	ea1: [whole([10, 3000]), { start: [2, 401], shape: [7, 2500] }],
	bt0: [whole([200, 200]), { start: [33, 11], shape: [150, 101] }],
	pg: [whole([60, 5000]), { start: [15, 777], shape: [40, 3000] }],
	bt1: [whole([90, 70]), { start: [5, 6], shape: [80, 60] }],
};

describe.skipIf(!python.has("h5py"))("hdf5: direct reads of h5py files", () => {
	if (!python.has("h5py"))
		skipNote("hdf5 direct reads", python.missing("h5py"));
	it("reads v1 B-tree, fixed-array (paged too), extensible-array, v2 B-tree and single-chunk datasets (gzip, shuffle, fletcher32, fill) as h5py does", async () => {
		await using tmp = await tempDir();
		const file = join(tmp.path, "d.h5");
		const expected = python.run<Record<string, string[]>>(MAKE, {
			file,
			sels: SELECTIONS,
		});
		for (const libver of ["earliest", "latest"]) {
			for (const [name, regions] of Object.entries(SELECTIONS)) {
				const d = await openDriver(`${file}.${libver}`, `/${name}`);
				try {
					for (const [i, region] of regions.entries()) {
						const before = directReadStats();
						const got = sha(await readBox(d, region));
						expect(got, `${libver}/${name} box ${i}`).toBe(
							expected[`${libver}/${name}`]?.[i],
						);
						const after = directReadStats();
						expect(after.reads, `${libver}/${name}`).toBe(before.reads + 1);
						if (i === 0 && SIMD.has(name))
							expect(after.simd, `${libver}/${name}`).toBeGreaterThan(
								before.simd,
							);
						if (i === 0 && WORDS.has(name)) {
							expect(after.simd, `${libver}/${name}`).toBe(before.simd);
							expect(after.chunks, `${libver}/${name}`).toBeGreaterThan(
								before.chunks,
							);
						}
					}
				} finally {
					await d.close();
				}
			}
		}
	});

	it("stops reading directly once the file is opened for writing", async () => {
		await using tmp = await tempDir();
		const file = join(tmp.path, "d.h5");
		python.run(MAKE, { file, sels: {} });
		const path = `${file}.earliest`;
		const reader = await openDriver(path, "/be");
		try {
			const first = await readAll(reader);
			const writer = await openDriver(path, "/be", "r+");
			try {
				const ones = new Uint8Array(4 * 200).fill(1);
				await writer.write?.({ start: [0, 0], shape: [1, 200] }, ones);
				const before = directReadStats().reads;
				const now = await readAll(reader);
				expect(directReadStats().reads).toBe(before);
				expect(now.subarray(0, 800)).toEqual(ones);
				expect(sha(now.subarray(800))).toBe(sha(first.subarray(800)));
			} finally {
				await writer.close();
			}
		} finally {
			await reader.close();
		}
	});
});
