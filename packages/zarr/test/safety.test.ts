import { readdir, readFile, writeFile } from "node:fs/promises";
import { tempDir } from "@arraystore/conformance";
import { isArrayStoreError, parseDType } from "@arraystore/core";
import { describe, expect, it } from "vitest";
import { parseJson, stringifyJson } from "../src/json.js";
import { livePools } from "../src/worker-pool.js";
import { createZarr, openZarr } from "./helpers.js";

const u32 = (b: Uint8Array) => [
	...new Uint32Array(b.buffer, b.byteOffset, b.byteLength / 4),
];

describe("zarr: concurrent writes", () => {
	for (const [label, codecs, zarrFormat] of [
		["v2 zstd", [{ name: "zstd" }], 2],
		[
			"v3 blosc",
			[{ name: "blosc", config: { cname: "lz4", shuffle: "shuffle" } }],
			3,
		],
		[
			"v3 sharded",
			[
				{
					name: "sharding_indexed",
					config: { chunk_shape: [8, 8], codecs: [{ name: "gzip" }] },
				},
			],
			3,
		],
	] as const) {
		it(`loses no update when many partial writes hit one chunk (${label})`, async () => {
			await using tmp = await tempDir();
			// inlineBytes 0: every chunk goes through the worker pool.
			await using a = await createZarr(tmp.join("c.zarr"), {
				dtype: "<u4",
				shape: [32, 32],
				chunks: [32, 32],
				codecs: codecs as never,
				adapterOptions: { zarrFormat, workers: 2, inlineBytes: 0 },
			});
			// 64 concurrent writes of 4×4 tiles and 32 of single rows, all into the same chunk/shard.
			const writes: Promise<void>[] = [];
			for (let t = 0; t < 64; t++) {
				const r = (t >> 3) * 4;
				const c = (t & 7) * 4;
				const tile = new Uint32Array(16).map(
					(_, k) => (r + (k >> 2)) * 32 + c + (k & 3) + 1,
				);
				writes.push(
					a.write(
						[
							{ start: r, stop: r + 4 },
							{ start: c, stop: c + 4 },
						],
						tile,
					),
				);
			}
			await Promise.all(writes);
			expect(u32((await a.read()).bytes)).toEqual(
				Array.from({ length: 1024 }, (_, i) => i + 1),
			);
			await Promise.all(
				Array.from({ length: 32 }, (_, r) =>
					a.write([r], new Uint32Array(32).fill(r * 1000)),
				),
			);
			expect(u32((await a.read()).bytes)).toEqual(
				Array.from({ length: 1024 }, (_, i) => (i >> 5) * 1000),
			);
		});
	}

	it("ends its worker pool when the last array closes", async () => {
		await using tmp = await tempDir();
		const a = await createZarr(tmp.join("p.zarr"), {
			dtype: "<f8",
			shape: [64, 64],
			chunks: [32, 32],
			adapterOptions: { workers: 3, inlineBytes: 0 },
		});
		await a.write([], new Float64Array(64 * 64).fill(1.5));
		const b = await openZarr(tmp.join("p.zarr"), "", "r", {
			workers: 3,
			inlineBytes: 0,
		});
		expect(new Float64Array((await b.read()).bytes.buffer)[100]).toBe(1.5);
		const before = livePools();
		await a.close();
		expect(livePools()).toBe(before);
		await b.close();
		expect(livePools()).toBe(before - 1);
	});
});

describe("zarr: atomic writes", () => {
	it("leaves no temporary files behind", async () => {
		await using tmp = await tempDir();
		await using a = await createZarr(tmp.join("t.zarr"), {
			dtype: "<i2",
			shape: [10, 10],
			chunks: [3, 3],
			adapterOptions: { zarrFormat: 2 },
		});
		await a.write([], new Int16Array(100).fill(7));
		const names = await readdir(tmp.join("t.zarr"));
		expect(names.filter((n) => n.includes("partial"))).toEqual([]);
		expect(names.filter((n) => /^\d\.\d$/.test(n)).length).toBe(16);
	});
});

async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
	const err = await p.then(
		() => undefined,
		(e: unknown) => e,
	);
	expect(isArrayStoreError(err), String(err)).toBe(true);
	expect((err as { code: string }).code).toBe(code);
}

