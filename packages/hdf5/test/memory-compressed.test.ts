// Bounded memory on the compressed paths: a ~512 MiB gzip + shuffle dataset written block by
// block (chunks deflated ahead in the thread pool, taken by HDF5's redirected deflate) and read back
// through two read workers (each with its own wasm heap), then directly (direct-read.ts). Peak resident memory of this test
// process (vitest runs each file in its own process), workers included, stays under 400 MB.
import { createHash } from "node:crypto";
import { tempDir } from "@arraystore/conformance";
import { parseDType } from "@arraystore/core";
import { createRegistry } from "@arraystore/core/node";
import { describe, expect, it } from "vitest";
import { directReadStats } from "../src/direct-read.js";
import { hdf5Adapter } from "../src/index.js";
import { nativeDeflateStats } from "../src/native-deflate.js";
import { readPoolStats } from "../src/read-pool.js";

const MiB = 2 ** 20;
const COLS = 4096;
const ROWS = 32768; // 512 MiB of float32
const CHUNKS = [256, 1024]; // 1 MiB chunks

// A smooth field plus small integer noise (compresses ~3x with shuffle + gzip), cheap to make.
const BASE = Float32Array.from(
	{ length: COLS },
	(_, c) => Math.round(Math.sin(c * 0.0031) * 2048) / 4,
);
function fillRows(out: Float32Array, firstRow: number): void {
	for (let r = 0; r < out.length / COLS; r++) {
		const row = firstRow + r;
		const shift = (row % 97) * 0.25;
		for (let c = 0; c < COLS; c++)
			out[r * COLS + c] = (BASE[c] as number) + shift + ((row * 31 + c) % 5);
	}
}

describe("hdf5: memory on compressed datasets", () => {
	it("writes 512 MiB with chunks deflated ahead and reads it through workers and directly under 400 MB peak RSS", {
		timeout: 180_000,
	}, async () => {
		await using tmp = await tempDir();
		const file = tmp.join("gz.h5");
		const registry = createRegistry([hdf5Adapter]);
		const expected = createHash("sha256");
		const taken = (await nativeDeflateStats()).taken;
		{
			await using s = await registry.create(`${file}#/data`, {
				dtype: parseDType("<f4"),
				shape: [ROWS, COLS],
				chunks: CHUNKS,
				codecs: [{ name: "shuffle" }, { name: "gzip", config: { level: 1 } }],
			});
			const step = s.info.blockShape[0] as number;
			const block = new Float32Array(step * COLS);
			for (let r = 0; r < ROWS; r += step) {
				const n = Math.min(step, ROWS - r);
				const part = n === step ? block : block.subarray(0, n * COLS);
				fillRows(part, r);
				expected.update(
					new Uint8Array(part.buffer, part.byteOffset, part.byteLength),
				);
				await s.write([{ start: r, stop: r + n }], part);
			}
		}
		expect((await nativeDeflateStats()).taken - taken).toBeGreaterThan(400);
		const afterWrite = process.resourceUsage().maxRSS / 1024;
		const got = createHash("sha256");
		const reads = readPoolStats().reads;
		{
			await using s = await registry.open(`${file}#/data`, {
				adapterOptions: { readWorkers: 2, directChunks: false },
			});
			for await (const b of s.iterBlocks()) got.update(b.bytes);
		}
		expect(readPoolStats().reads - reads).toBeGreaterThan(32);
		const want = expected.digest("hex");
		expect(got.digest("hex")).toBe(want);
		// Again, read directly (fs + zlib in the thread pool, chunks into the caller's blocks).
		const direct = createHash("sha256");
		const chunks = directReadStats().chunks;
		{
			await using s = await registry.open(`${file}#/data`);
			for await (const b of s.iterBlocks()) direct.update(b.bytes);
		}
		expect(directReadStats().chunks - chunks).toBe(512);
		expect(direct.digest("hex")).toBe(want);
		const peak = process.resourceUsage().maxRSS * 1024;
		process.stderr.write(
			`hdf5 512 MiB gzip+shuffle: peak RSS ${afterWrite.toFixed(0)} MiB after the write, ${(peak / MiB).toFixed(0)} MiB after the reads through workers and direct\n`,
		);
		expect(peak).toBeLessThan(400 * 1000 * 1000);
	});
});
