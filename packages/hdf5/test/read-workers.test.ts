// Parallel reads: compressed chunked datasets read through the worker pool give the bytes h5py
// reads (multi-chunk gzip + shuffle, big-endian, fletcher32, edge chunks, unaligned boxes) and
// the same bytes as inline reads; fixtures read through workers match their manifest; a broken
// pool falls back to inline reads; workers end when the file closes.
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
import { isArrayStoreError, type Region, shapeSize } from "@arraystore/core";
import { describe, expect, it } from "vitest";
import { chunkBoxes, placeBox, takeBox } from "../src/chunk-boxes.js";
import { readInWorkers, workerBoxes } from "../src/parallel-read.js";
import { PoolError, ReadPool, readPoolStats } from "../src/read-pool.js";
import { openDriver, readAll } from "./helpers.js";

const sha = (b: Uint8Array): string =>
	createHash("sha256").update(b).digest("hex");

async function waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
	const end = Date.now() + ms;
	while (!cond()) {
		if (Date.now() > end) throw new Error("timed out");
		await new Promise((r) => setTimeout(r, 20));
	}
}

const MAKE = `
import h5py, numpy as np, hashlib
rng = np.random.default_rng(8)
r = np.arange(50, dtype="f4")[:, None, None]
c = np.arange(300, dtype="f4")[None, :, None]
k = np.arange(70, dtype="f4")[None, None, :]
f4 = (np.sin(r * 0.1 + c * 0.03 + k * 0.2) * 100).astype("<f4") + rng.integers(-4, 4, (50, 300, 70)).astype("<f4") / 8
be = (np.arange(300 * 200, dtype=">i4").reshape(300, 200) * 7919) % 100003
u8 = rng.integers(0, 8, (1000, 500), dtype="u1")
sels = INPUT["sels"]
out = {}
with h5py.File(INPUT["file"], "w") as f:
    f.create_dataset("f4", data=f4, chunks=(8, 64, 32), compression="gzip", compression_opts=1, shuffle=True)
    f.create_dataset("be", data=be, chunks=(32, 50), compression="gzip")
    f.create_dataset("u8", data=u8, chunks=(100, 100), compression="gzip", shuffle=True, fletcher32=True)
with h5py.File(INPUT["file"], "r") as f:
    for name, boxes in sels.items():
        a = f[name]
        out[name] = [hashlib.sha256(np.ascontiguousarray(a[tuple(slice(s, s + n) for s, n in zip(b["start"], b["shape"]))]).tobytes()).hexdigest() for b in boxes]
print(json.dumps(out))
`;

const SELECTIONS: Record<string, Region[]> = {
	f4: [
		{ start: [0, 0, 0], shape: [50, 300, 70] },
		{ start: [3, 10, 5], shape: [44, 280, 64] },
		{ start: [7, 63, 31], shape: [2, 2, 2] },
		{ start: [0, 0, 0], shape: [1, 300, 70] },
	],
	be: [
		{ start: [0, 0], shape: [300, 200] },
		{ start: [31, 49], shape: [200, 101] },
	],
	u8: [
		{ start: [0, 0], shape: [1000, 500] },
		{ start: [150, 0], shape: [700, 333] },
	],
};

async function readBox(
	file: string,
	path: string,
	region: Region,
	readWorkers: number,
): Promise<Uint8Array> {
	const d = await openDriver(file, path, "r", {
		readWorkers,
		directChunks: false,
	});
	try {
		const out = new Uint8Array(shapeSize(region.shape) * d.info.dtype.itemsize);
		await d.read(region, out);
		return out;
	} finally {
		await d.close();
	}
}

describe.skipIf(!python.has("h5py"))("hdf5: parallel reads", () => {
	if (!python.has("h5py"))
		skipNote("hdf5 parallel reads", python.missing("h5py"));
	it("reads multi-chunk gzip+shuffle, big-endian and fletcher32 boxes as h5py does, with 0, 1 and 2 workers", async () => {
		await using tmp = await tempDir();
		const file = join(tmp.path, "multi.h5");
		const expected = python.run<Record<string, string[]>>(MAKE, {
			file,
			sels: SELECTIONS,
		});
		for (const [name, regions] of Object.entries(SELECTIONS)) {
			for (const [i, region] of regions.entries()) {
				const want = expected[name]?.[i];
				for (const workers of [0, 1, 2]) {
					const before = readPoolStats().reads;
					const bytes = await readBox(file, `/${name}`, region, workers);
					expect(sha(bytes), `${name} box ${i} with ${workers} workers`).toBe(
						want,
					);
					const used = readPoolStats().reads - before;
					// Boxes of at least two chunks go to the workers; smaller ones are read inline.
					const big =
						workerBoxes(region, chunksOf(name), itemsizeOf(name), workers)
							.length > 0;
					if (workers === 0 || !big) expect(used).toBe(0);
					else expect(used).toBeGreaterThan(1);
				}
			}
		}
		await waitFor(() => readPoolStats().live === 0);
	});

	it("keeps the workers of a file until its last reader closes, then ends them", async () => {
		await using tmp = await tempDir();
		const file = join(tmp.path, "multi.h5");
		python.run(MAKE, { file, sels: {} });
		const live = readPoolStats().live;
		const a = await openDriver(file, "/f4", "r", {
			readWorkers: 2,
			directChunks: false,
		});
		const b = await openDriver(file, "/u8", "r", {
			readWorkers: 2,
			directChunks: false,
		});
		await readAll(a);
		expect(readPoolStats().live).toBe(live + 2);
		// Each worker instantiated main's compiled module, so its deflate runs Node's zlib.
		expect(readPoolStats().native).toBeGreaterThanOrEqual(2);
		await a.close();
		await readAll(b);
		expect(readPoolStats().live).toBe(live + 2);
		await b.close();
		await waitFor(() => readPoolStats().live === live);
	});

	it("stops reading in workers once the file is opened for writing", async () => {
		await using tmp = await tempDir();
		const file = join(tmp.path, "multi.h5");
		python.run(MAKE, { file, sels: {} });
		const reader = await openDriver(file, "/f4", "r", {
			readWorkers: 2,
			directChunks: false,
		});
		try {
			const first = await readAll(reader);
			const writer = await openDriver(file, "/u8", "r+");
			try {
				const before = readPoolStats().reads;
				expect(sha(await readAll(reader))).toBe(sha(first));
				expect(readPoolStats().reads).toBe(before);
			} finally {
				await writer.close();
			}
		} finally {
			await reader.close();
		}
	});
});

