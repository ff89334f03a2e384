/**
 * Stored ↔ native conversion of whole boxes: the only per-element transforms on the streaming
 * path are the byte-order swap and, for F-order storage, the transpose.
 */

import type { DType } from "./dtype/model.js";
import { needsSwap, swapInPlace } from "./dtype/swap.js";
import { transposeBox } from "./layout.js";

/**
 * Turns a box read from storage (stored byte order, stored order) into native C-order bytes.
 * May reuse `bytes` (it must be owned by the caller).
 */
export function storedToNative(
	bytes: Uint8Array,
	shape: readonly number[],
	dtype: DType,
	order: "C" | "F",
): Uint8Array {
	const out =
		order === "F" && shape.length > 1
			? transposeBox(bytes, shape, dtype.itemsize, "F")
			: bytes;
	if (needsSwap(dtype)) swapInPlace(dtype, out);
	return out;
}

/**
 * Turns native C-order bytes into the stored layout. Never mutates `bytes` (it may be the
 * caller's data); returns `bytes` itself when nothing changes.
 */
export function nativeToStored(
	bytes: Uint8Array,
	shape: readonly number[],
	dtype: DType,
	order: "C" | "F",
): Uint8Array {
	let out = bytes;
	if (order === "F" && shape.length > 1)
		out = transposeBox(bytes, shape, dtype.itemsize, "C");
	if (needsSwap(dtype)) {
		if (out === bytes) out = bytes.slice();
		swapInPlace(dtype, out);
	}
	return out;
}
