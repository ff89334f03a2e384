import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { python, sha256, skipNote, tempDir } from "@arraystore/conformance";
import { type ArrayDriver, isArrayStoreError } from "@arraystore/core";
import { describe, expect, it } from "vitest";
import { zarrAdapter } from "../src/index.js";

// Small reads (a few chunks into an ordinary buffer) take their own path: chunk files read with
// synchronous calls, chains of crc32c / lz4 / blosc-lz4 decoded on the calling thread, blosc
// frames decoding only the blocks the box needs. Expected bytes come from tensorstore (and
// numcodecs for the lz4 compressor, which tensorstore does not write).

const hasTs = python.has("numpy", "tensorstore", "numcodecs");
if (!hasTs)
	skipNote(
		"zarr small reads of tensorstore arrays",
		python.missing("numpy", "tensorstore", "numcodecs"),
	);

const SHAPE = [192, 1100];
const CHUNKS = [128, 512];

// Columns 512.. are written (chunk column 0 stays missing: fill 1.5). tensorstore writes the
// "zarr3" arrays; numcodecs writes the others chunk by chunk (blosc with 64 KiB blocks, four a
// chunk, which tensorstore does not make at this size). Answers the sha256 of the C-order bytes
// of the whole array as tensorstore reads it back (numpy for lz4 and zstd checksums, which
// tensorstore does not read).
const WRITE = `
import tensorstore as ts, numpy as np, hashlib, json, os
import numcodecs
out = {}
a = (np.arange(192 * 1100, dtype="<f4").reshape(192, 1100) * 0.25 - 7).astype("<f4")
a[40:90, 600:700] = 0  # runs that compress
for c in INPUT:
    path = c["path"]
    if c["driver"] == "zarr3":
        spec = {"driver": "zarr3", "kvstore": {"driver": "file", "path": path}, "metadata": c["metadata"], "create": True}
        t = ts.open(spec).result()
        t[:, 512:].write(a[:, 512:]).result()
    else:
        m = c["metadata"]
        os.makedirs(path)
        with open(os.path.join(path, ".zarray"), "w") as f:
            json.dump(m, f)
        codec = numcodecs.get_codec(dict(m["compressor"]))
        for i in range(2):
            for j in range(1, 3):
                chunk = np.full((128, 512), 1.5, "<f4")
                part = a[i * 128:(i + 1) * 128, j * 512:(j + 1) * 512]
                chunk[:part.shape[0], :part.shape[1]] = part
                if m["order"] == "F":
                    chunk = chunk.T.copy()
                with open(os.path.join(path, f"{i}.{j}"), "wb") as f:
                    f.write(codec.encode(chunk))
    comp = c["metadata"].get("compressor") or {}
    if comp.get("id") == "lz4" or comp.get("checksum"):
        full = a.copy()
        full[:, :512] = 1.5
    else:
        kind = "zarr3" if c["driver"] == "zarr3" else "zarr"
        t = ts.open({"driver": kind, "kvstore": {"driver": "file", "path": path}}).result()
        full = np.ascontiguousarray(np.asarray(t.read().result()))
    out[path] = hashlib.sha256(full.tobytes()).hexdigest()
print(json.dumps(out))
`;

const v3 = (codecs: unknown[]) => ({
	shape: SHAPE,
	chunk_grid: { name: "regular", configuration: { chunk_shape: CHUNKS } },
	chunk_key_encoding: { name: "default" },
	data_type: "float32",
	fill_value: 1.5,
	codecs: [{ name: "bytes", configuration: { endian: "little" } }, ...codecs],
});
const v2 = (compressor: Record<string, unknown>, order: "C" | "F") => ({
	zarr_format: 2,
	shape: SHAPE,
	chunks: CHUNKS,
	dtype: "<f4",
	order,
	fill_value: 1.5,
	compressor,
	filters: null,
	dimension_separator: ".",
});
const blosc = (cname: string, shuffle: number) => ({
	id: "blosc",
	cname,
	clevel: 5,
	shuffle,
	blocksize: 4096,
});

const CASES = [
	{ name: "v3-zstd", driver: "zarr3", metadata: v3([{ name: "zstd" }]) },
	{
		name: "v3-blosc-crc",
		driver: "zarr3",
		metadata: v3([
			{
				name: "blosc",
				configuration: {
					cname: "lz4",
					clevel: 5,
					shuffle: "shuffle",
					typesize: 4,
				},
			},
			{ name: "crc32c" },
		]),
	},
	{
		name: "v2-blosc-shuffle",
		driver: "numcodecs",
		metadata: v2(blosc("lz4", 1), "C"),
	},
	{
		name: "v2-blosc-bitshuffle-F",
		driver: "numcodecs",
		metadata: v2(blosc("lz4", 2), "F"),
	},
	{
		name: "v2-blosc-noshuffle",
		driver: "numcodecs",
		metadata: v2(blosc("lz4", 0), "C"),
	},
	{
		name: "v2-blosc-zstd",
		driver: "numcodecs",
		metadata: v2(blosc("zstd", 1), "C"),
	},
	{
		name: "v2-zstd-checksum",
		driver: "numcodecs",
		metadata: v2({ id: "zstd", level: 1, checksum: true }, "C"),
	},
	{
		name: "v2-lz4",
		driver: "numcodecs",
		metadata: v2({ id: "lz4", acceleration: 1 }, "C"),
	},
] as const;

