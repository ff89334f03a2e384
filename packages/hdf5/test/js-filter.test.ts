// The JavaScript deflate filter: the committed side module is what h5z-plugin.ts assembles;
// our shuffle equals HDF5's (chunks h5py stored); gzip (+ shuffle) datasets written through it
// read back in h5py as ordinary gzip (+ shuffle) datasets, also after partial-chunk writes,
// mid-write flushes and a crash; the filter refuses bad input without throwing through HDF5.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { python, skipNote, tempDir } from "@arraystore/conformance";
import { isArrayStoreError, parseDType, shapeSize } from "@arraystore/core";
import { describe, expect, it } from "vitest";
import { pluginBytes } from "../src/h5z-plugin.js";
import { hdf5Adapter } from "../src/index.js";
import {
	decodeChunk,
	encodeChunk,
	filterImports,
	jsFilterStats,
} from "../src/js-filter.js";
import { loadH5 } from "../src/module.js";
import { shuffle, unshuffle } from "../src/shuffle.js";
import { createOpts, openDriver, readAll } from "./helpers.js";

const sha = (b: Uint8Array): string =>
	createHash("sha256").update(b).digest("hex");

describe("hdf5: JavaScript filter plumbing", () => {
	it("ships the side module h5z-plugin.ts assembles, and it is valid wasm", () => {
		const file = new URL("../plugin/libH5Zarraystore.so", import.meta.url);
		const bytes = pluginBytes();
		expect(sha(readFileSync(file))).toBe(sha(bytes));
		// This package's TypeScript libs do not declare WebAssembly.
		const wasm = (
			globalThis as unknown as {
				WebAssembly: {
					Module: {
						new (b: Uint8Array): object;
						exports(m: object): { name: string }[];
					};
				};
			}
		).WebAssembly;
		const mod = new wasm.Module(bytes);
		expect(wasm.Module.exports(mod).map((e) => e.name)).toEqual([
			"H5PLget_plugin_type",
			"H5PLget_plugin_info",
		]);
	});

	it("refuses a nodeDeflate option that is not a boolean before creating anything", async () => {
		await using tmp = await tempDir();
		const file = join(tmp.path, "bad.h5");
		const err = await hdf5Adapter
			.create?.(
				file,
				createOpts("/x", parseDType("<f4"), [10], {
					chunks: [5],
					codecs: [{ name: "gzip" }],
					adapterOptions: { nodeDeflate: "yes" },
				}),
			)
			.catch((e: unknown) => e);
		expect(isArrayStoreError(err, "UNSUPPORTED")).toBe(true);
		expect(existsSync(file)).toBe(false);
	});

	it("is registered with HDF5 when h5wasm loads", async () => {
		const rt = await loadH5();
		expect(rt.jsFilter).toBe(true);
		expect(rt.filters.get(511)).toBe("arraystore-deflate");
	});

	it("round-trips chunks and refuses corrupt input with a failure status", async () => {
		const raw = Uint8Array.from({ length: 4099 }, (_, i) => (i * 31) % 251);
		for (const size of [0, 1, 2, 3, 4, 8])
			expect(sha(decodeChunk(encodeChunk(raw, 1, size), size))).toBe(sha(raw));
		expect(sha(unshuffle(shuffle(raw, 4), 4))).toBe(sha(raw));
		const { api } = await loadH5();
		const f = filterImports(api);
		// cd values [level 1, shuffle 4]; buffer of garbage; pointers to it.
		const p = api._malloc(64);
		const dv = new DataView(api.HEAPU8.buffer);
		dv.setUint32(p, 1, true);
		dv.setUint32(p + 4, 4, true);
		const buf = api._malloc(16);
		api.HEAPU8.fill(7, buf, buf + 16);
		dv.setUint32(p + 8, 16, true); // *buf_size
		dv.setUint32(p + 12, buf, true); // *buf
		const failed = jsFilterStats().failed;
		expect(f.arraystore_h5z_filter(0x100, 2, p, 16, p + 8, p + 12)).toBe(0);
		expect(f.arraystore_h5z_filter(0, 1, p, 16, p + 8, p + 12)).toBe(0);
		expect(jsFilterStats().failed).toBe(failed + 2);
		api._free(buf);
		api._free(p);
	});
});

const SHUFFLED = `
import h5py, numpy as np
out = {}
with h5py.File(INPUT, "w") as f:
    for name, dt in [("i2", "<i2"), ("f4", "<f4"), ("f8", "<f8"), ("c16", "<c16"), ("s3", "S3")]:
        a = np.random.default_rng(3).integers(0, 256, 24 * 10 * np.dtype(dt).itemsize, dtype="u1").view(dt).reshape(24, 10)
        d = f.create_dataset(name, data=a, chunks=(8, 10), shuffle=True)
        out[name] = {"raw": np.ascontiguousarray(a[:8]).tobytes().hex(), "stored": d.id.read_direct_chunk((0, 0))[1].hex(), "size": np.dtype(dt).itemsize}
print(json.dumps(out))
`;

const hex = (s: string): Uint8Array =>
	Uint8Array.from(s.match(/../g) ?? [], (h) => Number.parseInt(h, 16));

