// Bounded memory on the compressed paths: a child process (children/memory-compressed.ts)
// writes a ~512 MiB gzip + shuffle dataset block by block (chunks deflated ahead in the thread
// pool) and reads it back through two read workers, then directly. Its peak resident memory,
// workers included, stays under 400 MB. A process of its own: the vitest worker's own memory
// and garbage made the margin depend on the machine's load.
import { fileURLToPath } from "node:url";
import { tempDir } from "@arraystore/conformance";
import { describe, expect, it } from "vitest";
import { childJson, runChild } from "./child.js";

const MiB = 2 ** 20;
const CHILD = fileURLToPath(
	new URL("./children/memory-compressed.mjs", import.meta.url),
);

describe("hdf5: memory on compressed datasets", () => {
	it("writes 512 MiB with chunks deflated ahead and reads it through workers and directly under 400 MB peak RSS", {
		timeout: 180_000,
	}, async () => {
		await using tmp = await tempDir();
		const r = await runChild(CHILD, { FILE: tmp.join("gz.h5") }, 170_000, {
			built: true,
		});
		expect(r.timedOut).toBe(false);
		expect(r.code).toBe(0);
		const got = childJson<{
			expected: string;
			viaWorkers: string;
			direct: string;
			deflated: number;
			workerReads: number;
			directChunks: number;
			directSimd: number;
			afterWrite: number;
			peak: number;
		}>(r);
		process.stderr.write(
			`hdf5 512 MiB gzip+shuffle: peak RSS ${(got.afterWrite / MiB).toFixed(0)} MiB after the write, ${(got.peak / MiB).toFixed(0)} MiB after the reads through workers and direct\n`,
		);
		// 512 chunks of 1 MiB: most deflated ahead, read by workers, then all 512 directly (SIMD).
		expect(got.deflated).toBeGreaterThan(400);
		expect(got.workerReads).toBeGreaterThan(32);
		expect(got.directChunks).toBe(512);
		expect(got.directSimd).toBe(512);
		expect(got.viaWorkers).toBe(got.expected);
		expect(got.direct).toBe(got.expected);
		expect(got.peak).toBeLessThan(400 * 1000 * 1000);
	});
});
