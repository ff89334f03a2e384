/**
 * Our side of the random slab reads, run as its own process:
 *   node read-slabs.mjs TARGET SLABS.json [INNER_PATH]
 * Opens TARGET read-only through our adapters (format detected; INNER_PATH picks the array in a
 * container: "/data" in HDF5, "data" in mmappickle), then reads every slab of SLABS.json one
 * after the other with `store.read`, as python/read_slabs.py does with numpy, h5py and
 * tensorstore. Prints {"seconds" (read loop only), "openSeconds", "count", "checksum"}; the
 * checksum is the sum of the slabs' uint32 bit patterns mod 2^32, as the Python readers compute.
 */
import { readFile } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import { createBenchRegistry } from "./adapters.mjs";

const [target, slabsPath, inner] = process.argv.slice(2);
if (!target || !slabsPath) {
	process.stderr.write(
		"usage: node read-slabs.mjs TARGET SLABS.json [INNER_PATH]\n",
	);
	process.exit(2);
}
const spec = JSON.parse(await readFile(slabsPath, "utf8"));
const [h, w] = spec.slab;
const t0 = performance.now();
const { registry } = await createBenchRegistry();
const store = await registry.open(target, {
	mode: "r",
	...(inner ? { path: inner } : {}),
});
const t1 = performance.now();
let checksum = 0;
for (const [r, c] of spec.starts) {
	const block = await store.read([
		{ start: r, stop: r + h },
		{ start: c, stop: c + w },
	]);
	const u = new Uint32Array(
		block.bytes.buffer,
		block.bytes.byteOffset,
		block.bytes.byteLength >>> 2,
	);
	for (let i = 0; i < u.length; i++) checksum = (checksum + u[i]) >>> 0;
}
const seconds = (performance.now() - t1) / 1000;
await store.close();
process.stdout.write(
	`${JSON.stringify({ seconds, openSeconds: (t1 - t0) / 1000, count: spec.starts.length, checksum })}\n`,
);
