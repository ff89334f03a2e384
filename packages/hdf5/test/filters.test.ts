// Filters: the HDF5 built-ins h5py writes (szip, scale-offset, fletcher32, gzip +
// shuffle) read as h5py reads them; plugin filters (lzf, zstd, blosc, bz2, lz4) written by us
// and read back; a filter that is not available is refused by name before any data is read.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { python, skipNote, tempDir } from "@arraystore/conformance";
import { isArrayStoreError, parseDType } from "@arraystore/core";
import { describe, expect, it } from "vitest";
import { hdf5Adapter } from "../src/index.js";
import { createOpts, openDriver, readAll } from "./helpers.js";

const sha = (b: Uint8Array): string =>
	createHash("sha256").update(b).digest("hex");

const MAKE = `
import h5py, numpy as np, hashlib
from h5py import h5z
out = {}
rng = np.random.default_rng(5)
with h5py.File(INPUT["file"], "w", libver="earliest") as f:
    ints = (np.arange(40 * 30, dtype="<i4").reshape(40, 30) * 3) % 1000
    floats = rng.normal(size=(40, 30)).astype("<f4")
    if h5z.filter_avail(h5z.FILTER_SZIP):
        f.create_dataset("szip", data=ints, chunks=(8, 10), compression="szip")
    f.create_dataset("scaleoffset_int", data=ints, chunks=(8, 10), scaleoffset=0)
    f.create_dataset("scaleoffset_float", data=floats, chunks=(8, 10), scaleoffset=3)
    f.create_dataset("gzip_shuffle_fletcher", data=floats, chunks=(8, 10), compression="gzip", shuffle=True, fletcher32=True)
    f.create_dataset("big_endian_gzip", data=ints.astype(">i4"), chunks=(8, 10), compression="gzip")
    f.create_dataset("unknown_filter", data=ints, chunks=(8, 10), compression=32017, compression_opts=(1, 2), allow_unknown_filter=True)
with h5py.File(INPUT["file"], "r") as f:
    for k in f:
        if k == "unknown_filter":
            continue
        a = f[k][()]
        out[k] = {"sha": hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest(), "dtype": f[k].dtype.str}
print(json.dumps(out))
`;

describe.skipIf(!python.has("h5py"))(
	"hdf5: built-in filters written by h5py",
	() => {
		if (!python.has("h5py")) skipNote("hdf5 filters", python.missing("h5py"));
		it("reads szip, scale-offset, fletcher32 and gzip+shuffle as h5py does; refuses an unavailable filter by name", async () => {
			await using tmp = await tempDir();
			const file = join(tmp.path, "filters.h5");
			const expected = python.run<
				Record<string, { sha: string; dtype: string }>
			>(MAKE, { file });
			expect(Object.keys(expected)).toEqual(
				expect.arrayContaining([
					"scaleoffset_int",
					"scaleoffset_float",
					"gzip_shuffle_fletcher",
					"big_endian_gzip",
				]),
			);
			if (!("szip" in expected))
				skipNote("hdf5 szip read", "this h5py has no szip encoder");
			for (const [name, e] of Object.entries(expected)) {
				const d = await openDriver(file, `/${name}`);
				try {
					expect({ name, dtype: d.info.dtype.str }).toEqual({
						name,
						dtype: e.dtype,
					});
					expect({ name, sha: sha(await readAll(d)) }).toEqual({
						name,
						sha: e.sha,
					});
				} finally {
					await d.close();
				}
			}
			const d = await openDriver(file, "/unknown_filter");
			try {
				expect(d.info.codecs[0]?.name).toBe("filter-32017");
				const err = await readAll(d).catch((e: unknown) => e);
				expect(isArrayStoreError(err, "UNSUPPORTED_CODEC")).toBe(true);
				expect((err as { codec: string }).codec).toBe("filter-32017");
				expect(String(err)).toMatch(/32017/);
			} finally {
				await d.close();
			}
		});
	},
);

describe("hdf5: plugin filters we write", () => {
	const codecs: {
		name: string;
		codecs: { name: string; config?: Record<string, unknown> }[];
		ids: number[];
	}[] = [
		{ name: "lzf", codecs: [{ name: "lzf" }], ids: [32000] },
		{
			name: "zstd",
			codecs: [{ name: "zstd", config: { level: 5 } }],
			ids: [32015],
		},
		{
			name: "shuffle_zstd",
			codecs: [{ name: "shuffle" }, { name: "zstd" }],
			ids: [2, 32015],
		},
		{
			name: "blosc",
			codecs: [
				{ name: "blosc", config: { cname: "zstd", clevel: 5, shuffle: 1 } },
			],
			ids: [32001],
		},
		{ name: "bz2", codecs: [{ name: "bz2" }], ids: [307] },
		{ name: "lz4", codecs: [{ name: "lz4" }], ids: [32004] },
	];
	it("writes each codec and reads the same values back; h5py sees the filter pipeline", async () => {
		await using tmp = await tempDir();
		const file = join(tmp.path, "plugins.h5");
		const values = new Int32Array(60 * 50).map((_, i) => (i * 7919) % 5000);
		const bytes = new Uint8Array(values.buffer);
		for (const c of codecs) {
			const d = await hdf5Adapter.create?.(
				file,
				createOpts(`/${c.name}`, parseDType("<i4"), [60, 50], {
					chunks: [16, 25],
					codecs: c.codecs,
				}),
			);
			if (!d) throw new Error("no create");
			await d.write?.({ start: [0, 0], shape: [60, 50] }, bytes);
			await d.close();
		}
		for (const c of codecs) {
			const d = await openDriver(file, `/${c.name}`);
			try {
				expect({ name: c.name, sha: sha(await readAll(d)) }).toEqual({
					name: c.name,
					sha: sha(bytes),
				});
			} finally {
				await d.close();
			}
		}
		if (!python.has("h5py"))
			return skipNote("hdf5 plugin pipelines", python.missing("h5py"));
		const ids = python.run<Record<string, number[]>>(
			`import h5py\nwith h5py.File(INPUT, "r") as f:\n    print(json.dumps({k: [f[k].id.get_create_plist().get_filter(i)[0] for i in range(f[k].id.get_create_plist().get_nfilters())] for k in f}))`,
			file,
		);
		for (const c of codecs)
			expect({ name: c.name, ids: ids[c.name] }).toEqual({
				name: c.name,
				ids: c.ids,
			});
		// lzf is h5py's own filter: h5py decodes it without plugins.
		const lzf = python.run<string>(
			`import h5py, hashlib, numpy as np\nwith h5py.File(INPUT, "r") as f:\n    print(json.dumps(hashlib.sha256(np.ascontiguousarray(f["lzf"][()]).tobytes()).hexdigest()))`,
			file,
		);
		expect(lzf).toBe(sha(bytes));
	});
	it("refuses codecs it cannot write before creating anything", async () => {
		await using tmp = await tempDir();
		const file = join(tmp.path, "bad.h5");
		const err = await hdf5Adapter
			.create?.(
				file,
				createOpts("/x", parseDType("<i4"), [10], {
					chunks: [5],
					codecs: [{ name: "jpeg2000" }],
				}),
			)
			.catch((e: unknown) => e);
		expect(isArrayStoreError(err, "UNSUPPORTED_CODEC")).toBe(true);
		expect(existsSync(file)).toBe(false);
	});
});
