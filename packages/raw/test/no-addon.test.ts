// What users without a compiler get: mmap-io fails to load, the adapter falls back to
// positional I/O and says so through capabilities.zeroCopy.
import { copyFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import {
	FORMATS_DIR,
	fingerprint,
	formatsManifest,
	sha256,
	tempDir,
} from "@arraystore/conformance";
import { parseDType } from "@arraystore/core";
import { describe, expect, it, vi } from "vitest";
import { mmapLoadFailure, openRawRegion, rawAdapter } from "../src/index.js";

vi.mock("mmap-io", () => {
	throw new Error("simulated: the mmap-io addon was not built");
});

describe("raw: without the mmap-io addon", () => {
	it("opens through positional I/O and reports zeroCopy false", async () => {
		const entry = formatsManifest().arrays.find((a) => a.id === "raw/i2_20x30");
		const file = join(FORMATS_DIR, "raw/i2_20x30.dat");
		const d = await openRawRegion(file, {
			mode: "r",
			dtype: parseDType("<i2"),
			shape: [20, 30],
			order: "C",
			offset: 0,
		});
		expect(d.mapped).toBe(false);
		expect(mmapLoadFailure()).toBeDefined();
		expect(rawAdapter.capabilities.zeroCopy).toBe(false);
		const out = new Uint8Array(1200);
		await d.read({ start: [0, 0], shape: [20, 30] }, out);
		expect(sha256(out)).toBe(entry?.sha256);
		await d.close();
	});

	it("keeps mode c private and r+ persistent", async () => {
		await using tmp = await tempDir();
		const file = tmp.join("a.dat");
		await copyFile(join(FORMATS_DIR, "raw/i2_20x30.dat"), file);
		await copyFile(join(FORMATS_DIR, "raw/i2_20x30.dat.json"), `${file}.json`);
		const before = await fingerprint(file);
		const c = await rawAdapter.open(file, {
			mode: "c",
			path: "",
			adapterOptions: {},
		});
		await c.write?.(
			{ start: [0, 0], shape: [1, 2] },
			new Uint8Array([1, 2, 3, 4]),
		);
		const out = new Uint8Array(4);
		await c.read({ start: [0, 0], shape: [1, 2] }, out);
		expect([...out]).toEqual([1, 2, 3, 4]);
		await c.close();
		expect(await fingerprint(file)).toBe(before);
		const w = await rawAdapter.open(file, {
			mode: "r+",
			path: "",
			adapterOptions: {},
		});
		await w.write?.({ start: [19, 29], shape: [1, 1] }, new Uint8Array([9, 8]));
		await w.close();
		expect([...new Uint8Array(await readFile(file)).subarray(1198)]).toEqual([
			9, 8,
		]);
	});
});
