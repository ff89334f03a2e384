import { mkdir, writeFile } from "node:fs/promises";
import { tempDir } from "@arraystore/conformance";
import { describe, expect, it } from "vitest";
import { openZarr } from "./helpers.js";

// Stores spelled as the zarr-python 3.1 docs and the zarr-extensions registry spell them
// (tensorstore reads none of these types, so we read them but never write them).
async function store(
	root: string,
	dataType: unknown,
	fill: unknown,
	chunk: Uint8Array,
	endian = "little",
): Promise<void> {
	await mkdir(`${root}/c`, { recursive: true });
	const meta = {
		zarr_format: 3,
		node_type: "array",
		shape: [2],
		data_type: dataType,
		chunk_grid: { name: "regular", configuration: { chunk_shape: [2] } },
		chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
		fill_value: fill,
		codecs: [{ name: "bytes", configuration: { endian } }],
		attributes: {},
	};
	await writeFile(`${root}/zarr.json`, JSON.stringify(meta));
	await writeFile(`${root}/c/0`, chunk);
}

describe("zarr: v3 extension data types (read)", () => {
	it("reads null_terminated_bytes, fixed_length_utf32, time types, records and raw bits", async () => {
		await using tmp = await tempDir();
		const be32 = (...cps: number[]) =>
			Buffer.concat(
				cps.map((c) =>
					Buffer.from([c >>> 24, (c >>> 16) & 255, (c >>> 8) & 255, c & 255]),
				),
			);
		const cases: [
			string,
			unknown,
			unknown,
			Uint8Array,
			string,
			unknown,
			string?,
		][] = [
			[
				"S",
				{ name: "null_terminated_bytes", configuration: { length_bytes: 3 } },
				"AAAA",
				Buffer.from("abcde\0"),
				"|S3",
				"",
			],
			[
				"U",
				{ name: "fixed_length_utf32", configuration: { length_bytes: 8 } },
				"",
				be32(0x68, 0x69, 0xe9, 0),
				">U2",
				"",
				"big",
			],
			[
				"m",
				{
					name: "numpy.timedelta64",
					configuration: { unit: "ms", scale_factor: 10 },
				},
				"NaT",
				Buffer.alloc(16, 1),
				"<m8[10ms]",
				-9223372036854775808n,
			],
			[
				"M",
				{
					name: "numpy.datetime64",
					configuration: { unit: "D", scale_factor: 1 },
				},
				0,
				Buffer.alloc(16, 2),
				"<M8[D]",
				0n,
			],
			[
				"rec",
				{
					name: "structured",
					configuration: {
						fields: [
							["a", "int16"],
							["b", "uint8"],
						],
					},
				},
				"AQAC",
				Buffer.from([1, 0, 2, 3, 0, 4]),
				"|V3",
				{ a: 1, b: 2 },
			],
			[
				"struct",
				{
					name: "struct",
					configuration: { fields: [{ name: "a", data_type: "uint8" }] },
				},
				{ a: 7 },
				Buffer.from([9, 8]),
				"|V1",
				{ a: 7 },
			],
			[
				"r16",
				"r16",
				[0, 255],
				Buffer.from([1, 2, 3, 4]),
				"|V2",
				new Uint8Array([0, 255]),
			],
		];
		for (const [name, dataType, fill, chunk, str, wantFill, endian] of cases) {
			const root = tmp.join(`${name}.zarr`);
			await store(root, dataType, fill, chunk, endian);
			await using a = await openZarr(root);
			expect(a.info.dtype.str, name).toBe(str);
			if (wantFill !== "") expect(a.info.fillValue, name).toEqual(wantFill);
			const got = Buffer.from((await a.read()).bytes);
			const want = Buffer.from(chunk);
			if (endian === "big")
				expect(
					got.equals(
						Buffer.from([
							0x68, 0, 0, 0, 0x69, 0, 0, 0, 0xe9, 0, 0, 0, 0, 0, 0, 0,
						]),
					),
					name,
				).toBe(true);
			else expect(got.equals(want), name).toBe(true);
		}
	});
});

describe("zarr: v3 string arrays (read)", () => {
	it("reads data_type string with the vlen-utf8 codec", async () => {
		await using tmp = await tempDir();
		const root = tmp.join("s.zarr");
		await mkdir(`${root}/c`, { recursive: true });
		const meta = {
			zarr_format: 3,
			node_type: "array",
			shape: [3],
			data_type: "string",
			chunk_grid: { name: "regular", configuration: { chunk_shape: [2] } },
			chunk_key_encoding: {
				name: "default",
				configuration: { separator: "/" },
			},
			fill_value: "-",
			codecs: [{ name: "vlen-utf8", configuration: {} }],
			attributes: {},
		};
		await writeFile(`${root}/zarr.json`, JSON.stringify(meta));
		// Two items: "a" and "bé" (UTF-8 62 C3 A9), each with a u32 length; chunk 1 is missing.
		await writeFile(
			`${root}/c/0`,
			Buffer.from([2, 0, 0, 0, 1, 0, 0, 0, 0x61, 3, 0, 0, 0, 0x62, 0xc3, 0xa9]),
		);
		await using a = await openZarr(root);
		expect((await a.read()).data).toEqual(["a", "bé", "-"]);
	});
});
