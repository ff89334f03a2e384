import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { python, skipNote, tempDir } from "@arraystore/conformance";
import { createRegistry } from "@arraystore/core/node";
import { describe, expect, it } from "vitest";
import { npyAdapter, npzAdapter, openNpz } from "../src/index.js";

const registry = createRegistry([npyAdapter, npzAdapter]);
const hasNumpy = python.has("numpy");

describe("npz: broken archives", () => {
	async function ours(
		dir: string,
		compression: "stored" | "deflated",
	): Promise<string> {
		const file = join(dir, `${compression}.npz`);
		await using npz = await registry.openContainer(file, {
			mode: "w+",
			adapterOptions: { compression },
		});
		await using x = await npz.createArray("x", { dtype: "<f8", shape: [64] });
		await x.write(
			[],
			new Float64Array(64).map((_, i) => i * 0.5),
		);
		return file;
	}

	async function readX(file: string): Promise<unknown> {
		const npz = await openNpz(file, "r");
		try {
			const d = await npz.openArray("x", {
				mode: "r",
				path: "x",
				adapterOptions: {},
			});
			const out = new Uint8Array(
				d.info.shape.reduce((a, b) => a * b, 1) * d.info.dtype.itemsize,
			);
			await d.read(
				{ start: d.info.shape.map(() => 0), shape: d.info.shape },
				out,
			);
			await d.close();
			return out;
		} finally {
			await npz.close();
		}
	}

	function patch(file: string, fn: (b: Buffer) => void): void {
		const b = readFileSync(file);
		fn(b);
		writeFileSync(file, b);
	}

	it.each([
		["not a zip", "MALFORMED", (b: Buffer) => b.fill(0x41)],
		[
			"a bad local header signature",
			"MALFORMED",
			(b: Buffer) => b.writeUInt32LE(0x12345678, 0),
		],
		[
			"an encrypted member",
			"UNSUPPORTED",
			(b: Buffer) =>
				b.writeUInt16LE(
					1,
					b.lastIndexOf(Buffer.from("PK\x01\x02", "latin1")) + 8,
				),
		],
		[
			"an unknown method",
			"UNSUPPORTED_CODEC",
			(b: Buffer) =>
				b.writeUInt16LE(
					12,
					b.lastIndexOf(Buffer.from("PK\x01\x02", "latin1")) + 10,
				),
		],
		[
			"a local header offset past the directory",
			"MALFORMED",
			(b: Buffer) =>
				b.writeUInt32LE(
					0x7fffffff,
					b.lastIndexOf(Buffer.from("PK\x01\x02", "latin1")) + 42,
				),
		],
		[
			"a directory past its end record",
			"MALFORMED",
			(b: Buffer) => b.writeUInt32LE(b.length, b.length - 6),
		],
		[
			"an entry count the directory cannot hold",
			"MALFORMED",
			(b: Buffer) => {
				b.writeUInt16LE(500, b.length - 14);
				b.writeUInt16LE(500, b.length - 12);
			},
		],
	] as const)("refuses %s (stored)", async (_name, code, fn) => {
		await using tmp = await tempDir();
		const file = await ours(tmp.path, "stored");
		patch(file, fn);
		await expect(readX(file)).rejects.toMatchObject({ code });
	});

	it("detects corrupt deflate data, CRC mismatches and lying sizes", async () => {
		await using tmp = await tempDir();
		const file = await ours(tmp.path, "deflated");
		const good = readFileSync(file);
		const cd = good.lastIndexOf(Buffer.from("PK\x01\x02", "latin1"));
		// CRC field in both headers.
		patch(file, (b) => {
			b.writeUInt32LE((b.readUInt32LE(cd + 16) ^ 1) >>> 0, cd + 16);
		});
		await expect(readX(file)).rejects.toMatchObject({ code: "MALFORMED" });
		// Uncompressed size larger than deflate could produce from the compressed size.
		writeFileSync(file, good);
		patch(file, (b) => b.writeUInt32LE(0x7fffffff, cd + 24));
		await expect(readX(file)).rejects.toMatchObject({ code: "MALFORMED" });
		// Garbage in the deflate stream.
		writeFileSync(file, good);
		patch(file, (b) => b.fill(0xff, 40, 60));
		const outcome = await readX(file).then(
			() => "ok",
			(err: { code?: string }) => err.code,
		);
		expect(["MALFORMED", "TRUNCATED"]).toContain(outcome);
	});

	it("refuses object arrays inside an archive", async () => {
		if (!hasNumpy)
			return skipNote("npz object arrays", python.missing("numpy"));
		await using tmp = await tempDir();
		const file = tmp.join("o.npz");
		python.run(
			`import numpy as np\nnp.savez(INPUT, x=np.array([1, "a", None], dtype=object))\nprint("null")`,
			file,
		);
		await expect(readX(file)).rejects.toMatchObject({
			code: "UNSUPPORTED_DTYPE",
		});
		expect(statSync(file).size).toBeGreaterThan(0);
	});

	it("sniffs zip magic only with the .npz extension", () => {
		const head = Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0, 0]);
		const probe = {
			path: "a.npz",
			extension: ".npz",
			size: 6,
			isDirectory: false,
			head,
			entries: [],
			hasSidecar: false,
			signatures: new Map(),
		};
		expect(npzAdapter.sniff?.(probe)).toBe(true);
		expect(
			npzAdapter.sniff?.({ ...probe, path: "a.zip", extension: ".zip" }),
		).toBe(false);
		expect(npyAdapter.sniff?.(probe)).toBe(false);
	});
});
