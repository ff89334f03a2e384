import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
	FORMATS_DIR,
	formatsManifest,
	python,
	pythonLegacy,
	sha256,
	skipNote,
	tempDir,
} from "@arraystore/conformance";
import {
	type DType,
	makeArrayData,
	parseDType,
	storedToNative,
	withByteOrder,
} from "@arraystore/core";
import { createRegistry } from "@arraystore/core/node";
import { describe, expect, it } from "vitest";
import { npyAdapter } from "../src/index.js";

const registry = createRegistry([npyAdapter]);
const entries = formatsManifest().arrays.filter((a) => a.format === "npy");
const hasNumpy = python.has("numpy");
if (!hasNumpy) skipNote("npy round trips", python.missing("numpy"));

/** What numpy says about each file: dtype.str, descr, shape, order, sha256 of the C-order bytes. */
const NUMPY_LOAD = `
import hashlib
import numpy as np
out = []
for path in INPUT:
    a = np.load(path, allow_pickle=False, max_header_size=10**8) if np.__version__ >= "1.24" else np.load(path, allow_pickle=False)
    out.append({
        "str": a.dtype.str,
        "descr": repr(np.lib.format.dtype_to_descr(a.dtype)),
        "shape": list(a.shape),
        "fortran": bool(a.flags.f_contiguous and not a.flags.c_contiguous),
        "sha256": hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest(),
    })
print(json.dumps(out))
`;

interface NumpyView {
	str: string;
	descr: string;
	shape: number[];
	fortran: boolean;
	sha256: string;
}

/** Extra dtypes beyond the fixtures: nested records, titles, sub-arrays, units, long double. */
const EXTRA: readonly (readonly [
	string,
	DType,
	readonly number[],
	"C" | "F",
])[] = [
	[
		"nested record",
		parseDType([
			["a", "<i4"],
			[
				"b",
				[
					["x", ">u2"],
					["y", "|S3"],
				],
			],
			["c", "<f8", [2, 2]],
		]),
		[3],
		"C",
	],
	[
		"titled fields",
		parseDType([
			[["Title A", "a"], "<i2"],
			["b", "|b1"],
		]),
		[4],
		"C",
	],
	[
		"padding",
		parseDType({
			names: ["a", "b"],
			formats: ["<i4", "<f8"],
			offsets: [0, 8],
			itemsize: 24,
		}),
		[2],
		"C",
	],
	["big-endian complex F order", parseDType(">c16"), [3, 2], "F"],
	["datetime with a step", parseDType("<M8[10s]"), [5], "C"],
	["timedelta big-endian", parseDType(">m8[us]"), [2, 3], "C"],
	["long double (opaque)", parseDType("<f16"), [3], "C"],
	["opaque void", parseDType("|V7"), [2, 2], "F"],
	["big-endian unicode", parseDType(">U5"), [2], "C"],
	[
		"field names needing escapes",
		parseDType([
			["it's", "<i4"],
			['q"uote', "<i4"],
			["back\\slash\n", "<u1"],
		]),
		[2],
		"C",
	],
];

function randomBytes(n: number, seed: number): Uint8Array {
	const out = new Uint8Array(n);
	let x = seed >>> 0 || 1;
	for (let i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >>> 17;
		x ^= x << 5;
		out[i] = x & 0xff;
	}
	return out;
}

describe.skipIf(!hasNumpy)("npy: numpy reads what we write", () => {
	it("writes every fixture dtype; numpy loads identical bytes and dtype (and the files equal numpy.save's)", async () => {
		await using tmp = await tempDir();
		const written: string[] = [];
		const expected: {
			id: string;
			sha: string;
			str: string;
			shape: readonly number[];
			fortran: boolean;
		}[] = [];
		for (const entry of entries) {
			await using src = await registry.open(join(FORMATS_DIR, entry.file));
			const data = await src.read();
			const out = tmp.join(`${entry.id.replace("/", "_")}.npy`);
			{
				await using dst = await registry.create(out, {
					dtype: src.info.dtype,
					shape: src.info.shape,
					order: src.info.order,
				});
				await dst.write([], data);
			}
			written.push(out);
			expected.push({
				id: entry.id,
				sha: entry.sha256,
				str: entry.dtype,
				shape: entry.shape,
				fortran: entry.order === "F" && entry.shape.length > 1,
			});
			// numpy.save output (not the forced-version fixtures) must be reproduced byte for byte.
			if (!entry.id.endsWith("_forced")) {
				expect(sha256(readFileSync(out)), entry.id).toBe(
					sha256(readFileSync(join(FORMATS_DIR, entry.file))),
				);
			}
		}
		const views = python.run<NumpyView[]>(NUMPY_LOAD, written);
		views.forEach((v, i) => {
			const e = expected[i];
			if (!e) throw new Error("missing");
			expect(v.sha256, e.id).toBe(e.sha);
			expect(v.str, e.id).toBe(e.str);
			expect(v.shape, e.id).toEqual(e.shape);
			expect(v.fortran, e.id).toBe(e.fortran);
		});
		if (pythonLegacy.has("numpy")) {
			const legacy = pythonLegacy.run<NumpyView[]>(NUMPY_LOAD, written);
			for (const [i, v] of legacy.entries())
				expect(v.sha256, expected[i]?.id).toBe(expected[i]?.sha);
		} else skipNote("numpy 1.24 re-read", pythonLegacy.missing("numpy"));
	});

	it("writes records, titles, padding, units, long double and F order numpy reads back exactly", async () => {
		await using tmp = await tempDir();
		const files: string[] = [];
		const hashes: string[] = [];
		let seed = 1;
		for (const [name, dtype, shape, order] of EXTRA) {
			const file = tmp.join(`extra${files.length}.npy`);
			const n = shape.reduce((a, b) => a * b, 1) * dtype.itemsize;
			const stored = randomBytes(n, seed++);
			{
				await using dst = await registry.create(file, { dtype, shape, order });
				// The store takes native C-order values; these are the stored bytes' values.
				const bytes = storedToNative(stored.slice(), shape, dtype, "C");
				await dst.write(
					[],
					makeArrayData(withByteOrder(dtype, "native"), shape, bytes),
				);
			}
			files.push(file);
			hashes.push(`${name}:${sha256(stored)}`);
		}
		const views = python.run<NumpyView[]>(NUMPY_LOAD, files);
		views.forEach((v, i) => {
			const [name, dtype, shape, order] = EXTRA[i] ?? [];
			expect(`${name}:${v.sha256}`).toBe(hashes[i]);
			expect(v.shape, name).toEqual(shape);
			expect(v.fortran, name).toBe(order === "F");
			if (dtype && !dtype.fields) expect(v.str, name).toBe(dtype.str);
		});
		// The descr numpy derives must be the one we wrote.
		const ours = files.map((f) => {
			const text = new TextDecoder("latin1").decode(
				readFileSync(f).subarray(10, 400),
			);
			return /'descr': (.*), 'fortran_order'/.exec(text)?.[1];
		});
		for (const [i, v] of views.entries())
			expect(ours[i], EXTRA[i]?.[0]).toBe(v.descr);
	});
});
