/**
 * Our side of the random slab reads, run as its own process:
 *   node read-slabs.mjs TARGET SLABS.json [INNER_PATH]
 * Opens TARGET read-only through our adapters (format detected; INNER_PATH picks the array in a
 * container: "/data" in HDF5, "data" in mmappickle), then reads every slab of SLABS.json one
 * after the other with `store.read`, as python/read_slabs.py does with numpy, h5py and
 * tensorstore, after the untimed warm-up slabs, into one reused output buffer. Prints {"seconds" (the read calls only),
 * "openSeconds", "count", "checksum"}; the
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
// One output buffer for every slab (`read(…, { out })`): JS frees memory only when the
// collector runs, so a fresh 64 KiB array per slab would touch new pages each time, while
// numpy's refcounting hands the previous slab's memory straight back to malloc.
let out;
const slab = async (r, c) => {
	const sel = [
		{ start: r, stop: r + h },
		{ start: c, stop: c + w },
	];
	out = await store.read(sel, out ? { out } : undefined);
	return out;
};
for (const [r, c] of spec.warmup ?? []) await slab(r, c);
// Only the reads are timed (as in read_slabs.py); the checksum is for comparing the data.
let checksum = 0;
let reading = 0;
for (const [r, c] of spec.starts) {
	const t = performance.now();
	const block = await slab(r, c);
	reading += performance.now() - t;
	checksum = (checksum + sum32(block.bytes)) >>> 0;
}
const seconds = reading / 1000;
await store.close();

function sum32(bytes) {
	const u = new Uint32Array(
		bytes.buffer,
		bytes.byteOffset,
		bytes.byteLength >>> 2,
	);
	let s = 0;
	for (let i = 0; i < u.length; i++) s = (s + u[i]) >>> 0;
	return s;
}
process.stdout.write(
	`${JSON.stringify({ seconds, openSeconds: (t1 - t0) / 1000, count: spec.starts.length, checksum })}\n`,
);
