/**
 * What h5wasm 0.10.3 cannot do through its API, done on the object headers of objects we
 * just created: the file is closed, one header is rewritten with plain file I/O, and the file
 * is reopened (see `H5File.whileClosed`). HDF5 gives us each header's address through an
 * object reference. Used for: multi-filter pipelines (gzip + shuffle), fill values, datatypes
 * h5wasm cannot create (float16, bool, opaque, datetime, sub-array fields, NULLPAD strings),
 * contiguous datasets created empty and then sized, and empty attributes.
 */
import { type DType, UnsupportedError } from "@arraystore/core";
import type { AttrPayload } from "./attr-values.js";
import { placeholderMetadata } from "./dtype-write.js";
import { ADAPTER } from "./errors.js";
import type { H5File } from "./file-handle.js";
import {
	decodeAttribute,
	decodeFill,
	encodeAttribute,
	encodeDataspace,
	encodeDatatype,
	encodeFill,
	encodeOldFill,
	fillAllocTime,
	MSG,
	patchDataspaceDims,
} from "./messages.js";
import { ObjectHeader, withFile } from "./object-header.js";

/** The header address of the object at `path` (HDF5 object references are header addresses). */
export function objectAddress(file: H5File, path: string): number {
	const ref = file.call(`locate ${path}`, (api, id) =>
		api.create_object_reference(id, path),
	);
	let v = 0;
	for (let i = 7; i >= 0; i--) v = v * 256 + (ref[i] ?? 0);
	return v;
}

/**
 * The stored fill value bytes of a dataset (file byte order): null when it uses HDF5's default
 * (zero) fill, undefined when its header could not be read.
 */
export function readFillBytes(
	file: H5File,
	path: string,
): Uint8Array | null | undefined {
	try {
		const address = objectAddress(file, path);
		return withFile(file.path, false, (fd, sb) => {
			const header = ObjectHeader.read(fd, sb, address);
			const fill = header.find(MSG.FILL)[0] ?? header.find(MSG.FILL_OLD)[0];
			return fill ? decodeFill(fill.type, fill.body) : null;
		});
	} catch {
		return undefined;
	}
}

/** The tag of an OPAQUE dataset type (h5py tags datetime64 as "NUMPY:<M8[ns]"), if any. */
export function readOpaqueTag(file: H5File, path: string): string | undefined {
	try {
		const address = objectAddress(file, path);
		return withFile(file.path, false, (fd, sb) => {
			const m = ObjectHeader.read(fd, sb, address).find(MSG.DATATYPE)[0];
			if (!m || ((m.body[0] as number) & 0x0f) !== 5) return undefined;
			const len = m.body[1] as number;
			const tag = m.body.subarray(8, 8 + len);
			const end = tag.indexOf(0);
			return new TextDecoder().decode(end < 0 ? tag : tag.subarray(0, end));
		});
	} catch {
		return undefined;
	}
}

/** Changes to a dataset header. */
export interface DatasetPatch {
	readonly datatype?: Uint8Array;
	/** New dimensions and maximum dimensions (-1 = unlimited). */
	readonly dims?: {
		readonly dims: readonly number[];
		readonly maxdims: readonly number[];
	};
	/** Contiguous storage size in bytes (layout message). */
	readonly contiguousSize?: number;
	/** Builds the new pipeline message from the current one. */
	readonly pipeline?: (current: Uint8Array) => Uint8Array;
	/** Fill value bytes (little-endian). */
	readonly fill?: Uint8Array;
}

/**
 * Rewrites the header of the dataset at `path` (created by us moments ago).
 * @throws {UnsupportedError} when the header has no room or an unexpected layout.
 */
