import {
	python,
	pythonLegacy,
	sha256,
	skipNote,
	type TempDir,
	tempDir,
} from "@arraystore/conformance";
import { parseDType } from "@arraystore/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { caseData, V2_CASES, V3_CASES, type WriteCase } from "./cases.js";
import { createZarr, openZarr, openZarrContainer } from "./helpers.js";

const hasTs = python.has("numpy", "tensorstore");
const hasZarr2 = pythonLegacy.has("numpy", "zarr");
if (!hasTs)
	skipNote(
		"zarr interop with tensorstore",
		python.missing("numpy", "tensorstore"),
	);
if (!hasZarr2)
	skipNote(
		"zarr interop with zarr-python 2",
		pythonLegacy.missing("numpy", "zarr"),
	);

interface PyResult {
	readonly sha?: string;
	readonly fill?: string;
	readonly error?: string;
}

// Reads every array and returns the sha256 of its C-order little-endian bytes.
const TS_READ = `
import tensorstore as ts, numpy as np, hashlib
out = {}
for c in INPUT:
    try:
        t = ts.open({"driver": c["driver"], "kvstore": {"driver": "file", "path": c["path"]}}, open=True).result()
        a = np.asarray(t.read().result())
        a = np.ascontiguousarray(a.astype(a.dtype.newbyteorder("<")))
        fill = t.fill_value
        out[c["name"]] = {"sha": hashlib.sha256(a.tobytes()).hexdigest(), "fill": str(np.asarray(fill).reshape(-1)[0]) if fill is not None else "None"}
    except Exception as e:
        out[c["name"]] = {"error": str(e)[:400]}
print(json.dumps(out))
`;

const ZARR2_READ = `
import zarr, numpy as np, hashlib
out = {}
for c in INPUT:
    try:
        z = zarr.open_array(c["path"], mode="r")
        a = z[...]
        a = np.ascontiguousarray(np.asarray(a).astype(a.dtype.newbyteorder("<")))
        out[c["name"]] = {"sha": hashlib.sha256(a.tobytes()).hexdigest(), "fill": str(z.fill_value)}
    except Exception as e:
        out[c["name"]] = {"error": repr(e)[:400]}
print(json.dumps(out))
`;

let tmp: TempDir;
const expected = new Map<string, string>();
let tsResults: Record<string, PyResult> = {};
let z2Results: Record<string, PyResult> = {};

async function writeCase(c: WriteCase, i: number): Promise<void> {
	const dtype = parseDType(c.dtype as never);
	await using a = await createZarr(tmp.join(`${c.name}.zarr`), {
		dtype,
		shape: c.shape,
		chunks: c.chunks,
		order: c.order ?? "C",
		...(c.codecs ? { codecs: c.codecs } : {}),
		...(c.fillValue !== undefined ? { fillValue: c.fillValue as never } : {}),
		adapterOptions: { zarrFormat: c.zarrFormat, ...c.adapterOptions },
	});
	const data = caseData(dtype, c.shape, 1000 + i, c.smooth);
	if (c.shape.length === 0) await a.write([], data);
	else {
		// Two writes split off chunk boundaries: the second is a read-modify-write of shared chunks.
		const n = c.shape[0] as number;
		const k = Math.floor(n / 2) + 1;
		const row = data.bytes.length / n;
		const part = (lo: number, hi: number) => ({
			...data,
			shape: [hi - lo, ...c.shape.slice(1)],
			bytes: data.bytes.subarray(lo * row, hi * row),
			data: data.bytes.subarray(lo * row, hi * row),
		});
		await a.write([{ start: k, stop: n }], part(k, n) as never);
		await a.write([{ start: 0, stop: k }], part(0, k) as never);
	}
	expected.set(c.name, sha256(data.bytes));
}

describe("zarr: interop", () => {
	beforeAll(async () => {
		tmp = await tempDir("zarr-interop-");
		const all = [...V2_CASES, ...V3_CASES];
		for (const [i, c] of all.entries()) await writeCase(c, i);
		const job = (cs: readonly WriteCase[]) =>
			cs.map((c) => ({
				name: c.name,
				path: tmp.join(`${c.name}.zarr`),
				driver: c.zarrFormat === 2 ? "zarr" : "zarr3",
			}));
		if (hasTs)
			tsResults = python.run(TS_READ, job(all.filter((c) => !c.noTensorstore)));
		if (hasZarr2) z2Results = pythonLegacy.run(ZARR2_READ, job(V2_CASES));
	}, 120_000);
	afterAll(async () => {
		await tmp?.[Symbol.asyncDispose]();
	});

	describe.skipIf(!hasTs)("tensorstore reads what we write", () => {
		for (const c of [...V2_CASES, ...V3_CASES]) {
			it.skipIf(c.noTensorstore !== undefined)(`${c.name}`, () => {
				const r = tsResults[c.name];
				expect(r?.error).toBeUndefined();
				expect(r?.sha).toBe(expected.get(c.name));
				if (c.pyFill) expect(r?.fill).toBe(c.pyFill);
			});
		}
	});

	describe.skipIf(!hasZarr2)("zarr-python 2 reads what we write", () => {
		for (const c of V2_CASES) {
			it(`${c.name}`, () => {
				const r = z2Results[c.name];
				expect(r?.error).toBeUndefined();
				expect(r?.sha).toBe(expected.get(c.name));
				if (c.pyFill) expect(r?.fill).toBe(c.pyFill);
			});
		}
	});
});

