// The converter matrix's expectations: every fixture array (both manifests) with its hash, and
// which target formats can hold it — derived from architecture.md §3.5, as the adapters
// implement it (differences from the table are noted where they are decided).
import { createHash } from "node:crypto";
import { basename, extname, join } from "node:path";
import {
	FORMATS_DIR,
	formatsManifest,
	PICKLE_DIR,
	pickleManifest,
} from "@arraystore/conformance";

/** One fixture array. */
export interface FixtureArray {
	readonly id: string;
	/** Fixture subfolder, e.g. "formats/hdf5", "pickle/legacy". */
	readonly group: string;
	/** Source file or store. */
	readonly file: string;
	/** Source file name without extension. */
	readonly stem: string;
	/** Path of the array in the source, as `--dataset` takes it ("" = the root array). */
	readonly dataset: string;
	/** The same without a leading "/". */
	readonly path: string;
	/** numpy dtype.str as the manifest lists it. */
	readonly dtype: string;
	readonly shape: readonly number[];
	readonly structured: boolean;
	/** Number of fields of a record (0 otherwise). */
	readonly fields: number;
	/** Kinds of the dtype and of all its fields. */
	readonly kinds: readonly string[];
	readonly vlen: boolean;
	/** Expected SHA-256, and of which bytes: native little-endian, or in the listed dtype's byte order. */
	readonly sha256: string;
	readonly hashOf: "little-endian" | "listed" | "vlen";
	/** formats manifest: the array's attributes. */
	readonly attributes?: Readonly<Record<string, unknown>>;
}

/** One source file and its arrays. */
export interface FixtureFile {
	readonly group: string;
	readonly file: string;
	readonly stem: string;
	readonly arrays: FixtureArray[];
	/** formats: groups with attributes ("/" root); pickle: plain values by group path. */
	readonly groups: {
		readonly path: string;
		readonly attributes: Readonly<Record<string, unknown>>;
	}[];
}

/** Writable targets of the matrix. */
export const TARGETS = [
	{
		name: "raw",
		to: "raw",
		ext: ".dat",
		single: true,
		tree: false,
		attrs: false,
	},
	{
		name: "npy",
		to: "npy",
		ext: ".npy",
		single: true,
		tree: false,
		attrs: false,
	},
	{
		name: "mmappickle",
		to: "mmappickle",
		ext: ".mmdpickle",
		single: false,
		tree: false,
		attrs: true,
	},
	{
		name: "hdf5",
		to: "hdf5",
		ext: ".h5",
		single: false,
		tree: true,
		attrs: true,
	},
	{
		name: "zarr2",
		to: "zarr2",
		ext: ".zarr",
		single: false,
		tree: true,
		attrs: true,
	},
	{
		name: "zarr3",
		to: "zarr3",
		ext: ".zarr",
		single: false,
		tree: true,
		attrs: true,
	},
] as const;
export type Target = (typeof TARGETS)[number];

/**
 * Whether `target` can hold `a` (§3.5): raw and npy hold every fixed-size dtype; mmappickle
 * no records (numpy cannot read its repr back); HDF5 no unicode U (also inside records) and
 * no record whose datatype message exceeds HDF5's 64 KiB object-header message limit (the
 * 4000-field npy fixture); Zarr v2 everything, vlen strings included; Zarr v3 the core
 * numeric types only (the adapter writes no extension types, §3.5 "check each with
 * tensorstore before claiming support").
 */
export function supports(target: Target["name"], a: FixtureArray): boolean {
	switch (target) {
		case "raw":
		case "npy":
			return !a.vlen;
		case "zarr2":
			return true;
		case "mmappickle":
			return !a.vlen && !a.structured;
		case "hdf5":
			return !a.kinds.includes("U") && !hdf5TooWide(a);
		case "zarr3":
			return !a.structured && !a.vlen && "biufc".includes(a.kinds[0] ?? "?");
	}
}

/**
 * A record HDF5 cannot describe: a compound datatype message holds, per field, its name
 * (8-byte padded), offset and member type — 4000 fields are far beyond 64 KiB.
 */
export function hdf5TooWide(a: FixtureArray): boolean {
	return a.structured && a.fields > 1000;
}

function kindOf(dtype: string): string {
	return dtype.replace(/^[<>|=]/, "")[0] ?? "?";
}

function descrKinds(descr: unknown): string[] {
	if (typeof descr === "string") return [kindOf(descr)];
	if (!Array.isArray(descr)) return [];
	return descr.flatMap((f) => (Array.isArray(f) ? descrKinds(f[1]) : []));
}

