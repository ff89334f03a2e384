/**
 * Writing `.npy` headers byte-identical to `numpy.save` (numpy/lib/_format_impl.py,
 * `_write_array_header` and `_wrap_header`): sorted keys, Python repr, growth padding so
 * appenders can rewrite the shape in place, padding to 64 bytes ending in `\n`, and the
 * oldest format version that can hold the header.
 */
import {
	type DType,
	hasListDescr,
	pyDescr,
	pyTuple,
	toDescr,
	UnsupportedDTypeError,
} from "@arraystore/core";
import { NPY_MAGIC, type NpyVersion } from "./header.js";

/** numpy's ARRAY_ALIGN: data starts at a multiple of 64. */
export const ARRAY_ALIGN = 64;
/** numpy's GROWTH_AXIS_MAX_DIGITS: room for the growing axis to reach 21 digits. */
export const GROWTH_AXIS_MAX_DIGITS = 21;

/** What a header describes. */
export interface NpyHeaderSpec {
	readonly dtype: DType;
	readonly shape: readonly number[];
	readonly fortranOrder: boolean;
	/** Force a version (numpy's `write_array(version=...)`); default: the oldest that fits. */
	readonly version?: NpyVersion;
}

/**
 * The dict text numpy writes before wrapping: `{'descr': ..., 'fortran_order': ..., 'shape': ..., }`
 * plus the growth padding.
 * @throws {UnsupportedDTypeError} records whose fields overlap or are out of order (numpy's
 * `dtype.descr` cannot describe them either).
 */
export function npyHeaderDict(
	spec: Pick<NpyHeaderSpec, "dtype" | "shape" | "fortranOrder">,
): string {
	if (!hasListDescr(spec.dtype)) {
		throw new UnsupportedDTypeError(
			"npy cannot describe records whose fields overlap or are out of order",
			{
				dtype: spec.dtype.str,
				format: "npy",
			},
		);
	}
	const text = `{'descr': ${pyDescr(toDescr(spec.dtype))}, 'fortran_order': ${spec.fortranOrder ? "True" : "False"}, 'shape': ${pyTuple(spec.shape)}, }`;
	const shape = spec.shape;
	if (shape.length === 0) return text;
	const growing = shape[spec.fortranOrder ? shape.length - 1 : 0] as number;
	return (
		text +
		" ".repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(growing).length))
	);
}

/**
 * The whole preamble and header (magic, version, HEADER_LEN, text, padding, `\n`): exactly the
 * bytes `numpy.save` writes before the data.
 * @throws {UnsupportedDTypeError} see {@link npyHeaderDict}.
 * @throws {RangeError} a forced version that cannot hold the header (a programming error).
 */
export function formatNpyHeader(spec: NpyHeaderSpec): Uint8Array {
	const text = npyHeaderDict(spec);
	if (spec.version !== undefined) {
		const out = wrapHeader(text, spec.version);
		if (out === null)
			throw new RangeError(
				`the header does not fit npy version ${spec.version}`,
			);
		return out;
	}
	return (
		wrapHeader(text, "1.0") ??
		wrapHeader(text, "2.0") ??
		(wrapHeader(text, "3.0") as Uint8Array)
	);
}

/**
 * Wraps dict text for one version, or null when that version cannot hold it (1.0: longer than
 * 65535 bytes; 1.0 and 2.0: not latin-1 encodable).
 */
export function wrapHeader(
	text: string,
	version: NpyVersion,
): Uint8Array | null {
	const body = encodeHeaderText(text, version);
	if (body === null) return null;
	const preambleLen = version === "1.0" ? 10 : 12;
	const hlen = body.length + 1;
	// numpy's padlen is never 0: an already aligned header gets 64 more spaces.
	const padlen = ARRAY_ALIGN - ((preambleLen + hlen) % ARRAY_ALIGN);
	const headerLen = hlen + padlen;
	if (version === "1.0" && headerLen > 0xffff) return null;
	if (headerLen > 0xffffffff) return null;
	const out = new Uint8Array(preambleLen + headerLen);
	out.set(NPY_MAGIC, 0);
	out[6] = Number(version[0]);
	out[7] = 0;
	const view = new DataView(out.buffer);
	if (version === "1.0") view.setUint16(8, headerLen, true);
	else view.setUint32(8, headerLen, true);
	out.set(body, preambleLen);
	out.fill(0x20, preambleLen + body.length, out.length - 1);
	out[out.length - 1] = 0x0a;
	return out;
}

/** latin-1 for 1.0/2.0 (null when a character is above U+00FF), UTF-8 for 3.0. */
export function encodeHeaderText(
	text: string,
	version: NpyVersion,
): Uint8Array | null {
	if (version === "3.0") return new TextEncoder().encode(text);
	const out = new Uint8Array(text.length);
	for (let i = 0; i < text.length; i++) {
		const c = text.charCodeAt(i);
		if (c > 0xff) return null;
		out[i] = c;
	}
	return out;
}
