/**
 * Random slab reads per format: our adapters (src/read-slabs.mjs) against numpy.memmap, h5py
 * and tensorstore (python/read_slabs.py), each run in its own process, the same slabs in the
 * same order. The time compared is the read loop only (after open), as measured inside each
 * reader; process wall time and peak RSS come from measure.py.
 */
import { join } from "node:path";
import { PYTHON_DIR, READ_SLABS } from "./paths.mjs";
import { errorLine, lastJson, measure, median, warm } from "./run.mjs";

/**
 * @typedef {object} SlabFormat
 * @property {string} id
 * @property {string} title
 * @property {string} source format id of the generated input
 * @property {string} [inner] array path inside a container, for our reader
 * @property {string} peer peer name
 * @property {string} kind read_slabs.py reader kind
 */

/** @type {readonly SlabFormat[]} */
export const SLAB_FORMATS = [
	{
		id: "dat",
		title: "raw .dat",
		source: "dat",
		peer: "numpy.memmap",
		kind: "memmap",
	},
	{
		id: "npy",
		title: ".npy",
		source: "npy",
		peer: "numpy.load(mmap_mode='r')",
		kind: "npy",
	},
	{
		id: "mmp",
		title: "mmappickle",
		source: "mmp",
		inner: "data",
		peer: "numpy.memmap at entry offset (as mmappickle)",
		kind: "mmp",
	},
	{
		id: "h5",
		title: "HDF5 gzip 1 + shuffle",
		source: "h5",
		inner: "/data",
		peer: "h5py",
		kind: "h5",
	},
	{
		id: "zarr3",
		title: "Zarr v3 zstd 1",
		source: "zarr3",
		peer: "tensorstore",
		kind: "zarr3",
	},
	{
		id: "zarr2",
		title: "Zarr v2 blosc lz4 + shuffle",
		source: "zarr2",
		peer: "tensorstore",
		kind: "zarr",
	},
	{
		id: "zarr3s",
		title: "Zarr v3 sharded zstd 1",
		source: "zarr3s",
		peer: "tensorstore",
		kind: "zarr3",
	},
];

/**
 * @param {SlabFormat} f
 * @param {{ python: string, runs: number, files: Record<string, string>, slabsPath: string, log: (s: string) => void }} ctx
 */
export async function benchSlabs(f, ctx) {
	const src = ctx.files[f.source];
	const tools = [
		{
			tool: "ours",
			name: "arraystore",
			argv: [
				process.execPath,
				READ_SLABS,
				src,
				ctx.slabsPath,
				...(f.inner ? [f.inner] : []),
			],
			python: false,
		},
		{
			tool: "peer",
			name: f.peer,
			argv: [
				ctx.python,
				join(PYTHON_DIR, "read_slabs.py"),
				f.kind,
				src,
				ctx.slabsPath,
			],
			python: true,
		},
	];
	const results = tools.map((t) => ({
		...t,
		samples: [],
		error: null,
		checksum: null,
	}));
	for (let run = 0; run < ctx.runs; run++) {
		// The first reader after the file was read in pays for mapping its page cache (large
		// folios split and mapped); alternating who goes first keeps that off one side.
		await warm(src);
		const order = run % 2 === 0 ? results : [...results].reverse();
		for (const r of order) {
			if (r.error) continue;
			const s = await measure(ctx.python, r.argv, {
				python: r.python,
				cwd: PYTHON_DIR,
			});
			if (s.rc !== 0) {
				r.error = `exit ${s.rc}: ${errorLine(s.stderr)}`;
				ctx.log(`  [slabs ${f.id}] ${r.tool} FAILED ${r.error}`);
				continue;
			}
			const inner = lastJson(s.stdout);
			r.samples.push({
				...s,
				stdout: undefined,
				stderr: undefined,
				loop: inner.seconds,
				open: inner.openSeconds ?? null,
			});
			r.checksum = inner.checksum;
			ctx.log(
				`  [slabs ${f.id}] ${r.tool} run ${run + 1}/${ctx.runs}: loop ${inner.seconds.toFixed(3)} s, process ${s.wall.toFixed(2)} s, ${(s.maxrssBytes / 1e6).toFixed(0)} MB`,
			);
		}
	}
	const summary = results.map((r) => ({
		tool: r.tool,
		name: r.name,
		error: r.error,
		checksum: r.checksum,
		loopSeconds: r.samples.length ? median(r.samples.map((s) => s.loop)) : null,
		wallSeconds: r.samples.length ? median(r.samples.map((s) => s.wall)) : null,
		peakRssBytes: r.samples.length
			? Math.max(...r.samples.map((s) => s.maxrssBytes))
			: null,
		samples: r.samples,
	}));
	const [ours, peer] = summary;
	return {
		id: f.id,
		title: f.title,
		ours,
		peer,
		checksumsMatch: ours.checksum !== null && ours.checksum === peer.checksum,
		// Speed ratio: > 1 means our read loop is faster.
		ratio:
			ours.loopSeconds && peer.loopSeconds
				? peer.loopSeconds / ours.loopSeconds
				: null,
	};
}
