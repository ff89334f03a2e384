import { existsSync } from "node:fs";
import { tempDir } from "@arraystore/conformance";
import { parseDType } from "@arraystore/core";
import { createRegistry } from "@arraystore/core/node";
import { describe, expect, it } from "vitest";
import { hdf5Adapter } from "../src/index.js";

describe("hdf5: dtype limits", () => {
	it("refuses a record too large for one header message before creating anything", async () => {
		// The npy fixture version2_header_over_64k has 4000 fields; HDF5 cannot describe it.
		const fields = Array.from({ length: 4000 }, (_, i) => [`f${i}`, "<f4"]);
		const dtype = parseDType(fields as never);
		expect(hdf5Adapter.checkDType(dtype).ok).toBe(false);
		await using tmp = await tempDir();
		const target = tmp.join("big.h5");
		await expect(
			createRegistry([hdf5Adapter]).create(target, { dtype, shape: [2] }),
		).rejects.toMatchObject({ code: "UNSUPPORTED_DTYPE" });
		expect(existsSync(target)).toBe(false);
	});
	it("still accepts records of a few hundred fields", () => {
		const fields = Array.from({ length: 300 }, (_, i) => [`field_${i}`, "<f8"]);
		expect(hdf5Adapter.checkDType(parseDType(fields as never)).ok).toBe(true);
	});
});