export function patchDataset(
	file: H5File,
	path: string,
	patch: DatasetPatch,
): void {
	const address = objectAddress(file, path);
	file.whileClosed(() =>
		withFile(file.path, true, (fd, sb) => {
			const header = ObjectHeader.read(fd, sb, address);
			const one = (
				type: number,
			): NonNullable<ObjectHeader["messages"][number]> => {
				const m = header.find(type)[0];
				if (!m)
					throw new UnsupportedError(
						`${path}: no header message ${type} to patch`,
						{ adapter: ADAPTER, target: file.target },
					);
				return m;
			};
			if (patch.datatype) header.replace(one(MSG.DATATYPE), patch.datatype);
			if (patch.dims) {
				const m = one(MSG.DATASPACE);
				const body = m.body.slice();
				patchDataspaceDims(
					body,
					patch.dims.dims,
					patch.dims.maxdims,
					sb.lengthSize,
				);
				header.replace(m, body);
			}
			if (patch.contiguousSize !== undefined) {
				const m = one(MSG.LAYOUT);
				const body = m.body.slice();
				if (body[0] !== 3 || body[1] !== 1 || sb.lengthSize !== 8)
					throw new UnsupportedError(`${path}: unexpected layout message`, {
						adapter: ADAPTER,
					});
				new DataView(body.buffer).setBigUint64(
					2 + sb.offsetSize,
					BigInt(patch.contiguousSize),
					true,
				);
				header.replace(m, body);
			}
			if (patch.pipeline) {
				const m = one(MSG.PIPELINE);
				header.replace(m, patch.pipeline(m.body));
			}
			if (patch.fill) {
				const m = one(MSG.FILL);
				header.replace(m, encodeFill(fillAllocTime(m.body), patch.fill));
				const old = header.find(MSG.FILL_OLD)[0];
				if (old) header.replace(old, encodeOldFill(patch.fill));
				else header.insertAfter(m, MSG.FILL_OLD, 1, encodeOldFill(patch.fill));
			}
			header.commit(fd);
		}),
	);
}

/**
 * Writes an attribute whose type h5wasm cannot create (bool, float16, opaque, records with
 * such fields, fixed strings, empty): a placeholder of the same data size is created natively,
 * then its attribute message is re-encoded with the real datatype (and a null dataspace for
 * empty attributes).
 */
export function writeSpecialAttr(
	file: H5File,
	objPath: string,
	name: string,
	payload: AttrPayload,
): void {
	const where = `attribute ${JSON.stringify(name)} of ${objPath}`;
	const dtype: DType = payload.dtype;
	const shape = payload.empty ? [] : payload.shape.map(BigInt);
	const bytes = payload.empty
		? new Uint8Array(1)
		: (payload.bytes ?? new Uint8Array(0));
	const size = payload.empty ? 1 : dtype.itemsize;
	if (size < 1)
		throw new UnsupportedError(
			`${where}: unsupported attribute type ${dtype.str}`,
			{ adapter: ADAPTER },
		);
	file.call(`write ${where}`, (api, id) => {
		const ptr = api._malloc(Math.max(bytes.length, 1));
		try {
			api.HEAPU8.set(bytes, ptr);
			// A record placeholder whose datatype message is at least as large as the real one,
			// so the rewrite always fits where the placeholder was.
			const meta = placeholderMetadata(
				size,
				encodeDatatype(dtype).length + 8,
				"arraystore",
			);
			api.create_attribute(id, objPath, name, BigInt(ptr), {
				...meta,
				shape,
				maxshape: shape,
			});
		} finally {
			api._free(ptr);
		}
	});
	const address = objectAddress(file, objPath);
	try {
		file.whileClosed(() =>
			withFile(file.path, true, (fd, sb) => {
				const header = ObjectHeader.read(fd, sb, address);
				const msg = header
					.find(MSG.ATTRIBUTE)
					.find((m) => decodeAttribute(m.body)?.name === name);
				if (!msg) {
					throw new UnsupportedError(
						`${where}: the object keeps attributes in dense storage; this attribute type cannot be written there`,
						{ adapter: ADAPTER, target: file.target },
					);
				}
				const parts = decodeAttribute(msg.body);
				if (!parts)
					throw new UnsupportedError(`${where}: unexpected attribute message`, {
						adapter: ADAPTER,
					});
				const datatype = encodeDatatype(dtype);
				header.replace(
					msg,
					encodeAttribute(
						payload.empty
							? {
									name,
									datatype,
									dataspace: encodeDataspace(null),
									data: new Uint8Array(0),
								}
							: {
									name,
									datatype,
									dataspace: parts.dataspace,
									data: parts.data.subarray(0, bytes.length),
								},
					),
				);
				header.commit(fd);
			}),
		);
	} catch (err) {
		// Leave no placeholder behind.
		try {
			file.call(`delete ${where}`, (api, id) =>
				api.delete_attribute(id, objPath, name),
			);
		} catch {
			// the original error matters more
		}
		throw err;
	}
}
