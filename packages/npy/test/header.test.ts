import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FORMATS_DIR, formatsManifest } from "@arraystore/conformance";
import {
	isArrayStoreError,
	parseDType,
	pyStr as reprStr,
	withByteOrder,
} from "@arraystore/core";
import { describe, expect, it } from "vitest";
import { parseNpyHeader } from "../src/header.js";
import { formatNpyHeader, wrapHeader } from "../src/header-write.js";
import { parsePyLiteral } from "../src/literal.js";

const npyEntries = formatsManifest().arrays.filter((a) => a.format === "npy");

interface NpyDetails {
	npy_version: string;
	header_len: number;
	data_offset: number;
	file_size: number;
	fortran_order: boolean;
	header?: string;
}

function code(fn: () => unknown): string | undefined {
	try {
		fn();
		return undefined;
	} catch (err) {
		if (!isArrayStoreError(err)) throw err;
		return err.code;
	}
}

/** A v1.0 file image around raw header text (padding left to the caller). */
function npyBytes(
	text: string,
	data = new Uint8Array(0),
	version = 1,
): Uint8Array {
	const body = new Uint8Array([...text].map((c) => c.charCodeAt(0)));
	const pre = version === 1 ? 10 : 12;
	const out = new Uint8Array(pre + body.length + data.length);
	out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
	const view = new DataView(out.buffer);
	if (version === 1) view.setUint16(8, body.length, true);
	else view.setUint32(8, body.length, true);
	out.set(body, pre);
	out.set(data, pre + body.length);
	return out;
}

