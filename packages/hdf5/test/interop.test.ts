// Files we write, read back by h5py (numpy 2 / HDF5 2.0 and Debian's h5py 3.7 / HDF5 1.10):
// every dtype, layout and filter we write must come back with identical values, fill values,
// filters and attributes. Expected values are our inputs, judged by h5py.
import { createHash } from "node:crypto";
import { join } from "node:path";
import {
	type Python,
	python,
	pythonLegacy,
	skipNote,
	tempDir,
} from "@arraystore/conformance";
import {
	type DType,
	isVString,
	parseDType,
	vstringDType,
	withByteOrder,
} from "@arraystore/core";
import { describe, expect, it } from "vitest";
import { hdf5Adapter } from "../src/index.js";
import { createOpts, readAll, readAllStrings } from "./helpers.js";

interface Case {
	readonly name: string;
	readonly dtype: DType;
	readonly shape: number[];
	readonly chunks?: number[];
	readonly codecs?: { name: string; config?: Record<string, unknown> }[];
	readonly fill?: unknown;
	readonly maxshape?: (number | null)[];
}

const STRUCT = parseDType([
	["a", "<i4"],
	["b", "<f8", [2]],
	["c", "|S3"],
	["d", "|b1"],
	["e", "<f2"],
]);
const DTYPES = [
	"|b1",
	"|i1",
	"<i2",
	"<i4",
	"<i8",
	"|u1",
	"<u2",
	"<u4",
	"<u8",
	"<f2",
	"<f4",
	"<f8",
	"<c8",
	"<c16",
	"|S5",
	"<M8[ns]",
	"<m8[s]",
	"|V6",
	">f8",
	">i4",
	">c16",
];

function cases(): Case[] {
	const out: Case[] = [];
	for (const s of DTYPES) {
		const dtype = parseDType(s);
		const base = s.replace(/[<>|[\]]/g, "");
		out.push({
			name: `contig_${base}${s[0] === ">" ? "_be" : ""}`,
			dtype,
			shape: [7, 5],
		});
		out.push({
			name: `chunk_${base}${s[0] === ">" ? "_be" : ""}`,
			dtype,
			shape: [9, 4],
			chunks: [4, 3],
		});
	}
	out.push({ name: "struct_contig", dtype: STRUCT, shape: [6] });
	out.push({
		name: "struct_chunk_gzip",
		dtype: STRUCT,
		shape: [10],
		chunks: [4],
		codecs: [{ name: "gzip", config: { level: 3 } }],
	});
	out.push({ name: "scalar_f8", dtype: parseDType("<f8"), shape: [] });
	out.push({ name: "scalar_f2", dtype: parseDType("<f2"), shape: [] });
	out.push({ name: "empty", dtype: parseDType("<f4"), shape: [0, 3] });
	out.push({
		name: "gzip",
		dtype: parseDType("<i4"),
		shape: [50, 40],
		chunks: [16, 16],
		codecs: [{ name: "gzip", config: { level: 5 } }],
	});
	out.push({
		name: "shuffle_gzip",
		dtype: parseDType("<f4"),
		shape: [50, 40],
		chunks: [16, 16],
		codecs: [{ name: "shuffle" }, { name: "gzip", config: { level: 4 } }],
	});
	out.push({
		name: "shuffle_gzip_fletcher",
		dtype: parseDType("<u2"),
		shape: [33, 17],
		chunks: [8, 8],
		codecs: [{ name: "shuffle" }, { name: "gzip" }, { name: "fletcher32" }],
	});
	out.push({
		name: "fletcher",
		dtype: parseDType("<f8"),
		shape: [20],
		chunks: [7],
		codecs: [{ name: "fletcher32" }],
	});
	out.push({
		name: "lzf",
		dtype: parseDType("<f4"),
		shape: [30, 30],
		chunks: [10, 10],
		codecs: [{ name: "lzf" }],
	});
	out.push({
		name: "shuffle_lzf",
		dtype: parseDType("<i8"),
		shape: [30, 30],
		chunks: [10, 10],
		codecs: [{ name: "shuffle" }, { name: "lzf" }],
	});
	out.push({
		name: "fill_f4",
		dtype: parseDType("<f4"),
		shape: [10, 10],
		chunks: [5, 5],
		fill: -999,
	});
	out.push({
		name: "fill_c16_contig",
		dtype: parseDType("<c16"),
		shape: [4],
		fill: [1, -2],
	});
	out.push({
		name: "fill_i2_gzip_shuffle",
		dtype: parseDType("<i2"),
		shape: [12],
		chunks: [4],
		fill: 7,
		codecs: [{ name: "shuffle" }, { name: "gzip" }],
	});
	out.push({
		name: "resizable",
		dtype: parseDType("<i4"),
		shape: [10, 3],
		chunks: [4, 3],
		maxshape: [null, 3],
	});
	out.push({ name: "vlen", dtype: vstringDType(), shape: [5] });
	return out;
}

