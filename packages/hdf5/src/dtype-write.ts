/**
 * Core dtypes → what HDF5 stores when we write, following h5py's conventions (bool as ENUM,
 * complex as COMPOUND {r, i}, `|S n` as NULLPAD ASCII, datetime64 as h5py's tagged OPAQUE).
 * h5wasm can create only little-endian integers, float32/64, strings and records of those;
 * everything else is created through a placeholder type and a header patch (see create.ts).
 */
import { type DType, type DTypeSupport, isVString } from "@arraystore/core";
import {
	H5T_COMPOUND,
	H5T_FLOAT,
	H5T_INTEGER,
	H5T_STRING,
} from "./dtype-read.js";
import type { H5WriteMetadata } from "./module.js";

/** Whether HDF5 (through us) can store `dtype`. */
export function checkDType(dtype: DType): DTypeSupport {
	if (isVString(dtype)) return { ok: true };
	if (dtype.opaque)
		return {
			ok: false,
			reason: "long double is platform-specific; HDF5 output refuses it",
		};
	if (dtype.kind === "U")
		return {
			ok: false,
			reason:
				"numpy unicode (U) has no HDF5 type (h5py refuses it too); use bytes (S) or variable-length strings",
		};
	if (dtype.fields) {
		// A datatype message must fit one object header message (a 16-bit size field).
		const size = datatypeMessageBytes(dtype);
		if (size > MAX_HEADER_MESSAGE_BYTES)
			return {
				ok: false,
				reason: `a record of ${dtype.fields.length} fields needs a ${size}-byte HDF5 datatype message, over the 64 KiB an object header message can hold`,
			};
		for (const f of dtype.fields) {
			const base = f.dtype.subarray ? f.dtype.subarray.base : f.dtype;
			const r = checkDType(base);
			if (!r.ok)
				return {
					ok: false,
					reason: `field ${JSON.stringify(f.name)}: ${r.reason}`,
				};
			if (f.dtype.subarray && base.fields)
				return {
					ok: false,
					reason: `field ${JSON.stringify(f.name)}: sub-arrays of records are not supported`,
				};
		}
	}
	return { ok: true };
}

const MAX_HEADER_MESSAGE_BYTES = 65535;

// Size of the version-1 datatype message HDF5 writes for `dtype` (the largest encoding:
// member names padded to 8 bytes, 28 bytes of member dimension info), an upper bound.
function datatypeMessageBytes(dtype: DType): number {
	if (!dtype.fields)
		return 8 + (dtype.kind === "f" ? 12 : dtype.kind === "b" ? 24 : 8);
	let n = 8;
	for (const f of dtype.fields) {
		const base = f.dtype.subarray ? f.dtype.subarray.base : f.dtype;
		n +=
			Math.ceil((new TextEncoder().encode(f.name).length + 1) / 8) * 8 +
			28 +
			datatypeMessageBytes(base);
	}
	return n;
}

/**
 * The h5wasm metadata that creates `dtype` exactly (little-endian), or null when h5wasm cannot
 * create it (float16, bool, opaque, datetime, sub-array fields, big-endian parts, `|S` needs
 * its padding patched).
 */
export function nativeMetadata(dtype: DType): H5WriteMetadata | null {
	if (dtype.byteOrder === ">") return null;
	switch (dtype.kind) {
		case "i":
		case "u":
			return {
				type: H5T_INTEGER,
				size: dtype.itemsize,
				signed: dtype.kind === "i",
				vlen: false,
				littleEndian: true,
			};
		case "f":
			return dtype.itemsize === 4 || dtype.itemsize === 8
				? {
						type: H5T_FLOAT,
						size: dtype.itemsize,
						signed: false,
						vlen: false,
						littleEndian: true,
					}
				: null;
		case "c": {
			const half = dtype.itemsize / 2;
			if (half !== 4 && half !== 8) return null;
			const part = {
				type: H5T_FLOAT,
				size: half,
				signed: false,
				vlen: false,
				littleEndian: true,
			};
			return compound(dtype.itemsize, [
				{ ...part, name: "r", offset: 0 },
				{ ...part, name: "i", offset: half },
			]);
		}
		case "O":
			return {
				type: H5T_STRING,
				size: 4,
				signed: false,
				vlen: true,
				littleEndian: true,
				cset: 1,
			};
		case "V": {
			if (!dtype.fields) return null;
			const members = [];
			for (const f of dtype.fields) {
				const m = nativeMetadata(f.dtype);
				if (m === null || f.dtype.subarray || f.title !== undefined)
					return null;
				members.push({ ...m, name: f.name, offset: f.offset });
			}
			return compound(dtype.itemsize, members);
		}
		default:
			return null;
	}
}

/**
 * A placeholder h5wasm can create with the same element size: a record with one fixed-string
 * field, its name padded so that the datatype message reserves at least `reserve` bytes
 * (room for the real datatype and a fill value patched in later).
 */
export function placeholderMetadata(
	itemsize: number,
	reserve: number,
	tag: string,
): H5WriteMetadata {
	// v1 compound: 8-byte header, per member name (NUL, padded to 8) + 32 bytes + 8-byte string type.
	const nameBytes = Math.max(8, Math.ceil((reserve - 48 + 1) / 8) * 8);
	const name = tag.padEnd(nameBytes - 1, "_");
	const member = {
		type: H5T_STRING,
		size: itemsize,
		signed: false,
		vlen: false,
		littleEndian: true,
		cset: 0,
	};
	return {
		type: H5T_COMPOUND,
		size: itemsize,
		signed: false,
		vlen: false,
		littleEndian: true,
		compound_type: { nmembers: 1, members: [{ ...member, name, offset: 0 }] },
	};
}

type CompoundMember = NonNullable<
	H5WriteMetadata["compound_type"]
>["members"][number];

/** A little-endian compound type of `size` bytes. */
function compound(
	size: number,
	members: readonly CompoundMember[],
): H5WriteMetadata {
	return {
		type: H5T_COMPOUND,
		size,
		signed: false,
		vlen: false,
		littleEndian: true,
		compound_type: { nmembers: members.length, members },
	};
}