describe("npy: header", () => {
	it.each(npyEntries.map((e) => [e.id, e] as const))(
		"parses the header of %s like the manifest",
		(_id, entry) => {
			const bytes = new Uint8Array(readFileSync(join(FORMATS_DIR, entry.file)));
			const details = entry.details as unknown as NpyDetails;
			const h = parseNpyHeader(bytes, { available: bytes.length });
			expect(h.version).toBe(details.npy_version);
			expect(h.headerLen).toBe(details.header_len);
			expect(h.dataOffset).toBe(details.data_offset);
			expect(h.fortranOrder).toBe(details.fortran_order);
			expect(h.shape).toEqual(entry.shape);
			expect(h.dtype.itemsize).toBe(entry.itemsize);
			expect(h.fortranOrder ? "F" : "C").toBe(entry.order);
			if (entry.descr !== undefined && entry.descr !== null)
				expect(h.dtype.str).toBe(parseDType(entry.descr as never).str);
			else expect(h.dtype.str).toBe(entry.dtype);
		},
	);

	it.each(npyEntries.map((e) => [e.id, e] as const))(
		"writes the header of %s byte-identical to numpy",
		(_id, entry) => {
			const bytes = new Uint8Array(readFileSync(join(FORMATS_DIR, entry.file)));
			const details = entry.details as unknown as NpyDetails;
			const h = parseNpyHeader(bytes, { available: bytes.length });
			const forced = entry.id.endsWith("_forced")
				? (details.npy_version as "2.0" | "3.0")
				: undefined;
			const ours = formatNpyHeader({
				dtype: h.dtype,
				shape: h.shape,
				fortranOrder: h.fortranOrder,
				version: forced,
			});
			expect(
				Buffer.from(ours).equals(
					Buffer.from(bytes.subarray(0, details.data_offset)),
				),
			).toBe(true);
			if (details.header !== undefined) {
				const pre = details.npy_version === "1.0" ? 10 : 12;
				expect(new TextDecoder().decode(ours.subarray(pre))).toBe(
					details.header,
				);
			}
		},
	);

	it("picks 3.0 only for text that latin-1 cannot encode", () => {
		const h = formatNpyHeader({
			dtype: parseDType([["é", "<f4"]]),
			shape: [2],
			fortranOrder: false,
		});
		expect(h[6]).toBe(1);
		const h3 = formatNpyHeader({
			dtype: parseDType([["δ", "<f4"]]),
			shape: [2],
			fortranOrder: false,
		});
		expect(h3[6]).toBe(3);
	});

	it("adds a full 64 bytes of padding when the header is already aligned, like numpy", () => {
		// preamble 10 + text 53 + '\n' = 64: numpy's padlen formula gives 64, not 0.
		const text = "x".repeat(53);
		const out = wrapHeader(text, "1.0") as Uint8Array;
		expect(out.length).toBe(128);
	});

	it("reads big-endian, F-order and 0-d headers with their types", () => {
		const h = parseNpyHeader(
			npyBytes(
				"{'descr': '>f8', 'fortran_order': True, 'shape': (2, 3), }\n",
				new Uint8Array(48),
			),
		);
		expect(h.dtype.str).toBe(">f8");
		expect(h.fortranOrder).toBe(true);
		expect(h.shape).toEqual([2, 3]);
		const z = parseNpyHeader(
			npyBytes(
				"{'descr': '<i2', 'fortran_order': False, 'shape': ()}",
				new Uint8Array(2),
			),
		);
		expect(z.shape).toEqual([]);
		expect(z.size).toBe(1);
	});

	it("accepts Python 2 headers: L suffixes and u'' strings", () => {
		const h = parseNpyHeader(
			npyBytes(
				"{u'descr': u'<f4', u'fortran_order': False, u'shape': (2L, 3L), }",
				new Uint8Array(24),
			),
		);
		expect(h.shape).toEqual([2, 3]);
		expect(h.dtype.str).toBe("<f4");
	});

	it("reads structured descr with titles, sub-arrays and nested records", () => {
		const text =
			"{'descr': [(('T', 'a'), '<i4'), ('b', '>f8', (2,)), ('c', [('x', '<u2'), ('', '|V2')]), ('d', '|S3', 2)], 'fortran_order': False, 'shape': (1,)}";
		const h = parseNpyHeader(npyBytes(text, new Uint8Array(4 + 16 + 4 + 6)));
		expect(h.dtype.itemsize).toBe(30);
		const f = h.dtype.fields ?? [];
		expect(f.map((x) => x.name)).toEqual(["a", "b", "c", "d"]);
		expect(f[0]?.title).toBe("T");
		expect(f[1]?.dtype.subarray?.shape).toEqual([2]);
		expect(f[2]?.dtype.itemsize).toBe(4);
		expect(f[3]?.dtype.subarray?.shape).toEqual([2]);
	});

	it.each([
		[
			"bad magic",
			new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x58, 1, 0, 0, 0]),
			"MALFORMED",
		],
		["short magic", new Uint8Array([0x93, 0x4e]), "TRUNCATED"],
		[
			"version 4.0",
			new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 4, 0, 0, 0]),
			"UNSUPPORTED_VERSION",
		],
		[
			"version 1.1",
			new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 1, 0, 0]),
			"UNSUPPORTED_VERSION",
		],
		[
			"missing HEADER_LEN",
			new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0, 0, 0]),
			"TRUNCATED",
		],
		[
			"HEADER_LEN past EOF",
			new Uint8Array([
				0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0xff, 0x00, 0x7b,
			]),
			"TRUNCATED",
		],
	] as const)("refuses %s", (_name, bytes, expected) => {
		expect(code(() => parseNpyHeader(bytes, { available: bytes.length }))).toBe(
			expected,
		);
	});

	it.each([
		["a list", "[1, 2]", "MALFORMED"],
		["a missing key", "{'descr': '<f4', 'shape': (2,)}", "MALFORMED"],
		[
			"an extra key",
			"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}",
			"MALFORMED",
		],
		[
			"a duplicate key",
			"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}",
			"MALFORMED",
		],
		[
			"a list shape",
			"{'descr': '<f4', 'fortran_order': False, 'shape': [2]}",
			"MALFORMED",
		],
		[
			"a negative dimension",
			"{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}",
			"MALFORMED",
		],
		[
			"a float dimension",
			"{'descr': '<f4', 'fortran_order': False, 'shape': (2.0,)}",
			"MALFORMED",
		],
		[
			"a bool dimension",
			"{'descr': '<f4', 'fortran_order': False, 'shape': (True,)}",
			"MALFORMED",
		],
		[
			"an int fortran_order",
			"{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}",
			"MALFORMED",
		],
		[
			"an expression",
			"{'descr': '<f4', 'fortran_order': False, 'shape': (2*3,)}",
			"MALFORMED",
		],
		[
			"a call",
			"{'descr': __import__('os'), 'fortran_order': False, 'shape': (2,)}",
			"MALFORMED",
		],
		[
			"bytes",
			"{'descr': b'<f4', 'fortran_order': False, 'shape': (2,)}",
			"MALFORMED",
		],
		[
			"an unterminated string",
			"{'descr': '<f4, 'fortran_order': False, 'shape': (2,)}",
			"MALFORMED",
		],
		[
			"object dtype",
			"{'descr': '|O', 'fortran_order': False, 'shape': (2,)}",
			"UNSUPPORTED_DTYPE",
		],
		[
			"object field",
			"{'descr': [('a', '|O')], 'fortran_order': False, 'shape': (2,)}",
			"UNSUPPORTED_DTYPE",
		],
		[
			"a shape overflow",
			"{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296)}",
			"LIMIT_EXCEEDED",
		],
		[
			"a huge dimension",
			"{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999999,)}",
			"LIMIT_EXCEEDED",
		],
		[
			"nbytes past EOF",
			"{'descr': '<f8', 'fortran_order': False, 'shape': (1000,)}",
			"TRUNCATED",
		],
		[
			"deep nesting",
			`{'descr': ${"[".repeat(200)}${"]".repeat(200)}, 'fortran_order': False, 'shape': (2,)}`,
			"LIMIT_EXCEEDED",
		],
	] as const)("refuses a header with %s", (_name, text, expected) => {
		const bytes = npyBytes(text, new Uint8Array(16));
		expect(code(() => parseNpyHeader(bytes, { available: bytes.length }))).toBe(
			expected,
		);
	});

	it("tolerates bytes after the data", () => {
		const bytes = npyBytes(
			"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}",
			new Uint8Array(100),
		);
		expect(parseNpyHeader(bytes, { available: bytes.length }).nbytes).toBe(8);
	});

	it("enforces maxHeaderBytes before parsing", () => {
		const bytes = npyBytes(
			`{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}${" ".repeat(5000)}`,
			new Uint8Array(8),
			2,
		);
		expect(
			code(() =>
				parseNpyHeader(bytes, {
					available: bytes.length,
					maxHeaderBytes: 4096,
				}),
			),
		).toBe("LIMIT_EXCEEDED");
		expect(parseNpyHeader(bytes, { available: bytes.length }).shape).toEqual([
			2,
		]);
	});

	it("keeps the file byte order in the dtype and writes it back", () => {
		const dt = withByteOrder(
			parseDType([
				["a", "<i4"],
				["b", "<f8"],
			]),
			">",
		);
		const h = formatNpyHeader({ dtype: dt, shape: [3], fortranOrder: false });
		expect(new TextDecoder("latin1").decode(h.subarray(10))).toContain(
			"[('a', '>i4'), ('b', '>f8')]",
		);
	});
});

