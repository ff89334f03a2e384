import { join } from "node:path";
import { FORMATS_DIR, formatsManifest, sha256 } from "@arraystore/conformance";
import { isBigEndian, parseDType, swapInPlace } from "@arraystore/core";
import { createRegistry } from "@arraystore/core/node";
import { describe, expect, it } from "vitest";
import { npyAdapter } from "../src/index.js";

const registry = createRegistry([npyAdapter]);
const entries = formatsManifest().arrays.filter((a) => a.format === "npy");

describe("npy: fixtures", () => {
	for (const mmap of [true, false]) {
		it.each(entries.map((e) => [e.id, e] as const))(
			`reads %s (mmap ${mmap}) with the manifest's hashes`,
			async (_id, entry) => {
				await using store = await registry.open(join(FORMATS_DIR, entry.file), {
					adapterOptions: { mmap },
				});
				expect(store.format).toBe("npy");
				expect(store.info.shape).toEqual(entry.shape);
				expect(store.info.order).toBe(entry.order);
				expect(store.info.byteOffset).toBe(
					(entry.details as { data_offset: number }).data_offset,
				);
				expect(store.info.dtype.itemsize).toBe(entry.itemsize);
				if (entry.descr === undefined)
					expect(store.info.dtype.str).toBe(entry.dtype);
				const all = await store.read();
				expect(sha256(all.bytes)).toBe(entry.sha256_le);
				// Back to the stored byte order: the manifest's sha256.
				const stored = all.bytes.slice();
				if (isBigEndian(store.info.dtype))
					swapInPlace(store.info.dtype, stored);
				expect(sha256(stored)).toBe(entry.sha256);
			},
		);
	}

	it("reads a slice of an F-order file in C order", async () => {
		const entry = entries.find((e) => e.id === "npy/fortran_4x6_f8");
		if (!entry) throw new Error("fixture missing");
		await using store = await registry.open(join(FORMATS_DIR, entry.file));
		const row = await store.read([0]);
		expect(Array.from(row.data as Float64Array).slice(0, 6)).toEqual(
			entry.first_values.slice(0, 6),
		);
	});

	it("applies adapterOptions.maxHeaderBytes", async () => {
		const file = join(FORMATS_DIR, "npy/version2_header_over_64k.npy");
		await expect(
			registry.open(file, { adapterOptions: { maxHeaderBytes: 10_000 } }),
		).rejects.toMatchObject({ code: "LIMIT_EXCEEDED" });
		await expect(
			registry.open(file, { adapterOptions: { maxHeaderBytes: "big" } }),
		).rejects.toMatchObject({ code: "UNSUPPORTED" });
		await using ok = await registry.open(file);
		expect(ok.info.dtype.fields?.length).toBe(4000);
	});

	it("refuses a caller dtype that contradicts the header", async () => {
		const file = join(FORMATS_DIR, "npy/dtype_float32.npy");
		await expect(
			registry.open(file, { dtype: parseDType("<i8") }),
		).rejects.toMatchObject({ code: "DTYPE_MISMATCH" });
		await expect(registry.open(file, { shape: [2, 2] })).rejects.toMatchObject({
			code: "SHAPE_MISMATCH",
		});
	});

	it("rejects writes in mode r", async () => {
		await using store = await registry.open(
			join(FORMATS_DIR, "npy/dtype_float32.npy"),
		);
		expect(
			"write" in store &&
				typeof (store as unknown as { write?: unknown }).write === "function",
		).toBe(true);
		await expect(
			(
				store as unknown as { write(s: unknown, v: unknown): Promise<void> }
			).write([0, 0], 1),
		).rejects.toMatchObject({
			code: "READ_ONLY",
		});
	});
});