function itemsizeOf(name: string): number {
	return name === "u8" ? 1 : 4;
}

function chunksOf(name: string): number[] {
	return name === "f4" ? [8, 64, 32] : name === "be" ? [32, 50] : [100, 100];
}

describe("hdf5: parallel reads of the fixtures", () => {
	const arrays = formatsManifest().arrays.filter(
		(a) =>
			a.format === "hdf5" &&
			a.chunks !== null &&
			a.codecs !== null &&
			!a.dtype.includes("O"),
	);
	it("reads every compressed chunked fixture through workers with its manifest sha256", async () => {
		expect(arrays.length).toBeGreaterThan(3);
		const before = readPoolStats().reads;
		for (const a of arrays) {
			const d = await openDriver(
				join(FORMATS_DIR, a.file),
				a.dataset ?? "",
				"r",
				{ readWorkers: 2, followExternalLinks: true, directChunks: false },
			);
			try {
				expect(sha256(await readAll(d)), a.id).toBe(a.sha256);
			} finally {
				await d.close();
			}
		}
		expect(readPoolStats().reads).toBeGreaterThan(before);
	});
});

describe("hdf5: the readWorkers option", () => {
	it("refuses values that are not a worker count", async () => {
		const gz = formatsManifest().arrays.find(
			(a) => a.format === "hdf5" && a.id.includes("gzip"),
		);
		if (!gz) throw new Error("no gzip fixture");
		for (const readWorkers of [-1, 1.5, "2", 1000]) {
			const err = await openDriver(
				join(FORMATS_DIR, gz.file),
				gz.dataset ?? "",
				"r",
				{ readWorkers },
			).catch((e: unknown) => e);
			expect(isArrayStoreError(err, "UNSUPPORTED")).toBe(true);
		}
	});
});

describe("hdf5: chunk boxes", () => {
	it("cuts only on the chunk grid and covers the region exactly once", () => {
		const region = { start: [3, 10, 5], shape: [44, 280, 64] };
		const chunks = [8, 64, 32];
		const boxes = chunkBoxes(region, chunks, 4, 200_000);
		expect(boxes.length).toBeGreaterThan(4);
		const seen = new Uint8Array(shapeSize(region.shape));
		for (const b of boxes) {
			for (let d = 0; d < 3; d++) {
				const s = b.start[d] as number;
				const e = s + (b.shape[d] as number);
				const c = chunks[d] as number;
				const rs = region.start[d] as number;
				const re = rs + (region.shape[d] as number);
				expect(s === rs || s % c === 0).toBe(true);
				expect(e === re || e % c === 0).toBe(true);
			}
			const ones = new Uint8Array(shapeSize(b.shape)).fill(1);
			const view = new Uint8Array(seen.length);
			placeBox(view, region.shape, b, ones, 1);
			for (let i = 0; i < seen.length; i++)
				seen[i] = (seen[i] as number) + (view[i] as number);
		}
		expect(seen.every((v) => v === 1)).toBe(true);
	});

	it("takes and places boxes as strided copies", () => {
		const region = { start: [0, 0], shape: [4, 6] };
		const src = Uint8Array.from({ length: 24 }, (_, i) => i);
		const box = { start: [1, 2], shape: [2, 3], offset: [1, 2] };
		const part = takeBox(src, region.shape, box, 1);
		expect([...part]).toEqual([8, 9, 10, 14, 15, 16]);
		const dst = new Uint8Array(24);
		placeBox(dst, region.shape, box, part, 1);
		expect(dst[8]).toBe(8);
		expect(dst[16]).toBe(16);
		expect(dst[7]).toBe(0);
	});
});

describe("hdf5: a broken read pool", () => {
	it("refuses reads with PoolError when its workers cannot open the file", async () => {
		const pool = new ReadPool("/nonexistent/file.h5", 1, {
			pluginDir: null,
			shared: null,
		});
		await expect(pool.read("/x", [0], [4], 16)).rejects.toBeInstanceOf(
			PoolError,
		);
		expect(pool.usable).toBe(false);
		await pool.close();
		await waitFor(() => readPoolStats().live === 0);
	});

	it("reads the boxes inline instead", async () => {
		const pool = new ReadPool("/nonexistent/file.h5", 1, {
			pluginDir: null,
			shared: null,
		});
		const region = { start: [0, 0], shape: [8, 8] };
		const out = new Uint8Array(64);
		const boxes = chunkBoxes(region, [4, 4], 1, 16);
		let inline = 0;
		await readInWorkers(
			{
				pool,
				path: "/x",
				region,
				out,
				itemsize: 1,
				chunks: [4, 4],
				chunkBytes: 16,
				signal: undefined,
				inline: (box) => {
					inline++;
					return new Uint8Array(shapeSize(box.shape)).fill(box.start[0] ?? 0);
				},
				fix: () => {},
			},
			boxes,
		);
		expect(inline).toBe(boxes.length);
		expect(out[0]).toBe(0);
		expect(out[63]).toBe(4);
		await pool.close();
	});
});