// Values written in blocks that cut chunks, so HDF5 reads chunks back (decode) before rewriting.
function values(n: number): Float32Array {
	return Float32Array.from(
		{ length: n },
		(_, i) => Math.round(Math.sin(i * 0.001) * 4096) / 8 + (i % 7),
	);
}

const CHECK = `
import h5py, numpy as np, hashlib
with h5py.File(INPUT["file"], "r") as f:
    out = {}
    for k in f:
        d = f[k]
        out[k] = {"sha": hashlib.sha256(np.ascontiguousarray(d[()]).tobytes()).hexdigest(), "compression": d.compression, "opts": d.compression_opts, "shuffle": d.shuffle, "ids": [d.id.get_create_plist().get_filter(i)[0] for i in range(d.id.get_create_plist().get_nfilters())]}
print(json.dumps(out))
`;

type Seen = Record<
	string,
	{
		sha: string;
		compression: string | null;
		opts: number | null;
		shuffle: boolean;
		ids: number[];
	}
>;

describe.skipIf(!python.has("h5py"))(
	"hdf5: datasets written through the JavaScript deflate",
	() => {
		if (!python.has("h5py"))
			skipNote("hdf5 JavaScript deflate", python.missing("h5py"));

		it("shuffles chunks exactly as HDF5 does", async () => {
			await using tmp = await tempDir();
			const got = python.run<
				Record<string, { raw: string; stored: string; size: number }>
			>(SHUFFLED, join(tmp.path, "s.h5"));
			for (const [name, g] of Object.entries(got)) {
				expect({ name, bytes: sha(shuffle(hex(g.raw), g.size)) }).toEqual({
					name,
					bytes: sha(hex(g.stored)),
				});
				expect(sha(unshuffle(hex(g.stored), g.size))).toBe(sha(hex(g.raw)));
			}
		});

		it("writes gzip and shuffle + gzip datasets h5py reads as such, with edge chunks and partial-chunk writes", async () => {
			await using tmp = await tempDir();
			const file = join(tmp.path, "js.h5");
			const [R, C, K] = [37, 45, 29];
			const shape = [R, C, K];
			const data = values(shapeSize(shape));
			const bytes = new Uint8Array(data.buffer);
			const before = jsFilterStats();
			const cases = [
				{
					name: "sg",
					codecs: [{ name: "shuffle" }, { name: "gzip", config: { level: 1 } }],
				},
				{ name: "g6", codecs: [{ name: "gzip", config: { level: 6 } }] },
			];
			for (const c of cases) {
				const d = await hdf5Adapter.create?.(
					file,
					createOpts(`/${c.name}`, parseDType("<f4"), shape, {
						chunks: [8, 16, 29],
						codecs: c.codecs,
					}),
				);
				if (!d?.write) throw new Error("no create");
				// Row blocks of 5 cut the 8-row chunks: every chunk is written twice.
				const row = C * K * 4;
				for (let r = 0; r < R; r += 5) {
					const n = Math.min(5, R - r);
					await d.write(
						{ start: [r, 0, 0], shape: [n, C, K] },
						bytes.subarray(r * row, (r + n) * row),
					);
				}
				// One more pass of whole chunks, encoded ahead in the thread pool.
				await d.write({ start: [0, 0, 0], shape }, bytes);
				expect(sha(await readAll(d))).toBe(sha(bytes));
				await d.close();
			}
			const after = jsFilterStats();
			expect(after.taken).toBeGreaterThan(before.taken);
			expect(after.encoded).toBeGreaterThan(before.encoded);
			expect(after.decoded).toBeGreaterThan(before.decoded);
			expect(after.failed).toBe(before.failed);
			const seen = python.run<Seen>(CHECK, { file });
			expect(seen.sg).toEqual({
				sha: sha(bytes),
				compression: "gzip",
				opts: 1,
				shuffle: true,
				ids: [2, 1],
			});
			expect(seen.g6).toEqual({
				sha: sha(bytes),
				compression: "gzip",
				opts: 6,
				shuffle: false,
				ids: [1],
			});
			// Our reader sees the standard pipeline too.
			const d = await openDriver(file, "/sg");
			try {
				expect(d.info.codecs).toEqual([
					{ name: "shuffle", config: { elementsize: 4 } },
					{ name: "gzip", config: { level: 1 } },
				]);
				expect(sha(await readAll(d))).toBe(sha(bytes));
			} finally {
				await d.close();
			}
		});

		it("leaves a standard file at every flush and keeps writing after it", async () => {
			await using tmp = await tempDir();
			const file = join(tmp.path, "flush.h5");
			const shape = [64, 300];
			const data = new Uint8Array(values(shapeSize(shape)).buffer);
			const half = data.length / 2;
			const d = await hdf5Adapter.create?.(
				file,
				createOpts("/x", parseDType("<f4"), shape, {
					chunks: [16, 100],
					codecs: [{ name: "shuffle" }, { name: "gzip", config: { level: 1 } }],
				}),
			);
			if (!d?.write || !d.flush) throw new Error("no create");
			try {
				await d.write(
					{ start: [0, 0], shape: [32, 300] },
					data.subarray(0, half),
				);
				await d.flush({ durable: true });
				const expected = new Uint8Array(data.length);
				expected.set(data.subarray(0, half));
				const mid = python.run<Seen>(CHECK, { file });
				expect(mid.x?.sha).toBe(sha(expected));
				expect(mid.x?.ids).toEqual([2, 1]);
				await d.write(
					{ start: [32, 0], shape: [32, 300] },
					data.subarray(half),
				);
			} finally {
				await d.close();
			}
			const end = python.run<Seen>(CHECK, { file });
			expect(end.x?.sha).toBe(sha(data));
			expect(end.x?.ids).toEqual([2, 1]);
		});

		it("writes through HDF5's own deflate with adapterOptions.nodeDeflate false", async () => {
			await using tmp = await tempDir();
			const file = join(tmp.path, "native.h5");
			const data = new Uint8Array(values(40 * 50).buffer);
			const before = jsFilterStats();
			const d = await hdf5Adapter.create?.(
				file,
				createOpts("/x", parseDType("<f4"), [40, 50], {
					chunks: [10, 50],
					codecs: [{ name: "shuffle" }, { name: "gzip", config: { level: 1 } }],
					adapterOptions: { nodeDeflate: false },
				}),
			);
			if (!d?.write) throw new Error("no create");
			await d.write({ start: [0, 0], shape: [40, 50] }, data);
			await d.close();
			const after = jsFilterStats();
			expect(after.taken + after.encoded).toBe(before.taken + before.encoded);
			const seen = python.run<Seen>(CHECK, { file });
			expect(seen.x?.sha).toBe(sha(data));
			expect(seen.x?.ids).toEqual([2, 1]);
		});

		it("recovers a file left with the transient pipeline by a crash", async () => {
			await using tmp = await tempDir();
			const file = join(tmp.path, "crash.h5");
			const script = join(tmp.path, "crash.mjs");
			writeFileSync(script, CRASH);
			const code = await runChild(script, { FILE: file });
			expect(code).toBe(0);
			const data = new Uint8Array(values(48 * 64).buffer);
			// h5py cannot decode it: the pipeline still names the JavaScript filter.
			const ids = python.run<number[]>(
				`import h5py\nwith h5py.File(INPUT, "r") as f:\n    p = f["x"].id.get_create_plist()\n    print(json.dumps([p.get_filter(i)[0] for i in range(p.get_nfilters())]))`,
				file,
			);
			expect(ids).toEqual([511]);
			{
				const d = await openDriver(file, "/x");
				expect(sha(await readAll(d))).toBe(sha(data));
				await d.close();
			}
			// Opening it for writing adopts the dataset; closing finalises the pipeline.
			const w = await openDriver(file, "/x", "r+");
			await w.close();
			const seen = python.run<Seen>(CHECK, { file });
			expect(seen.x?.sha).toBe(sha(data));
			expect(seen.x?.ids).toEqual([2, 1]);
		});
	},
);

