/**
 * The conversion pairs: for each, our converter's flags and the Python peers that do the same
 * job on the same input. Edit the converter flags here when the CLI's spelling changes.
 *
 * Layout shared by every format (generate.py): 2-d C-order `<f4`, 4096 columns, HDF5/Zarr
 * chunks 256×1024 (1 MiB), Zarr v3 shards 512×4096 (8 MiB) of those chunks.
 */

/**
 * @typedef {object} PairContext
 * @property {Record<string, string>} files generated inputs by format id
 * @property {readonly number[]} shape
 * @property {readonly number[]} chunks
 * @property {readonly number[]} shards
 */

/**
 * @typedef {object} Peer
 * @property {string} name how the table names it
 * @property {(c: PairContext, src: string, out: string) => string[]} argv script in python/ and its arguments
 */

/**
 * @typedef {object} Pair
 * @property {string} id
 * @property {string} title
 * @property {string} source format id of the input (generate.py)
 * @property {string} ext output file or directory suffix
 * @property {boolean} uncompressed target: ≥ 0.8× cp; otherwise ≥ 1.0× (aim 1.5×) best peer
 * @property {(c: PairContext) => string[]} ours converter flags (after SRC DST)
 * @property {readonly Peer[]} peers
 * @property {boolean} scaling part of --scaling
 */

const list = (xs) => xs.join(",");
const layout = (c) => [
	"--shape",
	list(c.shape),
	"--chunks",
	list(c.chunks),
	"--shards",
	list(c.shards),
];
const tsWrite = (source, target) => (c, src, out) => [
	"peer_ts_write.py",
	src,
	out,
	"--source",
	source,
	"--target",
	target,
	...layout(c),
];

/** @type {readonly Pair[]} */
export const PAIRS = [
	{
		id: "dat-npy",
		title: "dat → npy",
		source: "dat",
		ext: ".npy",
		uncompressed: true,
		// The layout comes from the sidecar data.dat.json.
		ours: () => [],
		peers: [
			{
				name: "numpy.memmap block copy",
				argv: (c, src, out) => ["peer_memmap_copy.py", src, out, ...layout(c)],
			},
		],
		scaling: true,
	},
	{
		id: "npy-h5",
		title: "npy → HDF5 (chunked, gzip 1 + shuffle)",
		source: "npy",
		ext: ".h5",
		uncompressed: false,
		ours: (c) => ["--chunks", list(c.chunks), "--codec", "shuffle,gzip:1"],
		peers: [
			{
				name: "h5py",
				argv: (c, src, out) => ["peer_h5py_write.py", src, out, ...layout(c)],
			},
		],
		scaling: false,
	},
	{
		id: "h5-zarr3",
		title: "HDF5 → Zarr v3 (zstd 1)",
		source: "h5",
		ext: ".zarr",
		uncompressed: false,
		ours: (c) => [
			"--dataset",
			"/data",
			"--chunks",
			list(c.chunks),
			"--codec",
			"zstd:1",
			"--zarr-version",
			"3",
		],
		peers: [{ name: "h5py + tensorstore", argv: tsWrite("h5", "zarr3") }],
		scaling: true,
	},
	{
		id: "h5-zarr2",
		title: "HDF5 → Zarr v2 (blosc lz4 + shuffle)",
		source: "h5",
		ext: ".zarr",
		uncompressed: false,
		ours: (c) => [
			"--dataset",
			"/data",
			"--chunks",
			list(c.chunks),
			"--codec",
			"blosc:lz4:5:shuffle",
			"--zarr-version",
			"2",
		],
		peers: [{ name: "h5py + tensorstore", argv: tsWrite("h5", "zarr2") }],
		scaling: false,
	},
	{
		id: "zarr3-npy",
		title: "Zarr v3 (zstd 1) → npy",
		source: "zarr3",
		ext: ".npy",
		uncompressed: false,
		ours: () => [],
		peers: [
			{
				name: "tensorstore",
				argv: (_c, src, out) => ["peer_ts_read.py", src, out],
			},
		],
		scaling: false,
	},
	{
		id: "mmp-zarr3",
		title: "mmappickle → Zarr v3 (zstd 1)",
		source: "mmp",
		ext: ".zarr",
		uncompressed: false,
		ours: (c) => [
			"--dataset",
			"data",
			"--chunks",
			list(c.chunks),
			"--codec",
			"zstd:1",
			"--zarr-version",
			"3",
		],
		peers: [
			// mmappickle itself is not installable here; this is what it does on read.
			{
				name: "memmap at entry offset + tensorstore",
				argv: tsWrite("mmp-memmap", "zarr3"),
			},
			{
				name: "pickle.load + tensorstore",
				argv: tsWrite("mmp-pickle", "zarr3"),
			},
		],
		scaling: false,
	},
	{
		id: "npy-zarr3s",
		title: "npy → Zarr v3 sharded (zstd 1)",
		source: "npy",
		ext: ".zarr",
		uncompressed: false,
		ours: (c) => [
			"--chunks",
			list(c.chunks),
			"--shards",
			list(c.shards),
			"--codec",
			"zstd:1",
			"--zarr-version",
			"3",
		],
		peers: [{ name: "tensorstore", argv: tsWrite("npy", "zarr3s") }],
		scaling: true,
	},
];
