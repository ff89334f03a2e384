import { readFileSync, statSync } from "node:fs";
import { tempDir } from "@arraystore/conformance";
import { createRegistry } from "@arraystore/core/node";
import { describe, expect, it } from "vitest";
import { npyAdapter, openNpy } from "../src/index.js";

const registry = createRegistry([npyAdapter]);

/** Resident file-backed and anonymous memory of this process (Linux). */
function rss(): { file: number; anon: number } {
	const status = readFileSync("/proc/self/status", "utf8");
	const kb = (key: string) =>
		Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
	return { file: kb("RssFile") + kb("RssShmem"), anon: kb("RssAnon") };
}
const GiB = 2 ** 30;
const MiB = 2 ** 20;

describe("npy: memory-mapped slices", () => {
	it("reads slices of a sparse 1 GiB file without growing RSS beyond the slices", async () => {
		await using tmp = await tempDir();
		const file = tmp.join("big.npy");
		const rows = GiB / 4096; // 262144 rows of 1024 float32
		{
			await using s = await registry.create(file, {
				dtype: "<f4",
				shape: [rows, 1024],
			});
			await s.write(
				[{ start: 200_000, stop: 200_002 }],
				new Float32Array(2048).fill(7.5),
			);
		}
		expect(statSync(file).size).toBe(128 + GiB);
		// Sparse: almost nothing allocated on disk.
		expect(statSync(file).blocks * 512).toBeLessThan(64 * MiB);
		const driver = await openNpy(file, { mode: "r" });
		expect(driver.mapped).toBe(true);
		await driver.close();

		await using s = await registry.open(file);
		const sliceRows = 1024; // 4 MiB per slice
		// One reused output buffer, so what grows is only what the mapping pulls in.
		const out = await s.read([{ start: 1, stop: 1 + sliceRows }]);
		const before = process.memoryUsage().rss;
		const beforeParts = rss();
		let slices = 0;
		for (const start of [0, 60_000, 130_000, 199_500, rows - sliceRows]) {
			const part = await s.read([{ start, stop: start + sliceRows }], { out });
			expect(part.bytes.length).toBe(4 * MiB);
			slices++;
		}
		const hit = await s.read([200_001, { start: 0, stop: 4 }]);
		expect(Array.from(hit.data as Float32Array)).toEqual([7.5, 7.5, 7.5, 7.5]);
		const grown = process.memoryUsage().rss - before;
		const parts = rss();
		const fileGrown = parts.file - beforeParts.file;
		process.stderr.write(
			`npy 1 GiB mmap: RSS grew ${(grown / MiB).toFixed(1)} MiB (file-backed ${(fileGrown / MiB).toFixed(1)}, anon ${((parts.anon - beforeParts.anon) / MiB).toFixed(1)}) over ${slices} slices of 4 MiB\n`,
		);
		// Each slice maps its 4 MiB of pages (a whole-file read would pull in 1 GiB); anonymous
		// memory holds at most the read path's not-yet-collected 4 MiB temporaries.
		expect(fileGrown).toBeLessThan(slices * 4 * MiB + 8 * MiB);
		expect(grown).toBeLessThan(slices * 8 * MiB + 24 * MiB);
	});

	it("addresses more than 2^31 elements of a sparse file", async () => {
		await using tmp = await tempDir();
		const file = tmp.join("huge.npy");
		const n = 2 ** 31 + 10;
		{
			await using s = await registry.create(file, { dtype: "|u1", shape: [n] });
			await s.write([{ start: n - 4 }], new Uint8Array([1, 2, 3, 4]));
			await s.write([5], 9);
		}
		await using back = await registry.open(file);
		expect(back.info.shape).toEqual([n]);
		expect([...(await back.read([{ start: n - 6 }])).bytes]).toEqual([
			0, 0, 1, 2, 3, 4,
		]);
		expect([...(await back.read([{ start: 4, stop: 7 }])).bytes]).toEqual([
			0, 9, 0,
		]);
	});
});
