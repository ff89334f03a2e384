import { readFile, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { python, sha256, skipNote, tempDir } from "@arraystore/conformance";
import { type ArrayDriver, isArrayStoreError } from "@arraystore/core";
import { describe, expect, it } from "vitest";
import { zarrAdapter } from "../src/index.js";

// Small reads of sharded arrays (a box within a few inner chunks) open each shard with
// synchronous calls, read its index (or take it from a cache of recent shards) and only the
// wanted inner chunks' bytes. Expected bytes come from tensorstore reading the same arrays.

const hasTs = python.has("numpy", "tensorstore");
if (!hasTs)
	skipNote(
		"zarr small reads of sharded tensorstore arrays",
		python.missing("numpy", "tensorstore"),
	);

const SHAPE = [100, 210];
const SHARDS = [40, 100];
const INNER = [20, 50];

// tensorstore writes rows 40.. (inner chunk [60:80, 150:200] equal to the fill value, so
// not stored: an empty index entry) and rows 0:20 x cols 0:50 (shard (0, 0) holds one inner
// chunk of four; shards (0, 1) and (0, 2) are missing). `scale` changes the values (rewrites).
// Answers the sha256 of the C-order bytes of the whole array as tensorstore reads it back.
const WRITE = `
import tensorstore as ts, numpy as np, hashlib, json
out = {}
for c in INPUT:
    a = (np.arange(100 * 210, dtype="<f4").reshape(100, 210) * 0.25 - 7) * c.get("scale", 1)
    a = a.astype("<f4")
    a[60:80, 150:200] = 1.5
    spec = {"driver": "zarr3", "kvstore": {"driver": "file", "path": c["path"]}}
    if "metadata" in c:
        spec.update(metadata=c["metadata"], create=True, delete_existing=True)
    t = ts.open(spec).result()
    t[40:].write(a[40:]).result()
    t[0:20, 0:50].write(a[0:20, 0:50]).result()
    full = np.ascontiguousarray(np.asarray(t.read().result()))
    out[c["path"]] = hashlib.sha256(full.tobytes()).hexdigest()
print(json.dumps(out))
`;

// A box of the array as tensorstore reads it (C order, hex of the bytes).
const READ_BOX = `
import tensorstore as ts, numpy as np
c = INPUT
t = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": c["path"]}}).result()
(r, q), (h, w) = c["start"], c["shape"]
box = np.ascontiguousarray(np.asarray(t[r:r + h, q:q + w].read().result()))
print(json.dumps(box.tobytes().hex()))
`;

const sharded = (
	codecs: unknown[],
	index: { location: "start" | "end"; crc: boolean },
) => ({
	shape: SHAPE,
	chunk_grid: { name: "regular", configuration: { chunk_shape: SHARDS } },
	chunk_key_encoding: { name: "default" },
	data_type: "float32",
	fill_value: 1.5,
	codecs: [
		{
			name: "sharding_indexed",
			configuration: {
				chunk_shape: INNER,
				codecs,
				index_codecs: [
					{ name: "bytes", configuration: { endian: "little" } },
					...(index.crc ? [{ name: "crc32c" }] : []),
				],
				index_location: index.location,
			},
		},
	],
});

const bytesLE = { name: "bytes", configuration: { endian: "little" } };
const CASES = [
	{
		name: "end-crc-zstd",
		metadata: sharded(
			[bytesLE, { name: "zstd", configuration: { level: 1 } }],
			{
				location: "end",
				crc: true,
			},
		),
	},
	{
		name: "start-blosc",
		metadata: sharded(
			[
				bytesLE,
				{
					name: "blosc",
					configuration: {
						cname: "lz4",
						clevel: 5,
						shuffle: "shuffle",
						typesize: 4,
						blocksize: 0,
					},
				},
			],
			{ location: "start", crc: false },
		),
	},
	{
		name: "start-transpose-gzip-crc",
		metadata: sharded(
			[
				{ name: "transpose", configuration: { order: [1, 0] } },
				bytesLE,
				{ name: "gzip", configuration: { level: 1 } },
				{ name: "crc32c" },
			],
			{ location: "start", crc: true },
		),
	},
	{
		name: "end-raw",
		metadata: sharded([bytesLE], { location: "end", crc: false }),
	},
] as const;

// The whole array in C order from boxes of 17 x 23 (each within at most 2 x 2 inner chunks,
// some across shards), read in a scrambled order.
async function tiled(d: ArrayDriver): Promise<Uint8Array> {
	const [R, C] = SHAPE as [number, number];
	const full = new Float32Array(R * C);
	const tiles: [number, number][] = [];
	for (let r = 0; r < R; r += 17)
		for (let c = 0; c < C; c += 23) tiles.push([r, c]);
	for (let i = 0; i < tiles.length; i++) {
		const [r, c] = tiles[(i * 31) % tiles.length] as [number, number];
		const h = Math.min(17, R - r);
		const w = Math.min(23, C - c);
		const box = new Uint8Array(h * w * 4);
		await d.read({ start: [r, c], shape: [h, w] }, box);
		const f = new Float32Array(box.buffer);
		const fOrder = d.info.order === "F";
		for (let y = 0; y < h; y++)
			for (let x = 0; x < w; x++)
				full[(r + y) * C + c + x] = f[fOrder ? x * h + y : y * w + x] as number;
	}
	return new Uint8Array(full.buffer);
}

async function expectMalformed(
	p: Promise<unknown>,
	what: string,
): Promise<void> {
	const err = await p.then(
		() => undefined,
		(e: unknown) => e,
	);
	expect(isArrayStoreError(err), `${what}: ${String(err)}`).toBe(true);
	expect((err as { code: string }).code, what).toBe("MALFORMED");
}

const box = (r: number, c: number, h = 3, w = 5) => ({
	start: [r, c],
	shape: [h, w],
});

const open = (p: string, mode: "r" | "r+" = "r") =>
	zarrAdapter.open(p, { mode, path: "", adapterOptions: {} });

describe.skipIf(!hasTs)("zarr: small reads of shards", () => {
	it("reads boxes of what tensorstore wrote (index at start and end, missing shards and inner chunks)", async () => {
		await using tmp = await tempDir("zarr-ssr-");
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
				const got = await tiled(d);
				await d.close();
				expect(sha256(got), `${a.name} workers=${workers}`).toBe(want[a.path]);
			}
		}
	});

	it("reports a corrupt index, entries past the shard, a truncated shard and a bad inner chunk as MALFORMED", async () => {
		await using tmp = await tempDir("zarr-ssr-");
		const [crc, start, raw] = ["end-crc-zstd", "start-blosc", "end-raw"].map(
			(name) => {
				const c = CASES.find((x) => x.name === name);
				return { ...c, path: tmp.join(`${name}.zarr`) };
			},
		) as [{ path: string }, { path: string }, { path: string }];
		python.run(WRITE, [crc, start, raw]);
		// The index's crc32c changed (its entries still lie inside the shard).
		const s10 = join(crc.path, "c", "1", "0");
		const b = new Uint8Array(await readFile(s10));
		b[b.length - 1] = (b[b.length - 1] as number) ^ 1;
		await writeFile(s10, b);
		let d = await open(crc.path);
		await expectMalformed(
			d.read(box(45, 10), new Uint8Array(60)),
			"index checksum",
		);
		// Another shard of the same array still reads.
		await d.read(box(85, 10), new Uint8Array(60));
		// Cut to less than its index.
		const s11 = join(crc.path, "c", "1", "1");
		await truncate(s11, 20);
		await expectMalformed(
			d.read(box(45, 110), new Uint8Array(60)),
			"shorter than the index",
		);
		await d.close();
		// Index at the start without a checksum: the first entry's offset past the end.
		const t10 = join(start.path, "c", "1", "0");
		const s = new Uint8Array(await readFile(t10));
		new DataView(s.buffer).setBigUint64(0, BigInt(s.length), true);
		await writeFile(t10, s);
		// The tail of a shard cut off: its last entries point past the end.
		const t11 = join(start.path, "c", "1", "1");
		const size = (await readFile(t11)).length;
		await truncate(t11, size - 100);
		d = await open(start.path);
		await expectMalformed(
			d.read(box(45, 10), new Uint8Array(60)),
			"entry past the end",
		);
		await expectMalformed(
			d.read(box(65, 160), new Uint8Array(60)),
			"truncated tail",
		);
		await d.close();
		// An uncompressed inner chunk of the wrong size (its entry shortened by 4 bytes).
		const r10 = join(raw.path, "c", "1", "0");
		const rb = new Uint8Array(await readFile(r10));
		const v = new DataView(rb.buffer);
		const at = rb.length - 16 * 4 + 8;
		v.setBigUint64(at, v.getBigUint64(at, true) - 4n, true);
		await writeFile(r10, rb);
		d = await open(raw.path);
		await expectMalformed(
			d.read(box(45, 10), new Uint8Array(60)),
			"inner chunk size",
		);
		// An inner chunk larger than any encoding of it (read off the fast path, then refused).
		const big = new Uint8Array(5000 + 16 * 4);
		const bv = new DataView(big.buffer);
		for (let i = 0; i < 4; i++) {
			bv.setBigUint64(5000 + 16 * i, i === 0 ? 0n : 0xffffffffffffffffn, true);
			bv.setBigUint64(
				5000 + 16 * i + 8,
				i === 0 ? 5000n : 0xffffffffffffffffn,
				true,
			);
		}
		await writeFile(join(raw.path, "c", "1", "1"), big);
		await expectMalformed(
			d.read(box(45, 110), new Uint8Array(60)),
			"inner chunk too big",
		);
		await d.close();
	});

	it("sees shards rewritten by tensorstore and by its own writes after their index was read", async () => {
		await using tmp = await tempDir("zarr-ssr-");
		const c = CASES[0];
		const path = tmp.join("a.zarr");
		python.run(WRITE, [{ ...c, path }]);
		const d = await open(path, "r+");
		const read = async (r: number, q: number) => {
			const out = new Uint8Array(3 * 5 * 4);
			await d.read(box(r, q), out);
			return Buffer.from(out).toString("hex");
		};
		const ts = (r: number, q: number) =>
			python.run<string>(READ_BOX, { path, start: [r, q], shape: [3, 5] });
		// Indexes of shards (1, 0), (0, 0) and (0, 1) (missing) are read.
		expect(await read(45, 10)).toBe(ts(45, 10));
		expect(await read(5, 5)).toBe(ts(5, 5));
		expect(await read(5, 105)).toBe(ts(5, 105));
		// tensorstore rewrites everything with other values; a shard that was missing appears.
		python.run(WRITE, [{ path, scale: 3 }]);
		python.run(
			`import tensorstore as ts, numpy as np
t = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": INPUT}}).result()
t[0:40, 100:200].write(np.full((40, 100), 9.25, "<f4")).result()
print("null")`,
			path,
		);
		expect(await read(45, 10)).toBe(ts(45, 10));
		expect(await read(5, 5)).toBe(ts(5, 5));
		expect(await read(5, 105)).toBe(ts(5, 105));
		// Our own write into a shard whose index is cached: tensorstore reads what we read.
		const patch = new Float32Array(4 * 6).map((_, i) => i + 0.5);
		await d.write?.(
			{ start: [44, 8], shape: [4, 6] },
			new Uint8Array(patch.buffer),
		);
		expect(await read(45, 10)).toBe(ts(45, 10));
		expect(await read(45, 10)).toContain(
			Buffer.from(new Float32Array([patch[8] as number]).buffer).toString(
				"hex",
			),
		);
		await d.close();
	});
});
