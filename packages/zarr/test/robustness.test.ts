import { cp, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { FORMATS_DIR, rng, tempDir } from "@arraystore/conformance";
import { isArrayStoreError } from "@arraystore/core";
import { describe, expect, it } from "vitest";
import { openZarr } from "./helpers.js";

const STORES = [
	"zarr2/blosc_lz4_shuffle.zarr",
	"zarr2/zstd.zarr",
	"zarr2/gzip.zarr",
	"zarr3/sharding.zarr",
	"zarr3/sharding_index_start.zarr",
	"zarr3/crc32c.zarr",
	"zarr3/ts_transpose_blosc.zarr",
	"zarr3/zstd.zarr",
];

async function files(dir: string, prefix = ""): Promise<string[]> {
	const out: string[] = [];
	for (const e of await readdir(join(dir, prefix), { withFileTypes: true })) {
		const rel = prefix ? `${prefix}/${e.name}` : e.name;
		if (e.isDirectory()) out.push(...(await files(dir, rel)));
		else out.push(rel);
	}
	return out;
}

describe("zarr: robustness", () => {
	it("answers bit-flipped and truncated stores with a value or a typed error", async () => {
		await using tmp = await tempDir();
		const next = rng(42);
		let typed = 0;
		let values = 0;
		for (const [s, src] of STORES.entries()) {
			for (let trial = 0; trial < 12; trial++) {
				const root = tmp.join(`${s}-${trial}.zarr`);
				await cp(join(FORMATS_DIR, src), root, { recursive: true });
				const all = await files(root);
				const victim = join(
					root,
					all[Math.floor(next() * all.length)] as string,
				);
				const bytes = await readFile(victim);
				if (bytes.length === 0) continue;
				if (trial % 3 === 0)
					await writeFile(
						victim,
						bytes.subarray(0, Math.floor(next() * bytes.length)),
					);
				else {
					for (let k = 0; k < 1 + (trial % 4); k++) {
						const at = Math.floor(next() * bytes.length);
						bytes.writeUInt8(
							((bytes[at] ?? 0) ^ (1 << Math.floor(next() * 8))) & 255,
							at,
						);
					}
					await writeFile(victim, bytes);
				}
				expect((await stat(victim)).isFile()).toBe(true);
				try {
					await using a = await openZarr(root);
					await a.read();
					values++;
				} catch (err) {
					expect(
						isArrayStoreError(err),
						`${src} trial ${trial}: ${String(err)}`,
					).toBe(true);
					typed++;
				}
			}
		}
		expect(typed).toBeGreaterThan(0);
		expect(typed + values).toBeGreaterThan(80);
	});
});
