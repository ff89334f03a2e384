// Whole-file HDF5 → HDF5 copies of the fixtures through core's copyTree, judged by h5py:
// every dataset (values, dtype up to byte order) and every attribute of the source must be in
// the copy.
import { join } from "node:path";
import {
	FORMATS_DIR,
	python,
	skipNote,
	tempDir,
} from "@arraystore/conformance";
import { copyTree } from "@arraystore/core";
import { createRegistry } from "@arraystore/core/node";
import { describe, expect, it } from "vitest";
import { hdf5Adapter } from "../src/index.js";

const COMPARE = `
import h5py, numpy as np
def walk(f):
    out = {}
    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            out[name] = obj
    f.visititems(visit)
    return out
problems = []
def same_attrs(where, a, b):
    for k in a.attrs:
        if k not in b.attrs:
            problems.append(f"{where}: attribute {k} missing")
            continue
        x, y = a.attrs[k], b.attrs[k]
        if isinstance(x, h5py.Empty):
            if not isinstance(y, h5py.Empty): problems.append(f"{where}: attribute {k} not empty")
            continue
        if a.attrs.get_id(k).dtype != b.attrs.get_id(k).dtype or a.attrs.get_id(k).shape != b.attrs.get_id(k).shape:
            problems.append(f"{where}: attribute {k}: {a.attrs.get_id(k).dtype}{a.attrs.get_id(k).shape} -> {b.attrs.get_id(k).dtype}{b.attrs.get_id(k).shape}")
        if np.asarray(x).tobytes() != np.asarray(y).tobytes() and not np.array_equal(np.asarray(x), np.asarray(y)):
            problems.append(f"{where}: attribute {k}: {x!r} != {y!r}")
with h5py.File(INPUT["src"], "r") as s, h5py.File(INPUT["dst"], "r") as d:
    same_attrs("/", s, d)
    sd, dd = walk(s), walk(d)
    for name, ds in sd.items():
        if name not in dd:
            problems.append(f"{name}: missing"); continue
        a, b = ds[()], dd[name][()]
        if ds.dtype.newbyteorder("<") != dd[name].dtype.newbyteorder("<") and ds.dtype != dd[name].dtype:
            problems.append(f"{name}: dtype {ds.dtype} -> {dd[name].dtype}")
        if ds.shape != dd[name].shape or not (np.array_equal(a, b) or np.asarray(a).astype(dd[name].dtype).tobytes() == np.asarray(b).tobytes()):
            problems.append(f"{name}: values differ")
        same_attrs(name, ds, dd[name])
    for name, g in s.items():
        if isinstance(g, h5py.Group) and name in d:
            same_attrs(name, g, d[name])
print(json.dumps(problems))
`;

describe.skipIf(!python.has("h5py"))(
	"hdf5: whole-file copies through copyTree",
	() => {
		if (!python.has("h5py")) skipNote("hdf5 copyTree", python.missing("h5py"));
		const registry = createRegistry([hdf5Adapter]);
		for (const name of [
			"hierarchy.h5",
			"types.h5",
			"special.h5",
			"multi.h5",
			"filters.h5",
			"libver_v110.h5",
			"contiguous.h5",
		]) {
			it(`copies ${name} so that h5py sees the same datasets and attributes`, async () => {
				await using tmp = await tempDir();
				const src = join(FORMATS_DIR, "hdf5", name);
				const dst = join(tmp.path, name);
				{
					await using s = await registry.openContainer(src);
					await using d = await registry.openContainer(dst, { mode: "w+" });
					const report = await copyTree(s, d);
					expect(report.notCarried).toEqual([]);
				}
				expect(python.run<string[]>(COMPARE, { src, dst })).toEqual([]);
			});
		}
	},
);
