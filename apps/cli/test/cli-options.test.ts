import { existsSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import { FORMATS_DIR, sha256, tempDir } from "@arraystore/conformance";
import { describe, expect, it } from "vitest";
import { runCli } from "../src/cli.js";
import { makeArray, registry } from "./helpers.js";

async function run(
	args: string[],
): Promise<{ code: number; out: string; err: string }> {
	let out = "";
	let err = "";
	const sink = (add: (s: string) => void) =>
		new Writable({
			write(chunk, _enc, cb) {
				add(String(chunk));
				cb();
			},
		});
	const code = await runCli(args, {
		stdout: sink((s) => {
			out += s;
		}),
		stderr: sink((s) => {
			err += s;
		}),
		isTTY: false,
		env: {},
		signal: new AbortController().signal,
	});
	return { code, out, err };
}

async function hashOf(target: string): Promise<string> {
	await using a = await registry.open(target);
	return sha256((await a.read()).bytes);
}

describe("cli: output options", () => {
	it("casts with --dtype (safe casts only, lossy ones with --unsafe-cast)", async () => {
		await using tmp = await tempDir();
		await makeArray(tmp.join("a.npy"), "<i2", [50, 4], (i) => i * 100 - 2000);
		expect(
			(
				await run([
					tmp.join("a.npy"),
					tmp.join("f.npy"),
					"--dtype",
					"float64",
					"-q",
				])
			).code,
		).toBe(0);
		await using f = await registry.open(tmp.join("f.npy"));
		expect(f.info.dtype.str).toBe("<f8");
		expect(
			Array.from(((await f.read([0])).data as Float64Array).slice(0, 4)),
		).toEqual([-2000, -1900, -1800, -1700]);
		const lossy = await run([
			tmp.join("f.npy"),
			tmp.join("i.npy"),
			"--dtype",
			"i1",
		]);
		expect(lossy.code).toBe(1);
		expect(lossy.err).toMatch(/^convert: UNSUPPORTED_DTYPE: .*--unsafe-cast/);
		expect(existsSync(tmp.join("i.npy"))).toBe(false);
		expect(
			(
				await run([
					tmp.join("f.npy"),
					tmp.join("i.npy"),
					"--dtype",
					"i1",
					"--unsafe-cast",
					"-q",
				])
			).code,
		).toBe(0);
		await using i = await registry.open(tmp.join("i.npy"));
		expect((await i.read([0, 0])).data[0]).toBe(48); // -2000 wraps to 48 in int8, as numpy's astype
	});

	it("writes Zarr v3 shards (--shards with inner --chunks) and refuses them for v2", async () => {
		await using tmp = await tempDir();
		await makeArray(tmp.join("a.npy"), "<f4", [200, 130], (i) => i / 7);
		const r = await run([
			tmp.join("a.npy"),
			tmp.join("s.zarr"),
			"--shards",
			"100,130",
			"--chunks",
			"25,65",
			"--codec",
			"zstd:3",
			"-q",
		]);
		expect(r.code, r.err).toBe(0);
		const meta = JSON.parse(
			readFileSync(tmp.join("s.zarr/zarr.json"), "utf8"),
		) as {
			chunk_grid: { configuration: { chunk_shape: number[] } };
			codecs: {
				name: string;
				configuration: { chunk_shape: number[]; codecs: { name: string }[] };
			}[];
		};
		expect(meta.chunk_grid.configuration.chunk_shape).toEqual([100, 130]);
		expect(meta.codecs[0]?.name).toBe("sharding_indexed");
		expect(meta.codecs[0]?.configuration.chunk_shape).toEqual([25, 65]);
		expect(meta.codecs[0]?.configuration.codecs.map((c) => c.name)).toContain(
			"zstd",
		);
		expect(await hashOf(tmp.join("s.zarr"))).toBe(
			await hashOf(tmp.join("a.npy")),
		);
		expect(
			(
				await run([
					tmp.join("a.npy"),
					tmp.join("v2.zarr"),
					"--shards",
					"100,130",
					"--zarr-version",
					"2",
				])
			).code,
		).toBe(2);
	});

	it("applies --codec and --chunks to HDF5 and Zarr v2 outputs", async () => {
		await using tmp = await tempDir();
		await makeArray(tmp.join("a.npy"), "<i4", [300, 40], (i) => i % 97);
		expect(
			(
				await run([
					tmp.join("a.npy"),
					tmp.join("g.h5"),
					"--codec",
					"shuffle,gzip:6",
					"--chunks",
					"50,40",
					"-q",
				])
			).code,
		).toBe(0);
		await using g = await registry.open(`${tmp.join("g.h5")}#/a`);
		expect(g.info.chunks).toEqual([50, 40]);
		expect(g.info.codecs.map((c) => c.name)).toEqual(["shuffle", "gzip"]);
		expect(await hashOf(`${tmp.join("g.h5")}#/a`)).toBe(
			await hashOf(tmp.join("a.npy")),
		);
		expect(
			(
				await run([
					tmp.join("a.npy"),
					tmp.join("b.zarr"),
					"--codec",
					"blosc:lz4:5:shuffle",
					"--zarr-version",
					"2",
					"-q",
				])
			).code,
		).toBe(0);
		const zarray = JSON.parse(
			readFileSync(tmp.join("b.zarr/.zarray"), "utf8"),
		) as { compressor: Record<string, unknown> };
		expect(zarray.compressor).toMatchObject({
			id: "blosc",
			cname: "lz4",
			clevel: 5,
			shuffle: 1,
		});
		expect(await hashOf(tmp.join("b.zarr"))).toBe(
			await hashOf(tmp.join("a.npy")),
		);
	});

	it("stores in F order with --order F", async () => {
		await using tmp = await tempDir();
		await makeArray(tmp.join("a.npy"), "<u2", [6, 9], (i) => i);
		expect(
			(await run([tmp.join("a.npy"), tmp.join("f.npy"), "--order", "F", "-q"]))
				.code,
		).toBe(0);
		await using f = await registry.open(tmp.join("f.npy"));
		expect(f.info.order).toBe("F");
		expect(await hashOf(tmp.join("f.npy"))).toBe(
			await hashOf(tmp.join("a.npy")),
		);
	});

	it("reads raw input from --dtype/--shape/--offset and writes raw output with its sidecar", async () => {
		await using tmp = await tempDir();
		const bytes = new Uint8Array(16 + 6 * 4);
		new DataView(bytes.buffer).setInt32(16, -5, false);
		await writeFile(tmp.join("in.bin"), bytes);
		const r = await run([
			tmp.join("in.bin"),
			tmp.join("o.npy"),
			"--dtype",
			">i4",
			"--shape",
			"2,3",
			"--offset",
			"16",
			"-q",
		]);
		expect(r.code, r.err).toBe(0);
		await using o = await registry.open(tmp.join("o.npy"));
		expect(o.info.dtype.str).toBe(">i4");
		expect((await o.read([0, 0])).data[0]).toBe(-5);
		expect(
			(await run([tmp.join("o.npy"), tmp.join("back.dat"), "-q"])).code,
		).toBe(0);
		expect(
			JSON.parse(readFileSync(tmp.join("back.dat.json"), "utf8")),
		).toMatchObject({ shape: [2, 3], order: "C" });
		expect(existsSync(tmp.join("back.dat.partial.json"))).toBe(false);
		expect(await hashOf(tmp.join("back.dat"))).toBe(
			await hashOf(tmp.join("o.npy")),
		);
	});

	it("picks and renames arrays with --dataset/--name, and lists them when a single-array format needs one", async () => {
		await using tmp = await tempDir();
		const multi = join(FORMATS_DIR, "hdf5/multi.h5");
		const many = await run([multi, tmp.join("x.npy")]);
		expect(many.code).toBe(1);
		expect(many.err).toMatch(
			/^convert: UNSUPPORTED: .*one array.*grid.*series.*--dataset/,
		);
		expect(
			(await run([multi, tmp.join("x.npy"), "--dataset", "/grid", "-q"])).code,
		).toBe(0);
		expect(await hashOf(tmp.join("x.npy"))).toBe(
			await hashOf(`${multi}#/grid`),
		);
		expect(
			(
				await run([
					multi,
					tmp.join("r.h5"),
					"--dataset",
					"/grid",
					"--name",
					"renamed/g",
					"-q",
				])
			).code,
		).toBe(0);
		await using r = await registry.openContainer(tmp.join("r.h5"));
		expect(
			(await r.list("", { recursive: true })).map((e) =>
				e.path.replace(/^\//, ""),
			),
		).toEqual(["renamed", "renamed/g"]);
	});
});
