// Every HDF5 dataset, group, attribute and link of fixtures/formats/MANIFEST.json, read
// through the driver and compared with what h5py wrote (sha256 of the values).
import { join } from "node:path";
import { isArrayStoreError, isVString } from "@arraystore/core";
import { describe, expect, it } from "vitest";
import {
	FORMATS_DIR,
	formatsManifest,
	sha256,
} from "../../conformance/src/fixtures.js";
import { hdf5Adapter } from "../src/index.js";
import {
	attrJson,
	openDriver,
	readAll,
	readAllStrings,
	scalarJson,
	vlenHashInput,
} from "./helpers.js";

const manifest = formatsManifest();
const arrays = manifest.arrays.filter((a) => a.format === "hdf5");
const groups = manifest.groups.filter(
	(g) => g.format === "hdf5",
) as unknown as {
	file: string;
	path: string;
	attributes: Record<string, unknown>;
	members: { name: string; kind: string }[];
}[];
const links = manifest.links.filter((l) => l.format === "hdf5") as unknown as {
	file: string;
	path: string;
	type: string;
	target: string;
}[];

describe("hdf5: fixture datasets", () => {
	it("lists at least the expected fixtures", () => {
		expect(arrays.length).toBeGreaterThan(40);
	});
	for (const a of arrays) {
		const isExternal = links.some(
			(l) => l.file === a.file && l.path === a.dataset && l.type === "external",
		);
		const blocked =
			a.codecs !== null &&
			(
				a.codecs as { filter_pipeline?: { id: number }[] }
			).filter_pipeline?.some((f) => f.id === 32000) === true;
		it(`reads ${a.id} (${a.dtype} ${JSON.stringify(a.shape)})`, async () => {
			const d = await openDriver(
				join(FORMATS_DIR, a.file),
				a.dataset ?? "",
				"r",
				isExternal ? { followExternalLinks: true } : {},
			);
			try {
				expect(d.info.dtype.str).toBe(a.dtype);
				expect(d.info.shape).toEqual(a.shape);
				expect(d.info.chunks).toEqual(a.chunks);
				if (isVString(d.info.dtype)) {
					expect(sha256(vlenHashInput(await readAllStrings(d)))).toBe(a.sha256);
				} else {
					expect(sha256(await readAll(d))).toBe(a.sha256);
				}
				expect(scalarJson(d.info.fillValue)).toEqual(a.fill_value);
				const attrs = await d.attrs?.();
				expect(
					Object.fromEntries(
						Object.entries(attrs ?? {}).map(([k, v]) => [k, attrJson(v)]),
					),
				).toEqual(a.attributes);
			} finally {
				await d.close();
			}
		});
		void blocked;
	}
});

describe("hdf5: fixture groups and links", () => {
	for (const g of groups) {
		it(`lists ${g.file}#${g.path}`, async () => {
			const c = await hdf5Adapter.openContainer?.(join(FORMATS_DIR, g.file), {
				mode: "r",
			});
			if (!c) throw new Error("no container");
			try {
				const rel = g.path === "/" ? "" : g.path.slice(1);
				const entries = await c.list(rel, false);
				const kinds: Record<string, string> = {
					group: "group",
					array: "dataset",
					softLink: "soft_link",
					externalLink: "external_link",
				};
				expect(
					entries.map((e) => ({
						name: e.path.slice(rel === "" ? 0 : rel.length + 1),
						kind: kinds[e.kind],
					})),
				).toEqual(g.members);
				const attrs = await c.attrs(g.path);
				expect(
					Object.fromEntries(
						Object.entries(attrs).map(([k, v]) => [k, attrJson(v)]),
					),
				).toEqual(g.attributes);
			} finally {
				await c.close();
			}
		});
	}
	for (const l of links) {
		it(`reports the ${l.type} link ${l.file}#${l.path}`, async () => {
			const c = await hdf5Adapter.openContainer?.(join(FORMATS_DIR, l.file), {
				mode: "r",
			});
			if (!c) throw new Error("no container");
			try {
				const all = await c.list("", true);
				const e = all.find((x) => `/${x.path}` === l.path);
				expect(e?.kind).toBe(l.type === "soft" ? "softLink" : "externalLink");
				if (l.type === "soft") expect(e?.target).toBe(l.target);
				else expect(e?.target).toContain(l.target);
			} finally {
				await c.close();
			}
		});
	}
	it("refuses to follow an external link unless allowed", async () => {
		const file = join(FORMATS_DIR, "hdf5/links.h5");
		const err = await openDriver(file, "/external").catch((e: unknown) => e);
		expect(isArrayStoreError(err, "UNSUPPORTED")).toBe(true);
		expect(String(err)).toMatch(/followExternalLinks/);
	});
	it("refuses an LZF dataset without the plugin? no: reads it through h5wasm-plugins", async () => {
		const d = await openDriver(join(FORMATS_DIR, "hdf5/filters.h5"), "/lzf");
		expect(d.info.codecs.map((c) => c.name)).toEqual(["lzf"]);
		await d.close();
	});
});