describe("zarr: errors", () => {
	it("names an unavailable codec", async () => {
		await using tmp = await tempDir();
		const root = tmp.join("u.zarr");
		await (
			await createZarr(root, {
				dtype: "<i4",
				shape: [4],
				chunks: [2],
				adapterOptions: { zarrFormat: 2 },
			})
		).close();
		const meta = JSON.parse(await readFile(`${root}/.zarray`, "utf8"));
		await writeFile(
			`${root}/.zarray`,
			JSON.stringify({ ...meta, compressor: { id: "bz3000", level: 1 } }),
		);
		const err = await openZarr(root).catch((e: unknown) => e);
		expect(err).toMatchObject({ code: "UNSUPPORTED_CODEC", codec: "bz3000" });
	});

	it("refuses codecs it cannot write, naming them", async () => {
		await using tmp = await tempDir();
		await expect(
			createZarr(tmp.join("w.zarr"), {
				dtype: "<i4",
				shape: [4],
				codecs: [{ name: "zlib" }],
				adapterOptions: { zarrFormat: 3 },
			}),
		).rejects.toMatchObject({ code: "UNSUPPORTED_CODEC", codec: "zlib" });
		await expect(
			createZarr(tmp.join("w.zarr"), {
				dtype: "<i4",
				shape: [4],
				codecs: [{ name: "blosc", config: { cname: "snappy" } }],
			}),
		).rejects.toMatchObject({ code: "UNSUPPORTED_CODEC" });
	});

	it("reports corrupt chunks and checksums as MALFORMED", async () => {
		await using tmp = await tempDir();
		for (const [name, codecs, key] of [
			["z", [{ name: "zstd" }], "c/0"],
			["k", [{ name: "crc32c" }], "c/0"],
			["b", [{ name: "blosc" }], "c/0"],
			[
				"s",
				[
					{
						name: "sharding_indexed",
						config: { chunk_shape: [4], codecs: [] },
					},
				],
				"c/0",
			],
		] as const) {
			const root = tmp.join(`${name}.zarr`);
			{
				await using a = await createZarr(root, {
					dtype: "<f8",
					shape: [8],
					chunks: [8],
					codecs: codecs as never,
				});
				await a.write(
					[],
					new Float64Array(8).map((_, i) => i + 0.5),
				);
			}
			const p = `${root}/${key}`;
			const b = await readFile(p);
			// zstd without a checksum cannot notice flipped data bytes: break its frame header.
			// A shard's inner chunks here have no checksum; its index has one.
			const at =
				name === "z"
					? 4
					: name === "s"
						? b.length - 10
						: Math.min(b.length - 1, 20);
			b.writeUInt8((b[at] ?? 0) ^ 0xff, at);
			if (name === "b") b.writeUInt32LE(1 << 30, 4); // blosc header: absurd decoded size
			await writeFile(p, b);
			await using a = await openZarr(root);
			await expectCode(a.read(), "MALFORMED").catch((e: unknown) => {
				throw new Error(`${name}: ${String(e)}`);
			});
		}
	});

	it("rejects truncated shards and uncompressed chunks of the wrong size", async () => {
		await using tmp = await tempDir();
		const root = tmp.join("t.zarr");
		{
			await using a = await createZarr(root, {
				dtype: "<i4",
				shape: [8],
				chunks: [8],
				codecs: [
					{
						name: "sharding_indexed",
						config: { chunk_shape: [2], codecs: [] },
					},
				],
			});
			await a.write([], new Int32Array(8).fill(3));
		}
		await writeFile(
			`${root}/c/0`,
			(await readFile(`${root}/c/0`)).subarray(0, 10),
		);
		await using a = await openZarr(root);
		await expectCode(a.read(), "MALFORMED");
		const raw = tmp.join("r.zarr");
		{
			await using b = await createZarr(raw, {
				dtype: "<i4",
				shape: [8],
				chunks: [4],
				codecs: [],
				adapterOptions: { zarrFormat: 2 },
			});
			await b.write([], new Int32Array(8).fill(3));
		}
		await writeFile(`${raw}/0`, Buffer.alloc(5));
		await using b = await openZarr(raw);
		await expectCode(b.read(), "MALFORMED");
	});

	it("reports bad metadata as MALFORMED and unknown versions as UNSUPPORTED_VERSION", async () => {
		await using tmp = await tempDir();
		const root = tmp.join("m.zarr");
		await (
			await createZarr(root, { dtype: "<i4", shape: [4], chunks: [2] })
		).close();
		await writeFile(
			`${root}/zarr.json`,
			'{"zarr_format": 3, "node_type": "array", "shape": [4',
		);
		await expectCode(openZarr(root), "MALFORMED");
		await writeFile(
			`${root}/zarr.json`,
			JSON.stringify({
				zarr_format: 3,
				node_type: "array",
				shape: [4],
				data_type: "int32",
				chunk_grid: { name: "regular", configuration: { chunk_shape: [1e12] } },
				chunk_key_encoding: { name: "default" },
				fill_value: 0,
				codecs: [{ name: "bytes" }],
			}),
		);
		await expectCode(openZarr(root), "MALFORMED");
		await writeFile(
			`${root}/zarr.json`,
			JSON.stringify({ zarr_format: 4, node_type: "array" }),
		);
		await expectCode(openZarr(root), "UNSUPPORTED_VERSION");
	});

	it("keeps paths inside the store", async () => {
		await using tmp = await tempDir();
		const root = tmp.join("p.zarr");
		await (
			await createZarr(root, { dtype: "<i4", shape: [4], chunks: [2] })
		).close();
		await expectCode(openZarr(root, "../p.zarr"), "INVALID_SELECTION");
		await expectCode(openZarr(root, "a/\0b"), "INVALID_SELECTION");
		await expectCode(
			createZarr(root, { dtype: "<i4", shape: [4], path: "x/../../y" }),
			"INVALID_SELECTION",
		);
	});

	it("refuses writes in mode r, exclusive replacement and replacing a foreign directory", async () => {
		await using tmp = await tempDir();
		const root = tmp.join("r.zarr");
		await (
			await createZarr(root, { dtype: "<i4", shape: [4], chunks: [2] })
		).close();
		await using a = await openZarr(root);
		await expectCode(a.write([0], 1), "READ_ONLY");
		await expectCode(
			createZarr(root, { dtype: "<i4", shape: [4], exclusive: true }),
			"ALREADY_EXISTS",
		);
		await writeFile(tmp.join("notes.txt"), "keep me");
		await expectCode(
			createZarr(tmp.path, { dtype: "<i4", shape: [4] }),
			"ALREADY_EXISTS",
		);
		expect(await readFile(tmp.join("notes.txt"), "utf8")).toBe("keep me");
		await expectCode(
			createZarr(tmp.join("v3.zarr"), {
				dtype: "<M8[s]",
				shape: [4],
				adapterOptions: { zarrFormat: 3 },
			}),
			"UNSUPPORTED_DTYPE",
		);
	});
});