function stemOf(file: string): string {
	const b = basename(file.replace(/[/\\]+$/, ""));
	return basename(b, extname(b));
}

/** Every source file of both manifests with its arrays (external links excluded: not followed). */
export function fixtureFiles(): FixtureFile[] {
	const files = new Map<string, FixtureFile>();
	const fileOf = (group: string, file: string): FixtureFile => {
		let f = files.get(file);
		if (!f) {
			f = { group, file, stem: stemOf(file), arrays: [], groups: [] };
			files.set(file, f);
		}
		return f;
	};
	const fm = formatsManifest();
	const external = new Set(
		fm.links
			.filter((l) => l.type === "external")
			.map((l) => `${String(l.file)}#${String(l.path)}`),
	);
	for (const a of fm.arrays) {
		if (external.has(`${a.file}#${a.dataset}`)) continue;
		const group = `formats/${a.file.split("/")[0]}`;
		const file = join(FORMATS_DIR, a.file);
		const f = fileOf(group, file);
		const dataset = a.dataset ?? "";
		const structured =
			"descr" in a && (a.descr !== null || "descr_summary" in a);
		f.arrays.push({
			id: a.id,
			group,
			file,
			stem: f.stem,
			dataset,
			path: dataset.replace(/^\/+/, ""),
			dtype: a.dtype,
			shape: a.shape,
			structured,
			fields: Array.isArray(a.descr)
				? a.descr.length
				: structured
					? Number(
							/^(\d+) fields/.exec(String(a.descr_summary ?? ""))?.[1] ?? 0,
						)
					: 0,
			kinds: [kindOf(a.dtype), ...(a.descr ? descrKinds(a.descr) : [])],
			vlen: a.dtype === "|O",
			sha256: a.sha256_kind === "raw" ? a.sha256_le : a.sha256,
			hashOf: a.sha256_kind === "raw" ? "little-endian" : "vlen",
			attributes: a.attributes,
		});
	}
	for (const g of fm.groups) {
		const file = join(FORMATS_DIR, String(g.file));
		fileOf(`formats/${String(g.file).split("/")[0]}`, file).groups.push({
			path: String(g.path).replace(/^\/+/, ""),
			attributes: (g.attributes ?? {}) as Record<string, unknown>,
		});
	}
	const pm = pickleManifest<{
		files: {
			path: string;
			expected: { result: string };
			keys?: Record<string, Record<string, unknown>>;
		}[];
	}>();
	for (const pf of pm.files) {
		if (pf.expected.result !== "ok") continue;
		const group = `pickle/${pf.path.split("/")[0]}`;
		const file = join(PICKLE_DIR, pf.path);
		const f = fileOf(group, file);
		const values = new Map<string, Record<string, unknown>>();
		const add = (key: string, e: Record<string, unknown>, sha?: string) => {
			const dtype = String(e.dtype);
			const name = String(e.dtype_name ?? "");
			const structured = dtype.startsWith("|V") && name.startsWith("[");
			f.arrays.push({
				id: `${pf.path}#${key}`,
				group,
				file,
				stem: f.stem,
				dataset: key,
				path: key,
				dtype,
				shape: (e.shape ?? []) as number[],
				structured,
				fields: structured ? [...name.matchAll(/\('/g)].length : 0,
				kinds: [
					kindOf(dtype),
					...(structured
						? [...name.matchAll(/'[<>|=]?([a-zA-Z])\d*/g)].map(
								(m) => m[1] as string,
							)
						: []),
				],
				vlen: false,
				sha256: sha ?? String(e.sha256),
				hashOf: "listed",
			});
		};
		for (const [key, e] of Object.entries(pf.keys ?? {})) {
			if (e.kind === "ndarray") add(key, e);
			else if (e.kind === "numpy_scalar")
				add(
					key,
					{ ...e, shape: [] },
					createHash("sha256")
						.update(Buffer.from(String(e.item_hex), "hex"))
						.digest("hex"),
				);
			else if (e.kind === "masked_array") {
				add(key, e.data as Record<string, unknown>);
				add(
					key === "" ? "mask" : `${key}.mask`,
					e.mask as Record<string, unknown>,
				);
			} else if (e.kind === "python" && "value" in e) {
				const i = key.lastIndexOf("/");
				const parent = i < 0 ? "" : key.slice(0, i);
				const attrs = values.get(parent) ?? {};
				attrs[key.slice(i + 1)] = e.value;
				values.set(parent, attrs);
			}
		}
		for (const [path, attributes] of values)
			f.groups.push({ path, attributes });
	}
	return [...files.values()];
}
