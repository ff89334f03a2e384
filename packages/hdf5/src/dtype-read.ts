/**
 * HDF5 datatypes (as h5wasm describes them) → core dtypes, following h5py's conventions:
 * ENUM {FALSE=0, TRUE=1} over int8 is bool, COMPOUND {r, i} of two equal floats is complex,
 * fixed strings are `|S n`, variable-length strings are the vlen string type.
 *
 * It also predicts the byte order h5wasm's raw read delivers: the binding copies the file type
 * as the memory type and sets it to little-endian when `H5Tget_order` says big-endian, which
 * for a record happens only when every ordered member is big-endian.
 */
import {
	type DType,
	type Field,
	parseDType,
	structured,
	subarrayOf,
	UnsupportedDTypeError,
	vstringDType,
} from "@arraystore/core";
import type { Metadata } from "h5wasm/node";
import { ADAPTER } from "./errors.js";

// H5T_class_t values.
export const H5T_INTEGER = 0;
export const H5T_FLOAT = 1;
export const H5T_STRING = 3;
export const H5T_BITFIELD = 4;
export const H5T_OPAQUE = 5;
export const H5T_COMPOUND = 6;
export const H5T_ENUM = 8;
export const H5T_VLEN = 9;
export const H5T_ARRAY = 10;

const CLASS_NAMES = [
	"INTEGER",
	"FLOAT",
	"TIME",
	"STRING",
	"BITFIELD",
	"OPAQUE",
	"COMPOUND",
	"REFERENCE",
	"ENUM",
	"VLEN",
	"ARRAY",
];

type MemberMeta = Metadata & {
	readonly name?: string;
	readonly offset?: number;
};

/** A dataset's or attribute's element type, mapped. */
export interface MappedType {
	/** The dtype as stored in the file (byte order included). */
	readonly dtype: DType;
	/** True when h5wasm's raw read converts the stored big-endian bytes to little-endian. */
	readonly readsSwapped: boolean;
}

/**
 * Maps h5wasm metadata to a core dtype.
 * @throws {UnsupportedDTypeError} references, non-string VLEN, TIME, long double and other types numpy cannot hold.
 */
export function mapType(meta: Metadata, where: string): MappedType {
	const dtype = toDType(meta, where, true);
	return { dtype, readsSwapped: orderOf(meta) === "BE" };
}

function refuse(meta: Metadata, where: string, reason: string): never {
	const cls = CLASS_NAMES[meta.type] ?? `class ${meta.type}`;
	throw new UnsupportedDTypeError(
		`${where}: HDF5 ${cls} type (${meta.size} bytes) ${reason}`,
		{ adapter: ADAPTER, format: ADAPTER, dtype: cls },
	);
}

function toDType(meta: Metadata, where: string, top: boolean): DType {
	const order = meta.littleEndian ? "<" : ">";
	switch (meta.type) {
		case H5T_INTEGER:
		case H5T_BITFIELD: {
			if (![1, 2, 4, 8].includes(meta.size))
				return refuse(meta, where, "has no numpy integer of that size");
			const kind = meta.type === H5T_INTEGER && meta.signed ? "i" : "u";
			return parseDType(`${meta.size === 1 ? "|" : order}${kind}${meta.size}`);
		}
		case H5T_FLOAT:
			if (![2, 4, 8].includes(meta.size))
				return refuse(
					meta,
					where,
					"is not float16/32/64 (long double is platform-specific)",
				);
			return parseDType(`${order}f${meta.size}`);
		case H5T_STRING:
			if (meta.vlen) {
				if (!top)
					return refuse(
						meta,
						where,
						"(variable-length string inside a record) has no fixed-size numpy form",
					);
				return vstringDType(meta.cset === 1 ? "utf8" : "ascii");
			}
			return parseDType(`|S${meta.size}`);
		case H5T_OPAQUE:
			return parseDType(`|V${meta.size}`);
		case H5T_ENUM: {
			const e = meta.enum_type;
			if (
				e &&
				meta.size === 1 &&
				e.nmembers === 2 &&
				e.members.FALSE === 0 &&
				e.members.TRUE === 1
			)
				return parseDType("|b1");
			// h5py reads other enums as their base integer type.
			if (![1, 2, 4, 8].includes(meta.size))
				return refuse(meta, where, "has an unsupported base size");
			return parseDType(
				`${meta.size === 1 ? "|" : order}${meta.signed ? "i" : "u"}${meta.size}`,
			);
		}
		case H5T_COMPOUND:
			return compoundDType(meta, where);
		case H5T_ARRAY: {
			if (top)
				return refuse(
					meta,
					where,
					"(an ARRAY element type) is not supported for datasets",
				);
			const base = meta.array_type;
			if (!base) return refuse(meta, where, "lacks its base type");
			return subarrayOf(
				toDType(base, where, false),
				(base.shape ?? []) as number[],
			);
		}
		default:
			return refuse(meta, where, "has no numpy equivalent");
	}
}

function compoundDType(meta: Metadata, where: string): DType {
	const members = (meta.compound_type?.members ?? []) as MemberMeta[];
	const complex = complexOf(meta, members);
	if (complex) return complex;
	const fields: Field[] = members.map((m) => {
		const dtype =
			m.type === H5T_ARRAY ? arrayMember(m, where) : toDType(m, where, false);
		return { name: m.name ?? "", offset: m.offset ?? 0, dtype };
	});
	return structured(fields, meta.size);
}

function arrayMember(m: MemberMeta, where: string): DType {
	const base = m.array_type;
	if (!base) return refuse(m, where, "lacks its base type");
	return subarrayOf(
		toDType(base, where, false),
		(base.shape ?? []) as number[],
	);
}

// h5py stores complex numbers as COMPOUND {r, i} of two floats of one size and byte order.
function complexOf(
	meta: Metadata,
	members: readonly MemberMeta[],
): DType | null {
	const [r, i] = members;
	if (members.length !== 2 || !r || !i || r.name !== "r" || i.name !== "i")
		return null;
	if (
		r.type !== H5T_FLOAT ||
		i.type !== H5T_FLOAT ||
		r.size !== i.size ||
		r.littleEndian !== i.littleEndian
	)
		return null;
	if (
		(r.size !== 4 && r.size !== 8) ||
		r.offset !== 0 ||
		i.offset !== r.size ||
		meta.size !== 2 * r.size
	)
		return null;
	return parseDType(`${r.littleEndian ? "<" : ">"}c${2 * r.size}`);
}

/** `H5Tget_order` as HDF5 computes it from the metadata: "LE", "BE", "NONE" or "MIXED". */
export function orderOf(meta: Metadata): "LE" | "BE" | "NONE" | "MIXED" {
	switch (meta.type) {
		case H5T_INTEGER:
		case H5T_FLOAT:
		case H5T_BITFIELD:
		case H5T_ENUM:
			return meta.littleEndian ? "LE" : "BE";
		case H5T_ARRAY:
			return meta.array_type ? orderOf(meta.array_type) : "NONE";
		case H5T_COMPOUND: {
			let out: "LE" | "BE" | "NONE" | "MIXED" = "NONE";
			for (const m of meta.compound_type?.members ?? []) {
				const o = orderOf(m);
				if (o === "NONE") continue;
				if (o === "MIXED") return "MIXED";
				if (out === "NONE") out = o;
				else if (out !== o) return "MIXED";
			}
			return out;
		}
		default:
			return "NONE";
	}
}
