/** The benchmark data: one float32 array generated once per run in every input format needed. */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runPythonJson } from "./run.mjs";

/** Columns of the benchmark array (rows follow from --size). */
export const COLS = 4096;
/** HDF5 and Zarr chunk shape (1 MiB of float32). */
export const CHUNKS = [256, 1024];
/** Zarr v3 shard shape (8 MiB, 8 chunks): our converter holds whole shards in memory (about 11 live copies), so 16 MiB shards already exceed its default 256 MiB budget. */
export const SHARDS = [512, 4096];
const ITEMSIZE = 4;

/** Shape for about `bytes` of float32 (rounded down to whole rows). */
export function shapeFor(bytes) {
	const rows = Math.floor(bytes / (COLS * ITEMSIZE));
	if (rows < 1) throw new Error(`--size must be at least ${COLS * ITEMSIZE} B`);
	return [rows, COLS];
}

/**
 * @typedef {object} Dataset
 * @property {number[]} shape
 * @property {number} bytes array bytes (uncompressed)
 * @property {string} sha256 of the C-order little-endian bytes
 * @property {Record<string, string>} files path by format id
 * @property {Record<string, number>} onDisk bytes on disk by format id
 * @property {Record<string, number>} seconds generation time by format id
 */

/**
 * Runs python/generate.py for `formats` (dat always) into `dir`.
 * @param {{ python: string, dir: string, bytes: number, formats: Iterable<string> }} o
 * @returns {Promise<Dataset>}
 */
export async function generate(o) {
	const shape = shapeFor(o.bytes);
	const formats = [...new Set(["dat", ...o.formats])];
	const r = await runPythonJson(o.python, "generate.py", [
		"--dir",
		o.dir,
		"--shape",
		shape.join(","),
		"--chunks",
		CHUNKS.join(","),
		"--shards",
		SHARDS.join(","),
		"--formats",
		formats.join(","),
	]);
	const files = {};
	const onDisk = {};
	const seconds = {};
	for (const [fmt, f] of Object.entries(r.files)) {
		files[fmt] = f.path;
		onDisk[fmt] = f.bytes;
		seconds[fmt] = f.seconds;
	}
	return {
		shape,
		bytes: shape[0] * shape[1] * ITEMSIZE,
		sha256: r.sha256,
		files,
		onDisk,
		seconds,
	};
}

/**
 * Writes `count` random slab origins (seeded, the same for every reader) to `path`, and
 * `warmup` more that every reader reads first, untimed (JIT tiers, caches and lazily loaded
 * code settle; other positions than the timed ones, so no page or chunk is pre-read for them).
 * Slabs are 64×256 float32 (64 KiB): inside one or a few 256×1024 chunks.
 * @returns {Promise<{ slab: number[], count: number }>}
 */
export async function writeSlabs(
	path,
	shape,
	count,
	seed = 20260527,
	warmup = Math.min(200, count),
) {
	const slab = [Math.min(64, shape[0]), Math.min(256, shape[1])];
	let s = seed >>> 0;
	// mulberry32: tiny, seeded, good enough for picking positions.
	const rand = () => {
		s = (s + 0x6d2b79f5) >>> 0;
		let t = s;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
	const pick = (n) =>
		Array.from({ length: n }, () => [
			Math.floor(rand() * (shape[0] - slab[0] + 1)),
			Math.floor(rand() * (shape[1] - slab[1] + 1)),
		]);
	const starts = pick(count);
	const warm = pick(warmup);
	await writeFile(path, JSON.stringify({ shape, slab, starts, warmup: warm }));
	return { slab, count };
}

/** Joins a data directory and a name. */
export function inDir(dir, name) {
	return join(dir, name);
}
