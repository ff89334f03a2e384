import { join } from "node:path";
import { FORMATS_DIR, formatsManifest, sha256 } from "@arraystore/conformance";
import {
	isBigEndian,
	parseDType,
	swapInPlace,
	typedView,
	withByteOrder,
} from "@arraystore/core";
import { describe, expect, it } from "vitest";
import { openRawRegion } from "../src/index.js";
import { adapterFor, IO_PATHS, naiveBox, reorder } from "./helpers.js";

const entries = formatsManifest().arrays.filter((a) => a.format === "raw");

describe("raw: fixtures", () => {
	it("the manifest lists raw fixtures (C and F order, big-endian with an offset)", () => {
		expect(entries.length).toBeGreaterThanOrEqual(5);
		expect(entries.some((e) => e.order === "F")).toBe(true);
		expect(
			entries.some(
				(e) => e.dtype.startsWith(">") && (e.details?.offset as number) > 0,
			),
		).toBe(true);
	});

	for (const io of IO_PATHS) {
		for (const entry of entries) {
			const file = join(FORMATS_DIR, entry.file);
			const dtype = parseDType(entry.dtype);
			const nbytes = entry.shape.reduce((a, b) => a * b, 1) * dtype.itemsize;

			it(`${io.name}: reads ${entry.id} from its sidecar and matches sha256 and sha256_le`, async () => {
				const driver = await adapterFor(io.mmap).open(file, {
					mode: "r",
					path: "",
					adapterOptions: {},
				});
				try {
					expect(driver.info.dtype.str).toBe(dtype.str);
					expect(driver.info.shape).toEqual(entry.shape);
					expect(driver.info.order).toBe(entry.order);
					expect(driver.info.byteOffset).toBe(entry.details?.offset);
					expect(driver.info.chunks).toBeNull();
					const stored = new Uint8Array(nbytes);
					await driver.read(
						{ start: entry.shape.map(() => 0), shape: entry.shape },
						stored,
					);
					// `sha256` hashes the logical array in C order, in the listed dtype's byte order.
					const logical =
						entry.order === "F"
							? reorder(stored, entry.shape, dtype.itemsize, "F")
							: stored;
					expect(sha256(logical)).toBe(entry.sha256);
					const le = logical.slice();
					if (isBigEndian(dtype)) swapInPlace(dtype, le);
					expect(sha256(le)).toBe(entry.sha256_le);
					const view = typedView(
						withByteOrder(dtype, "<"),
						le,
					) as ArrayLike<number>;
					const values = Array.from(view).slice(0, entry.first_values.length);
					expect(values).toEqual(entry.first_values);
				} finally {
					await driver.close();
				}
			});

			it(`${io.name}: reads boxes of ${entry.id} with the manifest's explicit layout`, async () => {
				const driver = await openRawRegion(file, {
					mode: "r",
					dtype,
					shape: entry.shape,
					order: entry.order,
					offset: entry.details?.offset as number,
					mmap: io.mmap,
				});
				try {
					const full = new Uint8Array(nbytes);
					await driver.read(
						{ start: entry.shape.map(() => 0), shape: entry.shape },
						full,
					);
					const logical =
						entry.order === "F"
							? reorder(full, entry.shape, dtype.itemsize, "F")
							: full;
					expect(sha256(logical)).toBe(entry.sha256);
					// Boxes come back in storage order of the box: check a few against the verified whole.
					const n = entry.shape.length;
					const boxes = [
						{
							start: entry.shape.map(() => 0),
							shape: entry.shape.map((s) => Math.min(s, 1)),
						},
						{
							start: entry.shape.map((s) => Math.floor(s / 3)),
							shape: entry.shape.map((s) => Math.max(1, Math.floor(s / 2))),
						},
						{
							start: entry.shape.map((s, d) => (d === n - 1 ? s - 1 : 0)),
							shape: entry.shape.map((s, d) => (d === n - 1 ? 1 : s)),
						},
						{
							start: entry.shape.map(() => 0),
							shape: entry.shape.map((s, d) =>
								d === 0 ? s : Math.max(1, s - 1),
							),
						},
					];
					for (const box of boxes) {
						const out = new Uint8Array(
							box.shape.reduce((a, b) => a * b, 1) * dtype.itemsize,
						);
						await driver.read(box, out);
						expect(out).toEqual(
							naiveBox(
								full,
								entry.shape,
								dtype.itemsize,
								entry.order,
								box.start,
								box.shape,
							),
						);
					}
				} finally {
					await driver.close();
				}
			});
		}
	}
});
