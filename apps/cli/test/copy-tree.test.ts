import { existsSync } from "node:fs";
import { join } from "node:path";
import {
	FORMATS_DIR,
	formatsManifest,
	PICKLE_DIR,
	python,
	sha256,
	skipNote,
	tempDir,
} from "@arraystore/conformance";
import {
	copyTree,
	isArrayStoreError,
	planTree,
	shapeSize,
} from "@arraystore/core";
import { describe, expect, it } from "vitest";
import { builtinRegistry } from "../src/adapters.js";
import { plainAttrs, registry } from "./helpers.js";

const manifest = formatsManifest();

describe("copy: copyTree", () => {
	it("carries groups, attributes and arrays of an HDF5 hierarchy into Zarr", async () => {
		await using tmp = await tempDir();
		await using src = await registry.openContainer(
			join(FORMATS_DIR, "hdf5/hierarchy.h5"),
		);
		await using dst = await registry.openContainer(tmp.join("h.zarr"), {
			mode: "w+",
			format: "zarr",
		});
		const report = await copyTree(src, dst, {});
		expect(report.notCarried).toEqual([]);
		await dst.close();
		await using out = await registry.openContainer(tmp.join("h.zarr"));
		const groups = manifest.groups.filter(
			(g) => g.file === "hdf5/hierarchy.h5",
		);
		expect(groups.length).toBeGreaterThan(1);
		for (const g of groups) {
			const path = String(g.path).replace(/^\//, "");
			expect(
				plainAttrs(await out.attrs(path)),
				`attributes of ${path || "/"}`,
			).toEqual(g.attributes);
		}
		for (const a of manifest.arrays.filter(
			(x) => x.file === "hdf5/hierarchy.h5",
		)) {
			const arr = await out.openArray(String(a.dataset).replace(/^\//, ""));
			expect(sha256((await arr.read()).bytes), a.id).toBe(a.sha256_le);
			expect(plainAttrs(await arr.attrs())).toEqual(a.attributes);
			await arr.close();
		}
	});

	it("copies soft links once as arrays and reports external links unless asked to follow them", async () => {
		await using tmp = await tempDir();
		await using src = await registry.openContainer(
			join(FORMATS_DIR, "hdf5/links.h5"),
		);
		await using dst = await registry.openContainer(tmp.join("l.zarr"), {
			mode: "w+",
			format: "zarr",
		});
		const report = await copyTree(src, dst, {});
		expect(
			report.notCarried.map((n) => [n.path.replace(/^\//, ""), n.what]),
		).toEqual([["external", "external link"]]);
		const links = manifest.arrays.filter(
			(x) => x.file === "hdf5/links.h5" && x.dataset !== "/external",
		);
		expect(report.plan.arrays.map((a) => a.target).sort()).toEqual(
			links.map((a) => String(a.dataset).replace(/^\//, "")).sort(),
		);
		for (const a of links) {
			const arr = await dst.openArray(String(a.dataset).replace(/^\//, ""));
			expect(sha256((await arr.read()).bytes), a.id).toBe(a.sha256_le);
			await arr.close();
		}

		await using src2 = await registry.openContainer(
			join(FORMATS_DIR, "hdf5/links.h5"),
			{
				adapterOptions: { followExternalLinks: true },
			},
		);
		await using dst2 = await registry.openContainer(tmp.join("l2.zarr"), {
			mode: "w+",
			format: "zarr",
		});
		const followed = await copyTree(src2, dst2, { followExternalLinks: true });
		expect(followed.notCarried).toEqual([]);
		const ext = manifest.arrays.find(
			(x) => x.file === "hdf5/links.h5" && x.dataset === "/external",
		);
		const arr = await dst2.openArray("external");
		expect(sha256((await arr.read()).bytes)).toBe(ext?.sha256_le);
		await arr.close();
	});

	describe.skipIf(!python.has("numpy", "h5py"))("with h5py", () => {
		it("never loops on soft links that point back up the tree", async () => {
			await using tmp = await tempDir();
			python.run(
				`import h5py, numpy as np
with h5py.File(INPUT, "w") as f:
    g = f.create_group("g")
    g["x"] = np.arange(5, dtype="<i2")
    g["up"] = h5py.SoftLink("/")
    g["self"] = h5py.SoftLink("/g")
    f["again"] = h5py.SoftLink("/g/x")
print("null")`,
				tmp.join("cycle.h5"),
			);
			await using src = await registry.openContainer(tmp.join("cycle.h5"));
			await using dst = await registry.openContainer(tmp.join("c.zarr"), {
				mode: "w+",
				format: "zarr",
			});
			const report = await copyTree(src, dst, {});
			expect(report.plan.arrays.map((a) => a.target).sort()).toEqual([
				"again",
				"g/x",
			]);
			expect(
				report.notCarried.map((n) => n.path.replace(/^\//, "")).sort(),
			).toEqual(["g/self", "g/up"]);
		});
	});
	if (!python.has("numpy", "h5py"))
		skipNote("copy: soft-link cycles", python.missing("numpy", "h5py"));

	it("turns a pickle's plain values into attributes and nested dicts into groups", async () => {
		await using tmp = await tempDir();
		await using src = await registry.openContainer(
			join(PICKLE_DIR, "legacy/np2_dict_p4.pkl"),
		);
		const zarr2 = builtinRegistry({ zarrFormat: 2 });
		await using dst = await zarr2.openContainer(tmp.join("p.zarr"), {
			mode: "w+",
			format: "zarr",
			adapterOptions: { zarrFormat: 2 },
		});
		await copyTree(src, dst, {});
		const root = plainAttrs(await dst.attrs(""));
		expect(root.int).toBe(7);
		expect(root.str).toBe("hello é");
		expect(root.list).toEqual([1, 2.5, "x", null]);
		expect(plainAttrs(await dst.attrs("nested")).meta).toEqual({
			k: "v",
			n: [1, 2],
		});
		const inner = await dst.openArray("nested/inner");
		expect(sha256((await inner.read()).bytes)).toBe(
			"90c2698921ca9fd02950be353f721888760e33ab5095a21e50f1e4360b6de1a0",
		);
		await inner.close();
	});

	it("refuses several arrays into a single-array format, listing them", async () => {
		await using src = await registry.openContainer(
			join(FORMATS_DIR, "hdf5/multi.h5"),
		);
		const err = await planTree(src, registry.get("npy")).catch(
			(e: unknown) => e,
		);
		expect(isArrayStoreError(err, "UNSUPPORTED")).toBe(true);
		expect((err as Error).message).toMatch(/grid.*series|series.*grid/);
	});

	it("refuses a dtype the target cannot express while planning, naming the array", async () => {
		await using tmp = await tempDir();
		await using src = await registry.openContainer(
			join(PICKLE_DIR, "legacy/np2_dict_p4.pkl"),
		);
		const err = await planTree(src, registry.get("hdf5")).catch(
			(e: unknown) => e,
		);
		expect(isArrayStoreError(err, "UNSUPPORTED_DTYPE")).toBe(true);
		expect((err as Error).message).toContain("unicode_U3");
		expect(existsSync(tmp.join("never.h5"))).toBe(false);
	});

	it("plans chunks that fit the budget and names a root array after the source", async () => {
		await using src = await registry.openContainer(
			join(FORMATS_DIR, "npy/large_1024x1024_f4.npy"),
		);
		const plan = await planTree(src, registry.get("hdf5"), {
			maxMemory: 48 * 1024 * 1024,
			rootName: "large",
		});
		const a = plan.arrays[0];
		expect(a?.target).toBe("large");
		expect(shapeSize(a?.chunks ?? []) * 4).toBeLessThanOrEqual(
			a?.plan.budget.maxBlockBytes ?? 0,
		);
		expect(plan.peakMemory).toBeLessThanOrEqual(48 * 1024 * 1024);
	});
});
