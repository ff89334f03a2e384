// Adapter surface: sniffing, dtype checks, paths, modes, links, containers and errors.
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
	FORMATS_DIR,
	python,
	pythonLegacy,
	tempDir,
} from "@arraystore/conformance";
import { isArrayStoreError, type Probe, parseDType } from "@arraystore/core";
import { describe, expect, it } from "vitest";
import { hdf5Adapter } from "../src/index.js";
import { createOpts, openDriver, readAll } from "./helpers.js";

const fixture = (name: string): string => join(FORMATS_DIR, "hdf5", name);

function probe(
	head: Uint8Array,
	signatures: [number, Uint8Array][] = [],
): Probe {
	return {
		path: "x",
		extension: ".bin",
		size: 4096,
		isDirectory: false,
		head,
		entries: [],
		hasSidecar: false,
		signatures: new Map(signatures),
	};
}

async function code(p: Promise<unknown>): Promise<string | undefined> {
	try {
		await p;
		return undefined;
	} catch (err) {
		if (!isArrayStoreError(err)) throw err;
		return err.code;
	}
}

describe("hdf5: sniff and dtypes", () => {
	const sig = Uint8Array.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
	it("sniffs the signature at 0 and after a user block", () => {
		expect(
			hdf5Adapter.sniff?.(
				probe(readFileSync(fixture("types.h5")).subarray(0, 4096)),
			),
		).toBe(true);
		expect(hdf5Adapter.sniff?.(probe(new Uint8Array(4096), [[512, sig]]))).toBe(
			true,
		);
		expect(
			hdf5Adapter.sniff?.(
				probe(new Uint8Array(4096), [[512, new Uint8Array(8)]]),
			),
		).toBe(false);
		expect(
			hdf5Adapter.sniff?.(
				probe(Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59])),
			),
		).toBe(false);
	});
	it("accepts what HDF5 can hold and refuses U and long double", () => {
		for (const s of ["|b1", "<f2", "<c16", "|S3", "<M8[ns]", "|V4", ">f8"])
			expect(hdf5Adapter.checkDType(parseDType(s)).ok).toBe(true);
		for (const s of ["<U3", "<f16"])
			expect(hdf5Adapter.checkDType(parseDType(s)).ok).toBe(false);
	});
});

describe("hdf5: opening", () => {
	it("opens the only dataset of a file without a path, and asks for one otherwise", async () => {
		const d = await hdf5Adapter.open(fixture("contiguous.h5"), {
			mode: "r",
			path: "",
			adapterOptions: {},
		});
		expect(d.info.shape).toEqual([20, 30]);
		await d.close();
		expect(
			await code(
				hdf5Adapter.open(fixture("multi.h5"), {
					mode: "r",
					path: "",
					adapterOptions: {},
				}),
			),
		).toBe("INVALID_SELECTION");
	});
	it("maps missing files, paths, groups and '..' to typed errors", async () => {
		expect(await code(openDriver(fixture("nope.h5"), "/x"))).toBe("NOT_FOUND");
		expect(await code(openDriver(fixture("multi.h5"), "/missing"))).toBe(
			"NOT_FOUND",
		);
		expect(await code(openDriver(fixture("multi.h5"), "/nested"))).toBe(
			"NOT_FOUND",
		);
		expect(await code(openDriver(fixture("multi.h5"), "/nested/../grid"))).toBe(
			"INVALID_SELECTION",
		);
	});
	it("reports a file that is not HDF5, or is truncated, as malformed", async () => {
		await using tmp = await tempDir();
		const bad = tmp.join("bad.h5");
		writeFileSync(bad, "not an hdf5 file at all");
		expect(await code(openDriver(bad, "/x"))).toBe("MALFORMED");
		const cut = tmp.join("cut.h5");
		writeFileSync(cut, readFileSync(fixture("multi.h5")).subarray(0, 600));
		const c = await code(openDriver(cut, "/grid"));
		expect(["MALFORMED", "NOT_FOUND", "IO_ERROR"]).toContain(c);
	});
	it("reads through a soft link and follows an external link only when allowed, inside the directory", async () => {
		const soft = await openDriver(fixture("links.h5"), "/soft_to_data");
		const data = await openDriver(fixture("links.h5"), "/data");
		expect(await readAll(soft)).toEqual(await readAll(data));
		await soft.close();
		await data.close();
		expect(await code(openDriver(fixture("links.h5"), "/external"))).toBe(
			"UNSUPPORTED",
		);
		const ext = await openDriver(fixture("links.h5"), "/external", "r", {
			followExternalLinks: true,
		});
		expect(ext.info.shape).toEqual([4, 4]);
		await ext.close();
		// The same link, but its target is outside the linking file's directory.
		await using tmp = await tempDir();
		copyFileSync(fixture("links.h5"), tmp.join("links.h5"));
		expect(
			await code(
				openDriver(tmp.join("links.h5"), "/external", "r", {
					followExternalLinks: true,
				}),
			),
		).toBe("NOT_FOUND");
		await using tmp2 = await tempDir();
		copyFileSync(
			fixture("links_target.h5"),
			join(tmp2.path, "links_target.h5"),
		);
		expect(existsSync(join(tmp.path, "links_target.h5"))).toBe(false);
	});
});

