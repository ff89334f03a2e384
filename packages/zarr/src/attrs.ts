/**
 * Attributes ↔ JSON. Zarr keeps attributes as JSON; `ArrayData` values (HDF5 attribute arrays
 * in a conversion) become nested lists of their elements.
 */
import {
	type ArrayData,
	type Attributes,
	type AttrValue,
	decodeElement,
} from "@arraystore/core";
import type { JsonObject, JsonValue } from "./json.js";

function isArrayData(v: unknown): v is ArrayData {
	return (
		typeof v === "object" &&
		v !== null &&
		"bytes" in v &&
		"dtype" in v &&
		"shape" in v &&
		(v as ArrayData).bytes instanceof Uint8Array
	);
}

function elementJson(v: unknown): JsonValue {
	if (
		typeof v === "number" ||
		typeof v === "bigint" ||
		typeof v === "boolean" ||
		typeof v === "string" ||
		v === null
	)
		return v;
	if (v instanceof Uint8Array) return Buffer.from(v).toString("base64");
	if (Array.isArray(v)) return v.map(elementJson);
	if (typeof v === "object")
		return Object.fromEntries(
			Object.entries(v as object).map(([k, e]) => [k, elementJson(e)]),
		);
	return null;
}

function arrayDataJson(a: ArrayData): JsonValue {
	const size = a.dtype.itemsize;
	const elems: JsonValue[] = [];
	for (let i = 0; i * size < a.bytes.length; i++)
		elems.push(
			elementJson(
				decodeElement(a.dtype, a.bytes.subarray(i * size, (i + 1) * size)),
			),
		);
	if (a.shape.length === 0) return elems[0] ?? null;
	const nest = (d: number, at: { i: number }): JsonValue[] => {
		const out: JsonValue[] = [];
		for (let k = 0; k < (a.shape[d] as number); k++)
			out.push(
				d === a.shape.length - 1 ? (elems[at.i++] ?? null) : nest(d + 1, at),
			);
		return out;
	};
	return nest(0, { i: 0 });
}

/** One attribute value as JSON. */
export function attrToJson(v: AttrValue | undefined): JsonValue {
	if (v === undefined) return null;
	if (isArrayData(v)) return arrayDataJson(v);
	if (Array.isArray(v)) return v.map((e) => attrToJson(e as AttrValue));
	if (typeof v === "object" && v !== null)
		return Object.fromEntries(
			Object.entries(v).map(([k, e]) => [k, attrToJson(e as AttrValue)]),
		);
	return v as JsonValue;
}

/** Attributes as a JSON object. */
export function attrsToJson(attrs: Attributes): JsonObject {
	return Object.fromEntries(
		Object.entries(attrs).map(([k, v]) => [k, attrToJson(v)]),
	);
}

/** A JSON object as attributes (JSON values are attribute values already). */
export function attrsFromJson(obj: JsonObject): Attributes {
	return obj as Attributes;
}
