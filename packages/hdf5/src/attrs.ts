/**
 * Attributes of files, groups and datasets: read with h5wasm's raw attribute call (so every
 * fixed-size type, float16 included, comes back exactly), written natively where h5wasm can
 * create the type, and through a header patch where it cannot (see header-patch.ts).
 */
import {
	type Attributes,
	type AttrValue,
	isArrayStoreError,
	isVString,
	LimitExceededError,
	shapeSize,
	swapInPlace,
	withByteOrder,
} from "@arraystore/core";
import { attrPayload, bytesValue, stringsValue } from "./attr-values.js";
import { mapType } from "./dtype-read.js";
import { nativeMetadata } from "./dtype-write.js";
import { ADAPTER } from "./errors.js";
import type { H5File } from "./file-handle.js";
import { writeSpecialAttr } from "./header-patch.js";

/** Largest attribute read (attributes live in object headers; this only guards corrupt sizes). */
const MAX_ATTR_BYTES = 64 * 1024 * 1024;

/**
 * Reads every attribute of the object at `path` (absolute). Attributes whose type has no
 * arraystore form (object and region references, such as netCDF-4's DIMENSION_LIST and
 * REFERENCE_LIST, or non-string variable-length data) are left out rather than failing the call.
 */
export function readAttrs(file: H5File, path: string): Attributes {
	const names = file.call(`list attributes of ${path}`, (api, id) =>
		api.get_attribute_names(id, path),
	);
	const out: Record<string, AttrValue> = {};
	for (const name of [...names].sort()) {
		try {
			out[name] = readAttr(file, path, name);
		} catch (err) {
			if (isArrayStoreError(err, "UNSUPPORTED_DTYPE")) continue;
			throw err;
		}
	}
	return out;
}

function readAttr(file: H5File, path: string, name: string): AttrValue {
	const where = `attribute ${JSON.stringify(name)} of ${path}`;
	return file.call(`read ${where}`, (api, id) => {
		const meta = api.get_attribute_metadata(id, path, name);
		if (meta.shape === null) return null;
		const shape = meta.shape;
		const { dtype, readsSwapped } = mapType(meta, where);
		const count = shapeSize(shape);
		const nbytes = meta.size * count;
		if (nbytes > MAX_ATTR_BYTES)
			throw new LimitExceededError(`${where}: ${nbytes} bytes is too large`, {
				adapter: ADAPTER,
				target: file.target,
			});
		const ptr = api._malloc(Math.max(nbytes, 1));
		if (ptr === 0)
			throw new LimitExceededError(
				`${where}: the wasm heap cannot hold ${nbytes} bytes`,
				{ adapter: ADAPTER },
			);
		try {
			api.get_attribute_data(id, path, name, BigInt(ptr));
			if (isVString(dtype)) {
				const heap = api.HEAPU8;
				const ptrs = new Uint32Array(heap.buffer, ptr, count).slice();
				const dec = new TextDecoder("utf-8");
				const strings = Array.from(ptrs, (p) => {
					if (p === 0) return "";
					let end = p;
					while (end < heap.length && heap[end] !== 0) end++;
					return dec.decode(heap.subarray(p, end));
				});
				api.reclaim_vlen_memory(id, path, name, BigInt(ptr));
				return stringsValue(strings, shape);
			}
			// A fresh buffer so typed views are aligned; bytes end up in native order.
			const bytes = new Uint8Array(new ArrayBuffer(nbytes));
			bytes.set(api.HEAPU8.subarray(ptr, ptr + nbytes));
			if (!readsSwapped) swapInPlace(dtype, bytes);
			return bytesValue(withByteOrder(dtype, "<"), shape, bytes);
		} finally {
			api._free(ptr);
		}
	});
}

/** Creates or replaces attributes on the object at `path` (absolute). */
export function writeAttrs(
	file: H5File,
	path: string,
	attrs: Attributes,
): void {
	for (const [name, value] of Object.entries(attrs)) {
		const payload = attrPayload(name, value);
		const where = `attribute ${JSON.stringify(name)} of ${path}`;
		const exists = file
			.call(`list attributes of ${path}`, (api, id) =>
				api.get_attribute_names(id, path),
			)
			.includes(name);
		if (exists)
			file.call(`delete ${where}`, (api, id) =>
				api.delete_attribute(id, path, name),
			);
		const native = payload.empty
			? null
			: nativeMetadata(withByteOrder(payload.dtype, "<"));
		const shape = payload.shape.map(BigInt);
		if (native !== null && isVString(payload.dtype)) {
			const strings = [...(payload.strings ?? [])];
			file.call(`write ${where}`, (api, id) =>
				api.create_vlen_str_attribute(id, path, name, strings, {
					...native,
					shape,
					maxshape: shape,
				}),
			);
			continue;
		}
		if (native !== null) {
			const bytes = payload.bytes ?? new Uint8Array(0);
			file.call(`write ${where}`, (api, id) => {
				const ptr = api._malloc(Math.max(bytes.length, 1));
				try {
					api.HEAPU8.set(bytes, ptr);
					api.create_attribute(id, path, name, BigInt(ptr), {
						...native,
						shape,
						maxshape: shape,
					});
				} finally {
					api._free(ptr);
				}
			});
			continue;
		}
		writeSpecialAttr(file, path, name, payload);
	}
}