// A writer that "crashes": HDF5 flushes its metadata (as a durable flush would) but the
// process exits before the pipeline is finalised.
const CRASH = `
const src = process.env.ARRAYSTORE_SRC_DIR;
const { hdf5Adapter } = await import(src + "/index.ts");
const { loadH5 } = await import(src + "/module.ts");
const { H5File } = await import(src + "/file-handle.ts");
const { parseDType } = await import(process.env.ARRAYSTORE_CORE);
const data = Float32Array.from({ length: 48 * 64 }, (_, i) => Math.round(Math.sin(i * 0.001) * 4096) / 8 + (i % 7));
const d = await hdf5Adapter.create(process.env.FILE, {
	path: "/x", dtype: parseDType("<f4"), shape: [48, 64], order: "C", offset: 0, exclusive: false,
	chunks: [16, 32], codecs: [{ name: "shuffle" }, { name: "gzip", config: { level: 1 } }], adapterOptions: {},
});
await d.write({ start: [0, 0], shape: [48, 64] }, new Uint8Array(data.buffer));
const f = H5File.acquire(await loadH5(), process.env.FILE, "a", process.env.FILE);
f.call("flush", (api, id) => api.flush(id));
process.exit(0);
`;

function runChild(
	script: string,
	env: Record<string, string>,
): Promise<number | null> {
	const register = fileURLToPath(new URL("./ts-register.mjs", import.meta.url));
	const srcDir = fileURLToPath(new URL("../src", import.meta.url));
	return new Promise((resolve) => {
		const child = spawn(
			process.execPath,
			["--conditions=@arraystore/source", "--import", register, script],
			{
				env: {
					...process.env,
					...env,
					ARRAYSTORE_SRC_DIR: srcDir,
					ARRAYSTORE_CORE: fileURLToPath(
						new URL(
							"../node_modules/@arraystore/core/src/index.ts",
							import.meta.url,
						),
					),
				},
				stdio: ["ignore", "inherit", "inherit"],
				cwd: fileURLToPath(new URL("..", import.meta.url)),
			},
		);
		const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
		child.on("exit", (code) => {
			clearTimeout(timer);
			resolve(code);
		});
	});
}