describe("npy: python literal", () => {
	it.each([
		["'a\\'b'", "a'b"],
		['"a\\"b"', 'a"b'],
		["'\\x41\\u00e9\\U0001F600\\101\\n\\t'", "Aé😀A\n\t"],
		["'a' 'b'", "ab"],
		["r'a\\d'", "a\\d"],
		["'\\q'", "\\q"],
	])("decodes the string %s", (src, value) => {
		expect(parsePyLiteral(src)).toBe(value);
	});

	it("tells tuples from grouping parentheses", () => {
		expect(parsePyLiteral("(1)")).toBe(1n);
		expect(parsePyLiteral("(1,)")).toEqual({ kind: "tuple", items: [1n] });
		expect(parsePyLiteral("()")).toEqual({ kind: "tuple", items: [] });
		expect(parsePyLiteral("[1, 2,]")).toEqual([1n, 2n]);
		expect(parsePyLiteral("-7")).toBe(-7n);
		expect(parsePyLiteral("None")).toBe(null);
	});

	it.each([
		"012",
		"1.5",
		"1e3",
		"0x10",
		"True False",
		"'a",
		"{1: 2}",
		"[1 2]",
		"(1,,)",
		"'''a'''",
		"'\\N{DASH}'",
		"'\\x4'",
	])("refuses %s", (src) => {
		expect(code(() => parsePyLiteral(src))).toBe("MALFORMED");
	});

	it("prints strings like CPython's repr", () => {
		expect(reprStr("a'b")).toBe(`"a'b"`);
		expect(reprStr("a'b\"")).toBe(`'a\\'b"'`);
		expect(reprStr("é\x85\u2028δ\x00")).toBe("'é\\x85\\u2028δ\\x00'");
	});
});