// The whole array in C order, put together from small boxes of an odd size (each within
// at most 2x2 chunks, most cutting chunks and blosc blocks in part), read in a scrambled order
// so that pooled buffers never hold the chunk a box wants from an earlier read.
async function tiled(d: ArrayDriver, order: "C" | "F"): Promise<Uint8Array> {
	const [R, C] = SHAPE as [number, number];
	const full = new Float32Array(R * C);
	const tiles: [number, number][] = [];
	for (let r = 0; r < R; r += 23)
		for (let c = 0; c < C; c += 37) tiles.push([r, c]);
	for (let i = 0; i < tiles.length; i++) {
		const [r, c] = tiles[(i * 97) % tiles.length] as [number, number];
		const h = Math.min(23, R - r);
		const w = Math.min(37, C - c);
		const box = new Uint8Array(h * w * 4);
		await d.read({ start: [r, c], shape: [h, w] }, box);
		const f = new Float32Array(box.buffer);
		for (let y = 0; y < h; y++)
			for (let x = 0; x < w; x++)
				full[(r + y) * C + c + x] = f[
					order === "C" ? y * w + x : x * h + y
				] as number;
	}
	return new Uint8Array(full.buffer);
}

async function expectMalformed(p: Promise<unknown>): Promise<void> {
	const err = await p.then(
		() => undefined,
		(e: unknown) => e,
	);
	expect(isArrayStoreError(err), String(err)).toBe(true);
	expect((err as { code: string }).code).toBe("MALFORMED");
}

describe.skipIf(!hasTs)("zarr: small reads", () => {
	it("reads boxes of what tensorstore and numcodecs wrote, missing chunks as the fill value", async () => {
		await using tmp = await tempDir("zarr-sr-");
		const arrays = CASES.map((c) => ({
			...c,
			path: tmp.join(`${c.name}.zarr`),
		}));
		const want = python.run<Record<string, string>>(WRITE, arrays);
		for (const a of arrays) {
			for (const workers of [0, 2]) {
				const d = await zarrAdapter.open(a.path, {
					mode: "r",
					path: "",
					adapterOptions: { workers },
				});
				const order = "order" in a.metadata ? a.metadata.order : "C";
				const got = await tiled(d, order);
				await d.close();
				expect(sha256(got), `${a.name} workers=${workers}`).toBe(want[a.path]);
			}
		}
	});

	it("reports corrupt chunks as MALFORMED: bad frames, a blosc split, a file too big for its chunk", async () => {
		await using tmp = await tempDir("zarr-sr-");
		const arrays = CASES.filter((c) =>
			["v3-zstd", "v2-blosc-shuffle", "v2-lz4"].includes(c.name),
		).map((c) => ({ ...c, path: tmp.join(`${c.name}.zarr`) }));
		python.run(WRITE, arrays);
		const open = (p: string) =>
			zarrAdapter.open(p, { mode: "r", path: "", adapterOptions: {} });
		const [zstd, blosc, lz4] = arrays.map((a) => a.path) as [
			string,
			string,
			string,
		];
		// Garbage in place of a chunk, and a chunk file far larger than any encoding of it
		// (read off the event loop, then refused by the decoder).
		await writeFile(join(zstd, "c", "0", "1"), new Uint8Array(100).fill(9));
		await writeFile(
			join(zstd, "c", "1", "1"),
			new Uint8Array(1_000_000).fill(9),
		);
		let d = await open(zstd);
		await expectMalformed(
			d.read({ start: [40, 700], shape: [4, 4] }, new Uint8Array(64)),
		);
		await expectMalformed(
			d.read({ start: [140, 700], shape: [4, 4] }, new Uint8Array(64)),
		);
		await d.close();
		// A blosc frame whose first split says it is longer than the frame.
		const frame = new Uint8Array(await readFile(join(blosc, "1.1")));
		const view = new DataView(frame.buffer);
		const at = view.getUint32(16, true);
		view.setUint32(at, frame.length, true);
		await writeFile(join(blosc, "1.1"), frame);
		d = await open(blosc);
		await expectMalformed(
			d.read({ start: [130, 520], shape: [2, 2] }, new Uint8Array(16)),
		);
		await d.close();
		// An lz4 chunk cut short.
		const l = await readFile(join(lz4, "1.2"));
		await writeFile(join(lz4, "1.2"), l.subarray(0, l.length >> 1));
		d = await open(lz4);
		await expectMalformed(
			d.read({ start: [130, 1030], shape: [2, 2] }, new Uint8Array(16)),
		);
		await d.close();
	});
});
