import { mkdir, writeFile } from "node:fs/promises";
import type { ArrayAdapter, Probe } from "@arraystore/core";
import { createRegistry } from "@arraystore/core/node";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../conformance/src/index.js"; // no package dependency: conformance depends on core

const caps: ArrayAdapter["capabilities"] = {
	modes: ["r"],
	orders: ["C"],
	byteOrders: ["<"],
	chunked: false,
	codecs: [],
	attributes: "none",
	hierarchy: "none",
	needsLayout: false,
	resize: false,
	zeroCopy: false,
};
const fake = (
	name: string,
	extensions: string[],
	sniff?: (p: Probe) => boolean,
	createExtensions: string[] = [],
): ArrayAdapter => ({
	name,
	extensions,
	createExtensions,
	capabilities: caps,
	sniff,
	checkDType: () => ({ ok: true }),
	open: async () => {
		throw new Error("not used");
	},
});
const head = (p: Probe, bytes: number[]) =>
	bytes.every((b, i) => p.head[i] === b);

describe("core: registry", () => {
	const npyish = fake("npyish", [".npy"], (p) => head(p, [0x93, 0x4e]), [
		".npy",
	]);
	const h5ish = fake(
		"h5ish",
		[".h5"],
		(p) =>
			head(p, [0x89, 0x48]) ||
			[...p.signatures.values()].some((s) => s[0] === 0x89 && s[1] === 0x48),
	);
	const rawish = fake("rawish", [".dat"], (p) => p.hasSidecar, [".dat"]);
	const zarrish = fake(
		"zarrish",
		[".zarr"],
		(p) => p.isDirectory && p.entries.includes("zarr.json"),
	);
	const registry = createRegistry([npyish, h5ish, rawish, zarrish]);

	it("detects by magic bytes before extension, and finds HDF5 after a user block", async () => {
		await using tmp = await tempDir();
		await writeFile(tmp.join("x.h5"), new Uint8Array([0x93, 0x4e, 0, 0]));
		expect((await registry.resolve(tmp.join("x.h5"))).adapter.name).toBe(
			"npyish",
		);
		const ub = new Uint8Array(600);
		ub.set([0x89, 0x48], 512);
		await writeFile(tmp.join("y.bin"), ub);
		expect((await registry.resolve(tmp.join("y.bin"))).adapter.name).toBe(
			"h5ish",
		);
	});
	it("falls back to the extension, and uses marker files for directories and sidecars for raw", async () => {
		await using tmp = await tempDir();
		await writeFile(tmp.join("plain.dat"), new Uint8Array(8));
		expect((await registry.resolve(tmp.join("plain.dat"))).adapter.name).toBe(
			"rawish",
		);
		await writeFile(tmp.join("other.xyz"), new Uint8Array(8));
		await writeFile(tmp.join("other.xyz.json"), "{}");
		expect((await registry.resolve(tmp.join("other.xyz"))).adapter.name).toBe(
			"rawish",
		);
		await mkdir(tmp.join("s.zarr"));
		await writeFile(tmp.join("s.zarr", "zarr.json"), "{}");
		expect((await registry.resolve(tmp.join("s.zarr"))).adapter.name).toBe(
			"zarrish",
		);
	});
	it("is an error, not a guess, when two sniffers match or none does", async () => {
		await using tmp = await tempDir();
		await writeFile(tmp.join("both"), new Uint8Array([0x93, 0x4e]));
		await writeFile(tmp.join("both.json"), "{}");
		await expect(registry.resolve(tmp.join("both"))).rejects.toMatchObject({
			code: "AMBIGUOUS_FORMAT",
		});
		await writeFile(tmp.join("mystery.qqq"), new Uint8Array(4));
		await expect(
			registry.resolve(tmp.join("mystery.qqq")),
		).rejects.toMatchObject({ code: "NO_ADAPTER" });
		await expect(
			registry.resolve(tmp.join("absent.npy")),
		).rejects.toMatchObject({ code: "NOT_FOUND" });
		expect(() => registry.get("nope")).toThrow(
			expect.objectContaining({ code: "NO_ADAPTER" }),
		);
	});
	it("splits file#inner at the last # whose left part exists", async () => {
		await using tmp = await tempDir();
		await writeFile(tmp.join("a#b.h5"), new Uint8Array([0x89, 0x48]));
		const r = await registry.resolve(`${tmp.join("a#b.h5")}#/grp/x#y`);
		expect(r.file).toBe(tmp.join("a#b.h5"));
		expect(r.inner).toBe("/grp/x#y");
	});
	it("creates by extension only and refuses read-only formats", () => {
		expect(registry.forCreate("out.npy").name).toBe("npyish");
		expect(() => registry.forCreate("out.h5")).toThrow(
			expect.objectContaining({ code: "UNSUPPORTED" }),
		);
		expect(() => registry.forCreate("out.qqq")).toThrow(
			expect.objectContaining({ code: "NO_ADAPTER" }),
		);
	});
});
