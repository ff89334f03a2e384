// Bounded memory on large datasets: write and then read a ~600 MiB dataset block by block
// (3 GiB with ARRAYSTORE_BIG_TESTS=1, beyond the 2 GiB wasm heap) and check the peak resident
// memory of this worker process (vitest runs each test file in its own child process).
import { createHash } from "node:crypto";
import { statSync } from "node:fs";
import { tempDir } from "@arraystore/conformance";
import { parseDType } from "@arraystore/core";
import { createRegistry } from "@arraystore/core/node";
import { describe, expect, it } from "vitest";
import { hdf5Adapter } from "../src/index.js";

const MiB = 2 ** 20;
const big = process.env.ARRAYSTORE_BIG_TESTS === "1";
const COLS = 16384; // 64 KiB rows of float32
const ROWS = big ? (3 * 1024 * MiB) / (COLS * 4) : 9600; // 3 GiB or 600 MiB
const CHUNK_ROWS = 64; // 4 MiB chunks

function fillRows(out: Float32Array, firstRow: number): void {
	for (let r = 0; r < out.length / COLS; r++) {
		const base = (firstRow + r) * 7;
		for (let c = 0; c < COLS; c += 1024) out[r * COLS + c] = base + c;
	}
}

describe("hdf5: memory on large datasets", () => {
	it(`writes and reads ${(ROWS * COLS * 4) / MiB} MiB block by block under 400 MB peak RSS`, {
		timeout: big ? 1_800_000 : 120_000,
	}, async () => {
		await using tmp = await tempDir();
		const file = tmp.join("big.h5");
		const registry = createRegistry([hdf5Adapter]);
		const expected = createHash("sha256");
		{
			await using s = await registry.create(`${file}#/data`, {
				dtype: parseDType("<f4"),
				shape: [ROWS, COLS],
				chunks: [CHUNK_ROWS, COLS],
			});
			const step = s.info.blockShape[0] as number;
			expect(step * COLS * 4).toBeLessThanOrEqual(32 * MiB);
			const block = new Float32Array(step * COLS);
			for (let r = 0; r < ROWS; r += step) {
				const n = Math.min(step, ROWS - r);
				const part = n === step ? block : block.subarray(0, n * COLS);
				part.fill(0);
				fillRows(part, r);
				expected.update(
					new Uint8Array(part.buffer, part.byteOffset, part.byteLength),
				);
				await s.write([{ start: r, stop: r + n }], part);
			}
		}
		process.stderr.write(
			`after write: peak ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB, rss ${(process.memoryUsage().rss / MiB).toFixed(0)} MiB, heap ${((await import("../src/module.js").then((m) => m.loadH5())).api.HEAPU8.length / MiB).toFixed(0)} MiB\n`,
		);
		expect(statSync(file).size).toBeGreaterThan(ROWS * COLS * 4);
		const got = createHash("sha256");
		let blocks = 0;
		{
			await using s = await registry.open(`${file}#/data`);
			for await (const b of s.iterBlocks()) {
				got.update(b.bytes);
				blocks++;
			}
		}
		process.stderr.write(
			`after read: rss ${(process.memoryUsage().rss / MiB).toFixed(0)} MiB, heap ${((await import("../src/module.js").then((m) => m.loadH5())).api.HEAPU8.length / MiB).toFixed(0)} MiB, js external ${(process.memoryUsage().arrayBuffers / MiB).toFixed(0)} MiB\n`,
		);
		expect(blocks).toBeGreaterThan(1);
		expect(got.digest("hex")).toBe(expected.digest("hex"));
		const peak = process.resourceUsage().maxRSS * 1024;
		process.stderr.write(
			`hdf5 ${(ROWS * COLS * 4) / MiB} MiB write+read: peak RSS ${(peak / MiB).toFixed(0)} MiB in ${blocks} read blocks (pid ${process.pid})\n`,
		);
		expect(peak).toBeLessThan(400 * 1000 * 1000);
	});
});