function valueBytes(dtype: DType, n: number, seed: number): Uint8Array {
	const out = new Uint8Array(n * dtype.itemsize);
	let x = seed * 2654435761;
	for (let i = 0; i < out.length; i++) {
		x = (x * 1103515245 + 12345) >>> 0;
		out[i] = x >>> 16;
	}
	// Keep bools 0/1 (inside records too) and floats finite, so values compare as values.
	fix(dtype, out, n);
	return out;
}

function fix(
	dtype: DType,
	b: Uint8Array,
	n: number,
	base = 0,
	stride = dtype.itemsize,
): void {
	if (dtype.fields) {
		for (const f of dtype.fields)
			fix(
				f.dtype.subarray ? f.dtype.subarray.base : f.dtype,
				b,
				n *
					(f.dtype.subarray
						? f.dtype.itemsize / f.dtype.subarray.base.itemsize
						: 1),
				base + f.offset,
				f.dtype.subarray ? 0 : stride,
			);
		return;
	}
	for (let i = 0; i < n; i++) {
		const at = stride === 0 ? base + i * dtype.itemsize : base + i * stride;
		if (dtype.kind === "b") b[at] = (b[at] as number) & 1;
		if (dtype.kind === "f" || dtype.kind === "c") {
			const w = dtype.kind === "c" ? dtype.itemsize / 2 : dtype.itemsize;
			for (let p = 0; p < dtype.itemsize; p += w) {
				const hi = dtype.byteOrder === ">" ? at + p : at + p + w - 1;
				b[hi] = (b[hi] as number) & 0x3f; // clear sign and top exponent bit: finite
			}
		}
	}
}

const PY_READ = `
import h5py, numpy as np, hashlib
out = {}
with h5py.File(INPUT["file"], "r") as f:
    for name in INPUT["names"]:
        d = f[name]
        arr = d[()]
        entry = {"shape": list(d.shape), "chunks": list(d.chunks) if d.chunks else None, "maxshape": [m for m in d.maxshape] if d.maxshape else None}
        if h5py.check_string_dtype(d.dtype) is not None and h5py.check_string_dtype(d.dtype).length is None:
            vals = [s.decode("utf-8") if isinstance(s, bytes) else s for s in np.asarray(arr, dtype=object).ravel()]
            entry["strings"] = vals
            entry["dtype"] = "|O"
        else:
            entry["dtype"] = d.dtype.str if d.dtype.names is None else str(d.dtype.descr)
            entry["sha"] = hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest()
        pl = d.id.get_create_plist()
        entry["filters"] = [pl.get_filter(i)[0] for i in range(pl.get_nfilters())]
        # d.fillvalue segfaults in h5py 3.7 for variable-length strings (its own files too).
        entry["fill"] = hashlib.sha256(np.asarray(d.fillvalue, dtype=d.dtype).tobytes()).hexdigest() if entry["dtype"] != "|O" else None
        attrs = {}
        for k, v in d.attrs.items():
            aid = d.attrs.get_id(k)
            attrs[k] = {"dtype": aid.dtype.str, "shape": list(aid.shape) if aid.shape is not None else None, "repr": repr(v.tolist() if hasattr(v, "tolist") else v)}
        entry["attrs"] = attrs
        out[name] = entry
print(json.dumps(out))
`;

