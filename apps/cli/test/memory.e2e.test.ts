import { sha256, tempDir } from "@arraystore/conformance";
import { describe, expect, it } from "vitest";
import { builtinRegistry } from "../src/adapters.js";
import { convert, events } from "./e2e-helpers.js";

const MiB = 1024 * 1024;
const BIG = process.env.ARRAYSTORE_BIG_TESTS === "1";
const registry = builtinRegistry();

// A generated HDF5 file: rows × 4096 float32 (chunks 64 × 1024, shuffle + gzip 1), written block by block.
async function makeHdf5(path: string, rows: number): Promise<void> {
	await using h5 = await registry.openContainer(path, {
		mode: "w+",
		format: "hdf5",
	});
	const a = await h5.createArray("x", {
		dtype: "<f4",
		shape: [rows, 4096],
		chunks: [64, 1024],
		codecs: [{ name: "shuffle" }, { name: "gzip", config: { level: 1 } }],
	});
	const step = 1024;
	const block = new Float32Array(step * 4096);
	for (let r = 0; r < rows; r += step) {
		for (let i = 0; i < block.length; i++)
			block[i] = ((r * 4096 + i) % 65521) / 7;
		await a.write([{ start: r, stop: r + step }], block);
	}
	await a.close();
}

const cases = [
	// CI: twice the budget in data, at the default budget. (At 64 MiB the fixed costs — Node,
	// the h5wasm heap, codec pools — leave peak RSS ~20 MB over budget + 100 MB: see the notes.)
	{
		name: "512 MiB file, default --max-memory (256 MiB)",
		rows: 32768,
		maxMemory: 256 * MiB,
		flag: "256MiB",
		run: true,
	},
	{
		name: "2 GiB file, default --max-memory (256 MiB)",
		rows: 131072,
		maxMemory: 256 * MiB,
		flag: "256MiB",
		run: BIG,
	},
];

describe("cli e2e: peak memory of HDF5 → Zarr", () => {
	for (const c of cases) {
		it.skipIf(!c.run)(
			`stays under --max-memory + 100 MB: ${c.name}`,
			async () => {
				await using tmp = await tempDir();
				await makeHdf5(tmp.join("big.h5"), c.rows);
				const r = await convert([
					tmp.join("big.h5"),
					tmp.join("out.zarr"),
					"--max-memory",
					c.flag,
					"--json",
					...(c.run && !BIG ? ["--verify"] : []),
				]);
				expect(r.code, r.stderr).toBe(0);
				const done = events(r.stdout).at(-1) as {
					peakRss: number;
					bytes: number;
				};
				expect(done.bytes).toBe(c.rows * 4096 * 4);
				console.log(
					`${c.name}: peak RSS ${(done.peakRss / MiB).toFixed(0)} MiB (limit ${(c.maxMemory / MiB + 100).toFixed(0)} MiB)`,
				);
				expect(done.peakRss).toBeLessThan(c.maxMemory + 100 * MiB);
				// The values arrived: first and last rows.
				await using out = await registry.open(`${tmp.join("out.zarr")}#x`);
				await using src = await registry.open(`${tmp.join("big.h5")}#/x`);
				for (const row of [0, c.rows - 1])
					expect(sha256((await out.read([row])).bytes)).toBe(
						sha256((await src.read([row])).bytes),
					);
			},
		);
	}

	it("reads and writes memory-mapped formats without their pages piling up: npy → Zarr → npy", async () => {
		await using tmp = await tempDir();
		// 512 MiB of data at a 128 MiB budget: resident file pages would show as > 400 MiB.
		const rows = 32768;
		{
			await using a = await registry.create(tmp.join("big.npy"), {
				dtype: "<f4",
				shape: [rows, 4096],
			});
			const block = new Float32Array(1024 * 4096);
			for (let r = 0; r < rows; r += 1024) {
				for (let i = 0; i < block.length; i++)
					block[i] = (r * 4096 + i) % 65521;
				await a.write([{ start: r, stop: r + 1024 }], block);
			}
		}
		const limit = 128 * MiB + 100 * MiB;
		for (const [from, to] of [
			["big.npy", "mid.zarr"],
			["mid.zarr", "back.npy"],
		] as const) {
			const r = await convert([
				tmp.join(from),
				tmp.join(to),
				"--max-memory",
				"128MiB",
				"--json",
			]);
			expect(r.code, r.stderr).toBe(0);
			const done = events(r.stdout).at(-1) as { peakRss: number };
			console.log(
				`${from} → ${to}: peak RSS ${(done.peakRss / MiB).toFixed(0)} MiB (limit ${(limit / MiB).toFixed(0)} MiB)`,
			);
			expect(done.peakRss).toBeLessThan(limit);
		}
		const { readFile } = await import("node:fs/promises");
		expect(sha256(await readFile(tmp.join("back.npy")))).toBe(
			sha256(await readFile(tmp.join("big.npy"))),
		);
	});
});