const ATTRS = {
	title: "ünïcode",
	big: 18446744073709551615n,
	nested: { list: [1, 2.5, null, true], s: "x" },
};

async function writeTree(target: string, zarrFormat: 2 | 3): Promise<void> {
	await using c = await openZarrContainer(target, "w+", { zarrFormat });
	await c.setAttrs("", ATTRS);
	await c.createGroup("g1", { level: 1 });
	await c.createGroup("g1/g2", { level: 2 });
	await using x = await c.createArray("g1/g2/x", {
		dtype: "<i2",
		shape: [5],
		chunks: [2],
		attrs: { units: "m" },
	});
	await x.write([], new Int16Array([1, 2, 3, 4, 5]));
	await using y = await c.createArray("y", {
		dtype: "<f4",
		shape: [2, 2],
		chunks: [2, 2],
	});
	await y.write([], new Float32Array([1, 2, 3, 4]));
}

describe.skipIf(!hasZarr2)("zarr: groups read by zarr-python 2", () => {
	it("keeps the tree and attributes", async () => {
		await using t = await tempDir("zarr-tree-");
		await writeTree(t.join("tree.zarr"), 2);
		const r = pythonLegacy.run<Record<string, unknown>>(
			`
import zarr
g = zarr.open_group(INPUT, mode="r")
out = {"root": dict(g.attrs), "tree": []}
out["root"]["big"] = str(out["root"]["big"])
def walk(grp, prefix):
    for name, sub in sorted(grp.groups()):
        out["tree"].append([prefix + name, "group", dict(sub.attrs)])
        walk(sub, prefix + name + "/")
    for name, arr in sorted(grp.arrays()):
        out["tree"].append([prefix + name, "array", dict(arr.attrs), arr[...].tolist()])
walk(g, "")
print(json.dumps(out))
`,
			t.join("tree.zarr"),
		);
		expect(r.root).toEqual({ ...ATTRS, big: "18446744073709551615" });
		expect(r.tree).toEqual([
			["g1", "group", { level: 1 }],
			["g1/g2", "group", { level: 2 }],
			["g1/g2/x", "array", { units: "m" }, [1, 2, 3, 4, 5]],
			[
				"y",
				"array",
				{},
				[
					[1, 2],
					[3, 4],
				],
			],
		]);
	});
});

describe.skipIf(!hasTs)(
	"zarr: v3 groups read by tensorstore and Python's json",
	() => {
		it("keeps the tree and attributes", async () => {
			await using t = await tempDir("zarr-tree-");
			const root = t.join("tree.zarr");
			await writeTree(root, 3);
			const r = python.run<Record<string, unknown>>(
				`
import tensorstore as ts, os
def meta(p):
    with open(os.path.join(INPUT, p, "zarr.json")) as f:
        return json.load(f)
x = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": os.path.join(INPUT, "g1/g2/x")}}, open=True).result()
print(json.dumps({"root": meta(""), "g1": meta("g1"), "g2": meta("g1/g2"), "x": meta("g1/g2/x")["attributes"], "data": x.read().result().tolist(), "big": str(meta("")["attributes"]["big"])}))
`,
				root,
			);
			expect((r.root as { node_type: string }).node_type).toBe("group");
			expect(r.big).toBe("18446744073709551615");
			expect((r.g1 as { attributes: unknown }).attributes).toEqual({
				level: 1,
			});
			expect(
				(r.g2 as { node_type: string; attributes: unknown }).attributes,
			).toEqual({ level: 2 });
			expect(r.x).toEqual({ units: "m" });
			expect(r.data).toEqual([1, 2, 3, 4, 5]);
		});
	},
);

describe.skipIf(!hasZarr2)("zarr: reads what zarr-python 2 writes", () => {
	it("bz2, lz4, the shuffle filter, F order and '/' keys; names unsupported filters", async () => {
		await using t = await tempDir("zarr-zp2-");
		const hashes = pythonLegacy.run<Record<string, string>>(
			`
import zarr, numpy as np, numcodecs, hashlib, os
a = (np.arange(600, dtype="<f8").reshape(20, 30) * 1.25)
out = {}
for name, kw in [("bz2", dict(compressor=numcodecs.BZ2(level=5))),
                 ("lz4", dict(compressor=numcodecs.LZ4(), order="F")),
                 ("shuffle", dict(compressor=numcodecs.Zlib(), filters=[numcodecs.Shuffle(elementsize=8)], dimension_separator="/")),
                 ("delta", dict(compressor=None, filters=[numcodecs.Delta(dtype="<f8")]))]:
    z = zarr.open_array(os.path.join(INPUT, name + ".zarr"), mode="w", shape=a.shape, chunks=(7, 8), dtype=a.dtype, **kw)
    z[...] = a
    out[name] = hashlib.sha256(a.tobytes()).hexdigest()
print(json.dumps(out))
`,
			t.path,
		);
		for (const name of ["bz2", "lz4", "shuffle"]) {
			await using a = await openZarr(t.join(`${name}.zarr`));
			expect(sha256((await a.read()).bytes), name).toBe(hashes[name]);
		}
		await expect(openZarr(t.join("delta.zarr"))).rejects.toMatchObject({
			code: "UNSUPPORTED_CODEC",
			codec: "delta",
		});
		await expect(
			createZarr(t.join("w.zarr"), {
				dtype: "<f8",
				shape: [3],
				codecs: [{ name: "bz2" }],
				adapterOptions: { zarrFormat: 2 },
			}),
		).rejects.toMatchObject({ code: "UNSUPPORTED_CODEC", codec: "bz2" });
	});
});
