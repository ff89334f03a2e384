// Read workers never keep a process alive: a child `node` process (running the TypeScript
// sources through test/ts-register.mjs) reads a compressed fixture through workers and then
// returns from its script, with and without closing the dataset; it must exit by itself.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FORMATS_DIR, formatsManifest, tempDir } from "@arraystore/conformance";
import { describe, expect, it } from "vitest";
import { runChild } from "./child.js";

const SRC = fileURLToPath(new URL("../src/index.ts", import.meta.url));
const POOL = fileURLToPath(new URL("../src/read-pool.ts", import.meta.url));

const CHILD = `
const { hdf5Adapter } = await import(process.env.ARRAYSTORE_SRC);
const { readPoolStats } = await import(process.env.ARRAYSTORE_POOL);
const d = await hdf5Adapter.open(process.env.FILE, {
	mode: "r", path: process.env.DATASET, adapterOptions: { readWorkers: 2, directChunks: false },
});
const { shape, dtype } = d.info;
const out = new Uint8Array(shape.reduce((a, b) => a * b, 1) * dtype.itemsize);
await d.read({ start: shape.map(() => 0), shape }, out);
if (process.env.CLOSE === "1") await d.close();
process.stdout.write(JSON.stringify(readPoolStats()) + "\\n");
`;

describe("hdf5: read workers and process exit", () => {
	const fixture = formatsManifest().arrays.find(
		(a) =>
			a.format === "hdf5" &&
			a.id.includes("gzip") &&
			a.chunks !== null &&
			a.shape.reduce((x, y) => x * y, 1) >=
				4 * a.chunks.reduce((x, y) => x * y, 1),
	);
	for (const close of [true, false]) {
		it(`exits by itself after a parallel read ${close ? "and close" : "without close"}`, async () => {
			expect(fixture).toBeDefined();
			if (!fixture) return;
			await using tmp = await tempDir();
			const script = join(tmp.path, "child.mjs");
			writeFileSync(script, CHILD);
			const r = await runChild(
				script,
				{
					ARRAYSTORE_SRC: SRC,
					ARRAYSTORE_POOL: POOL,
					FILE: join(FORMATS_DIR, fixture.file),
					DATASET: fixture.dataset ?? "",
					CLOSE: close ? "1" : "0",
				},
				60_000,
			);
			expect(r.timedOut).toBe(false);
			expect(r.code).toBe(0);
			const stats = JSON.parse(r.out.trim()) as {
				started: number;
				reads: number;
			};
			expect(stats.started).toBe(2);
			expect(stats.reads).toBeGreaterThan(1);
		});
	}
});