describe("zarr: fill values", () => {
	it("parses fill values as zarr-python writes them, without precision loss", async () => {
		await using tmp = await tempDir();
		const cases: [string, 2 | 3, unknown, unknown][] = [
			["<u8", 2, 18446744073709551615n, 18446744073709551615n],
			["<i8", 3, -9223372036854775808n, -9223372036854775808n],
			["<f4", 2, "NaN", Number.NaN],
			["<f8", 3, "-Infinity", Number.NEGATIVE_INFINITY],
			["<f4", 3, "0x7fc00000", Number.NaN],
			["<c16", 3, [1.5, "Infinity"], [1.5, Number.POSITIVE_INFINITY]],
			["<c8", 2, [0.25, -1], [0.25, -1]],
			["|S3", 2, "YWJj", "abc"],
			["<U2", 2, "hé", "hé"],
			["<M8[s]", 2, "NaT", -9223372036854775808n],
			["|b1", 3, true, true],
		];
		for (const [i, [dtype, fmt, json, want]] of cases.entries()) {
			const root = tmp.join(`f${i}.zarr`);
			await (
				await createZarr(root, {
					dtype,
					shape: [3],
					chunks: [2],
					adapterOptions: { zarrFormat: fmt },
				})
			).close();
			const file = fmt === 2 ? `${root}/.zarray` : `${root}/zarr.json`;
			const doc = parseJson(await readFile(file, "utf8")) as Record<
				string,
				unknown
			>;
			await writeFile(file, stringifyJson({ ...doc, fill_value: json }));
			await using a = await openZarr(root);
			expect(a.info.fillValue, `${dtype} ${String(json)}`).toEqual(want);
			const first = await a.read([0]);
			expect(first.bytes.length).toBe(parseDType(dtype).itemsize);
		}
	});

	it("writes a valid fill value for every numeric v3 type", async () => {
		await using tmp = await tempDir();
		for (const dtype of ["|b1", "|i1", "<u8", "<f2", "<f8", "<c8"]) {
			const root = tmp.join(`${dtype.replace(/\W/g, "")}.zarr`);
			await (await createZarr(root, { dtype, shape: [2] })).close();
			const meta = JSON.parse(await readFile(`${root}/zarr.json`, "utf8"));
			expect(meta.fill_value).not.toBeNull();
			expect(meta.fill_value).toBeDefined();
		}
	});
});

describe("zarr: flush and abort", () => {
	it("flushes durably and honours an aborted signal", async () => {
		await using tmp = await tempDir();
		await using a = await createZarr(tmp.join("d.zarr"), {
			dtype: "<f4",
			shape: [8, 8],
			chunks: [4, 4],
		});
		await a.write([], new Float32Array(64).fill(2));
		await a.flush({ durable: true });
		const ctl = new AbortController();
		ctl.abort();
		await expect(a.read([], { signal: ctl.signal })).rejects.toMatchObject({
			name: "AbortError",
		});
		await expect(a.write([], 1, { signal: ctl.signal })).rejects.toMatchObject({
			name: "AbortError",
		});
		expect(new Float32Array((await a.read()).bytes.buffer)[63]).toBe(2);
	});
});

describe("zarr: two stores on one array", () => {
	it("serialise their read-modify-writes of shared chunks", async () => {
		await using tmp = await tempDir();
		const root = tmp.join("two.zarr");
		await (
			await createZarr(root, {
				dtype: "<u2",
				shape: [40],
				chunks: [40],
				codecs: [{ name: "gzip" }],
			})
		).close();
		await using a = await openZarr(root, "", "r+");
		await using b = await openZarr(root, "", "r+");
		await Promise.all(
			Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).write([i], i + 1)),
		);
		await using c = await openZarr(root);
		expect([...new Uint16Array((await c.read()).bytes.buffer)]).toEqual(
			Array.from({ length: 40 }, (_, i) => i + 1),
		);
	});
});