describe("hdf5: modes and containers", () => {
	it("r has no write; r+ writes persist; attributes round-trip on files, groups and datasets", async () => {
		await using tmp = await tempDir();
		const file = tmp.join("m.h5");
		const d = await hdf5Adapter.create?.(
			file,
			createOpts("/g/x", "<f8", [4], { attrs: { a: 1.5 } }),
		);
		if (!d) throw new Error("no create");
		await d.write?.(
			{ start: [0], shape: [4] },
			new Uint8Array(Float64Array.of(1, 2, 3, 4).buffer),
		);
		await d.close();
		const r = await openDriver(file, "/g/x");
		expect(r.write).toBeUndefined();
		await r.close();
		const w = await openDriver(file, "/g/x", "r+");
		await w.write?.(
			{ start: [1], shape: [1] },
			new Uint8Array(Float64Array.of(9).buffer),
		);
		await w.setAttrs?.({ b: "text", c: [1, 2, 3], a: 2.5 });
		await w.close();
		const again = await openDriver(file, "/g/x");
		expect(Array.from(new Float64Array((await readAll(again)).buffer))).toEqual(
			[1, 9, 3, 4],
		);
		expect(await again.attrs?.()).toEqual({ a: 2.5, b: "text", c: [1, 2, 3] });
		await again.close();
		const c = await hdf5Adapter.openContainer?.(file, { mode: "r+" });
		if (!c) throw new Error("no container");
		await c.setAttrs?.("/", {
			title: "root",
			flag: true,
			half: {
				dtype: parseDType("<f2"),
				shape: [],
				bytes: Uint8Array.of(0, 0x3e),
				data: Uint16Array.of(0x3e00),
			},
		});
		await c.createGroup?.("h/i", { level: 2n });
		expect(await c.list("", true)).toEqual([
			{ path: "g", kind: "group" },
			{ path: "g/x", kind: "array" },
			{ path: "h", kind: "group" },
			{ path: "h/i", kind: "group" },
		]);
		expect(await c.attrs("h/i")).toEqual({ level: 2 });
		expect(await c.list("g/x", false)).toEqual([]);
		await c.createGroup?.("gone");
		await c.delete?.("gone");
		expect((await c.list("", false)).map((e) => e.path)).toEqual(["g", "h"]);
		const root = await c.attrs("");
		expect(root.title).toBe("root");
		expect(root.flag).toBe(true);
		expect((root.half as { dtype: { str: string } }).dtype.str).toBe("<f2");
		await c.close();
	});
	it("replaces an existing dataset in old- and new-style groups; refuses with exclusive, over a group, and in dense storage", async () => {
		await using tmp = await tempDir();
		const file = tmp.join("ours.h5");
		const names = Array.from(
			{ length: 20 },
			(_, i) => `/many/n${String(i).padStart(2, "0")}`,
		);
		for (const n of names)
			await (
				await hdf5Adapter.create?.(file, createOpts(n, "<i4", [3]))
			)?.close();
		// A new-style (compact) group: created by h5py with track_order.
		if (python.has("h5py"))
			python.run(
				`import h5py\nwith h5py.File(INPUT, "a") as f:\n    g = f.create_group("compact", track_order=True)\n    g["a"] = [1, 2]\n    g["b"] = [3, 4]\nprint("null")`,
				file,
			);
		expect(
			await code(
				hdf5Adapter.create?.(
					file,
					createOpts("/many/n07", "<i4", [3], { exclusive: true }),
				) ?? Promise.resolve(),
			),
		).toBe("ALREADY_EXISTS");
		expect(
			await code(
				hdf5Adapter.create?.(file, createOpts("/many", "<i4", [3])) ??
					Promise.resolve(),
			),
		).toBe("ALREADY_EXISTS");
		const replaced = [
			"/many/n07",
			"/many/n19",
			"/many/n00",
			...(python.has("h5py") ? ["/compact/a"] : []),
		];
		for (const n of replaced) {
			const d = await hdf5Adapter.create?.(file, createOpts(n, "<f8", [2, 2]));
			await d?.write?.(
				{ start: [0, 0], shape: [2, 2] },
				new Uint8Array(Float64Array.of(1, 2, 3, 4).buffer),
			);
			await d?.close();
		}
		const c = await hdf5Adapter.openContainer?.(file, { mode: "r" });
		expect((await c?.list("many", false))?.map((e) => e.path)).toEqual(
			names.map((n) => n.slice(1)),
		);
		await c?.close();
		const d = await openDriver(file, "/many/n19");
		expect(d.info.dtype.str).toBe("<f8");
		expect(Array.from(new Float64Array((await readAll(d)).buffer))).toEqual([
			1, 2, 3, 4,
		]);
		await d.close();
		if (python.has("h5py")) {
			for (const py of [python, pythonLegacy].filter((p) => p.has("h5py"))) {
				const seen = py.run<unknown>(
					`import h5py\nwith h5py.File(INPUT, "r") as f:\n    print(json.dumps({"keys": list(f["many"]), "n07": f["many/n07"][()].tolist(), "n01": f["many/n01"][()].tolist(), "compact": sorted(f["compact"]), "a": f["compact/a"][()].tolist(), "b": f["compact/b"][()].tolist()}))`,
					file,
				);
				expect(seen).toEqual({
					keys: names.map((n) => n.slice(6)),
					n07: [
						[1, 2],
						[3, 4],
					],
					n01: [0, 0, 0],
					compact: ["a", "b"],
					a: [
						[1, 2],
						[3, 4],
					],
					b: [3, 4],
				});
			}
		}
		// libver_v110.h5 keeps /many_links in dense storage: refused, and the old dataset stays.
		const v110 = tmp.join("v110.h5");
		copyFileSync(fixture("libver_v110.h5"), v110);
		expect(
			await code(
				hdf5Adapter.create?.(v110, createOpts("/many_links/d03", "<f8", [2])) ??
					Promise.resolve(),
			),
		).toBe("UNSUPPORTED");
		const kept = await openDriver(v110, "/many_links/d03");
		expect(kept.info.dtype.str).toBe("<i2");
		await kept.close();
	});
	it("reads netCDF-4 style files: dimension-scale references are left out of attributes", async () => {
		if (!python.has("h5py")) return;
		await using tmp = await tempDir();
		const file = tmp.join("grid.nc");
		python.run(
			`import h5py, numpy as np\nwith h5py.File(INPUT, "w") as f:\n    x = f.create_dataset("x", data=np.arange(4.0))\n    x.make_scale("x")\n    t = f.create_dataset("t", data=np.ones((4,), "f4"))\n    t.dims[0].attach_scale(x)\n    t.attrs["units"] = "K"\nprint("null")`,
			file,
		);
		const d = await openDriver(file, "/t");
		expect(await d.attrs?.()).toEqual({ units: "K" });
		await d.close();
		const x = await openDriver(file, "/x");
		const xa = await x.attrs?.();
		expect(xa?.NAME).toBeDefined();
		expect(xa?.REFERENCE_LIST).toBeUndefined();
		await x.close();
	});
	it("follows external links only into the source file's directory", async () => {
		if (!python.has("h5py")) return;
		await using tmp = await tempDir();
		const { mkdirSync } = await import("node:fs");
		mkdirSync(tmp.join("a", "sub"), { recursive: true });
		python.run(
			`import h5py, numpy as np\nfor p in ["a/sub/t.h5", "outside.h5"]:\n    with h5py.File(INPUT + "/" + p, "w") as f:\n        f["v"] = np.arange(3)\nwith h5py.File(INPUT + "/a/src.h5", "w") as f:\n    f["inside"] = h5py.ExternalLink("sub/t.h5", "/v")\n    f["up"] = h5py.ExternalLink("../outside.h5", "/v")\n    f["abs"] = h5py.ExternalLink(INPUT + "/outside.h5", "/v")\nprint("null")`,
			tmp.path,
		);
		const src = tmp.join("a", "src.h5");
		const opts = { followExternalLinks: true };
		const inside = await openDriver(src, "/inside", "r", opts);
		expect(
			Array.from(new BigInt64Array((await readAll(inside)).buffer)),
		).toEqual([0n, 1n, 2n]);
		await inside.close();
		expect(await code(openDriver(src, "/up", "r", opts))).toBe(
			"INVALID_SELECTION",
		);
		expect(await code(openDriver(src, "/abs", "r", opts))).toBe(
			"INVALID_SELECTION",
		);
		expect(await code(openDriver(src, "/inside"))).toBe("UNSUPPORTED");
		const c = await hdf5Adapter.openContainer?.(src, { mode: "r" });
		expect((await c?.list("", true))?.map((e) => [e.path, e.kind])).toEqual([
			["abs", "externalLink"],
			["inside", "externalLink"],
			["up", "externalLink"],
		]);
		await c?.close();
	});
	it("creates patched datasets inside an existing superblock-3 file; special attributes in dense storage are refused", async () => {
		await using tmp = await tempDir();
		const file = tmp.join("v110.h5");
		copyFileSync(fixture("libver_v110.h5"), file);
		const d = await hdf5Adapter.create?.(
			file,
			createOpts("/new/x", "<f2", [10], {
				chunks: [4],
				codecs: [{ name: "shuffle" }, { name: "gzip" }],
				fillValue: 1.5,
				attrs: { flag: true, none: null },
			}),
		);
		await d?.write?.(
			{ start: [0], shape: [2] },
			Uint8Array.of(0, 0x3c, 0, 0x40),
		);
		await d?.close();
		const c = await hdf5Adapter.openContainer?.(file, { mode: "r+" });
		expect(
			await code(c?.setAttrs?.("g", { b: [true, false] }) ?? Promise.resolve()),
		).toBe("UNSUPPORTED");
		await c?.setAttrs?.("g", { plain: 2.5 });
		await c?.close();
		for (const py of [python, pythonLegacy].filter((p) => p.has("h5py"))) {
			const seen = py.run<unknown>(
				`import h5py\nwith h5py.File(INPUT) as f:\n    d = f["new/x"]\n    print(json.dumps([d[()].tolist(), d.dtype.str, [d.id.get_create_plist().get_filter(i)[0] for i in range(d.id.get_create_plist().get_nfilters())], float(d.fillvalue), bool(d.attrs["flag"]), float(f["g"].attrs["plain"]), int(f["g"].attrs["k"]), "b" in f["g"].attrs]))`,
				file,
			);
			expect(seen).toEqual([
				[1, 2, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5],
				"<f2",
				[2, 1],
				1.5,
				true,
				2.5,
				1,
				false,
			]);
		}
	});
});