function sha(b: Uint8Array): string {
	return createHash("sha256").update(b).digest("hex");
}

async function writeCases(
	file: string,
	all: Case[],
): Promise<
	Map<string, { bytes?: Uint8Array; strings?: string[]; fill?: Uint8Array }>
> {
	const expected = new Map<
		string,
		{ bytes?: Uint8Array; strings?: string[]; fill?: Uint8Array }
	>();
	let seed = 1;
	for (const c of all) {
		const d = await hdf5Adapter.create?.(
			file,
			createOpts(`/${c.name}`, c.dtype, c.shape, {
				...(c.chunks ? { chunks: c.chunks } : {}),
				...(c.codecs ? { codecs: c.codecs } : {}),
				...(c.fill !== undefined ? { fillValue: c.fill as never } : {}),
				...(c.maxshape ? { maxshape: c.maxshape } : {}),
				attrs: {
					units: "m",
					scale: 0.5,
					n: 3,
					flags: [true, false],
					none: null,
				},
			}),
		);
		if (!d) throw new Error("no create");
		const shape = c.shape;
		const n = shape.reduce((a, b) => a * b, 1);
		if (isVString(c.dtype)) {
			const strings = Array.from(
				{ length: n },
				(_, i) => `s${i}-${"é".repeat(i)}`,
			);
			await d.writeStrings?.({ start: [2], shape: [3] }, strings.slice(2));
			await d.writeStrings?.({ start: [0], shape: [2] }, strings.slice(0, 2));
			expected.set(c.name, { strings });
		} else if (c.name.startsWith("fill")) {
			// Write only the first row/chunk: the rest must read as the fill value.
			const rowShape = shape.length > 1 ? [1, ...shape.slice(1)] : [1];
			const nrow = rowShape.reduce((a, b) => a * b, 1);
			const bytes = valueBytes(d.info.dtype, nrow, seed++);
			await d.write?.({ start: shape.map(() => 0), shape: rowShape }, bytes);
			const fill = (await import("../src/fill-value.js")).encodeScalar(
				d.info.dtype,
				c.fill as never,
			);
			const whole = new Uint8Array(n * d.info.dtype.itemsize);
			for (let i = 0; i < n; i++) whole.set(fill, i * d.info.dtype.itemsize);
			whole.set(bytes, 0);
			expected.set(c.name, { bytes: whole, fill });
		} else {
			// Stored little-endian: the driver takes bytes in its stored order.
			expect(
				d.info.dtype.byteOrder === ">" ||
					(d.info.dtype.fields?.some((f) => f.dtype.byteOrder === ">") ??
						false),
			).toBe(false);
			const bytes = valueBytes(d.info.dtype, n, seed++);
			if (shape.length === 0) await d.write?.({ start: [], shape: [] }, bytes);
			else {
				// Two blocks along axis 0.
				const h = Math.floor((shape[0] as number) / 2);
				const row =
					(shape.slice(1).reduce((a, b) => a * b, 1) * d.info.dtype.itemsize) |
					0;
				await d.write?.(
					{ start: shape.map(() => 0), shape: [h, ...shape.slice(1)] },
					bytes.subarray(0, h * row),
				);
				await d.write?.(
					{
						start: [h, ...shape.slice(1).map(() => 0)],
						shape: [(shape[0] as number) - h, ...shape.slice(1)],
					},
					bytes.subarray(h * row),
				);
			}
			expected.set(c.name, {
				bytes,
				fill: new Uint8Array(d.info.dtype.itemsize),
			});
		}
		await d.close();
	}
	return expected;
}

