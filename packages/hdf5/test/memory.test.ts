// Bounded memory on large datasets: a child process (children/memory-plain.ts) writes and then
// reads a ~600 MiB dataset block by block (3 GiB with ARRAYSTORE_BIG_TESTS=1, beyond the 2 GiB
// wasm heap). Its peak resident memory stays under 400 MB. A process of its own: the vitest
// worker's own memory and garbage made the margin depend on the machine's load.
import { fileURLToPath } from "node:url";
import { tempDir } from "@arraystore/conformance";
import { describe, expect, it } from "vitest";
import { childJson, runChild } from "./child.js";

const MiB = 2 ** 20;
const big = process.env.ARRAYSTORE_BIG_TESTS === "1";
const COLS = 16384;
const ROWS = big ? (3 * 1024 * MiB) / (COLS * 4) : 9600; // 3 GiB or 600 MiB
const CHILD = fileURLToPath(
	new URL("./children/memory-plain.mjs", import.meta.url),
);

describe("hdf5: memory on large datasets", () => {
	it(`writes and reads ${(ROWS * COLS * 4) / MiB} MiB block by block under 400 MB peak RSS`, {
		timeout: big ? 1_800_000 : 120_000,
	}, async () => {
		await using tmp = await tempDir();
		const r = await runChild(
			CHILD,
			{ FILE: tmp.join("big.h5"), ROWS: String(ROWS) },
			big ? 1_750_000 : 110_000,
			{ built: true },
		);
		expect(r.timedOut).toBe(false);
		expect(r.code).toBe(0);
		const got = childJson<{
			expected: string;
			got: string;
			writeBlockBytes: number;
			blocks: number;
			fileSize: number;
			afterWrite: number;
			peak: number;
		}>(r);
		process.stderr.write(
			`hdf5 ${(ROWS * COLS * 4) / MiB} MiB write+read: peak RSS ${(got.afterWrite / MiB).toFixed(0)} MiB after the write, ${(got.peak / MiB).toFixed(0)} MiB after ${got.blocks} read blocks\n`,
		);
		expect(got.writeBlockBytes).toBeLessThanOrEqual(32 * MiB);
		expect(got.fileSize).toBeGreaterThan(ROWS * COLS * 4);
		expect(got.blocks).toBeGreaterThan(1);
		expect(got.got).toBe(got.expected);
		expect(got.peak).toBeLessThan(400 * 1000 * 1000);
	});
});