const FILTER_IDS: Record<string, number> = {
	gzip: 1,
	shuffle: 2,
	fletcher32: 3,
	lzf: 32000,
};

function checkWith(py: Python, label: string): void {
	describe.skipIf(!py.has("h5py"))(
		`hdf5: files we write, read by ${label}`,
		() => {
			if (!py.has("h5py"))
				skipNote(`hdf5 interop (${label})`, py.missing("h5py"));
			const all = cases();
			it(`reads every dtype, layout, filter and attribute identically (${all.length} datasets)`, async () => {
				await using tmp = await tempDir();
				const file = join(tmp.path, "out.h5");
				const expected = await writeCases(file, all);
				if (process.env.KEEP_H5)
					(await import("node:fs")).copyFileSync(file, process.env.KEEP_H5);
				const got = py.run<
					Record<
						string,
						{
							dtype: string;
							shape: number[];
							chunks: number[] | null;
							maxshape: (number | null)[] | null;
							sha?: string;
							strings?: string[];
							filters: number[];
							fill: string | null;
							attrs: Record<
								string,
								{ dtype: string; shape: number[]; repr: string }
							>;
						}
					>
				>(PY_READ, { file, names: all.map((c) => c.name) });
				for (const c of all) {
					const g = got[c.name];
					const e = expected.get(c.name);
					if (!g || !e) throw new Error(`missing ${c.name}`);
					const stored = isVString(c.dtype)
						? c.dtype
						: withByteOrder(c.dtype, "<");
					expect({ name: c.name, shape: g.shape }).toEqual({
						name: c.name,
						shape: c.shape,
					});
					if (e.strings) expect(g.strings).toEqual(e.strings);
					else {
						expect({ name: c.name, dtype: g.dtype }).toEqual({
							name: c.name,
							dtype: stored.fields ? g.dtype : stored.str,
						});
						expect({ name: c.name, sha: g.sha }).toEqual({
							name: c.name,
							sha: sha(e.bytes as Uint8Array),
						});
						expect({ name: c.name, fill: g.fill }).toEqual({
							name: c.name,
							fill: sha(e.fill as Uint8Array),
						});
					}
					expect({ name: c.name, chunks: g.chunks }).toEqual({
						name: c.name,
						chunks: c.chunks ?? (c.maxshape ? g.chunks : null),
					});
					expect({ name: c.name, filters: g.filters }).toEqual({
						name: c.name,
						filters: (c.codecs ?? []).map((x) => FILTER_IDS[x.name]),
					});
					if (c.maxshape) expect(g.maxshape).toEqual(c.maxshape);
					expect(g.attrs).toEqual({
						units: { dtype: "|O", shape: [], repr: "'m'" },
						scale: { dtype: "<f8", shape: [], repr: "0.5" },
						n: { dtype: "<i8", shape: [], repr: "3" },
						flags: { dtype: "|b1", shape: [2], repr: "[True, False]" },
						none: {
							dtype: "<i8",
							shape: null,
							repr: expect.stringMatching(/Empty/),
						},
					});
				}
				// And our own reader agrees with what h5py saw.
				for (const c of all) {
					const e = expected.get(c.name);
					const d = await hdf5Adapter.open(file, {
						mode: "r",
						path: `/${c.name}`,
						adapterOptions: {},
					});
					try {
						if (e?.strings) expect(await readAllStrings(d)).toEqual(e.strings);
						else
							expect({ name: c.name, sha: sha(await readAll(d)) }).toEqual({
								name: c.name,
								sha: sha(e?.bytes as Uint8Array),
							});
					} finally {
						await d.close();
					}
				}
			});
		},
	);
}

checkWith(python, "h5py 3.16");
checkWith(pythonLegacy, "h5py 3.7");
