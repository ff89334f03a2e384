/**
 * Element I/O through h5wasm's module-level calls (`get_dataset_data` / `set_dataset_data`):
 * raw element bytes for every fixed-size type (float16 included, which h5wasm's `slice`
 * refuses), in a reused heap buffer, and variable-length strings as C-string pointers.
 * These are internal h5wasm APIs: they live here only, and h5wasm is pinned exactly.
 */
import {
	LimitExceededError,
	shapeSize,
	UnsupportedError,
} from "@arraystore/core";
import { ADAPTER } from "./errors.js";
import type { H5Api } from "./module.js";

/** Largest single transfer through the wasm heap (the heap is capped at 2 GiB and never shrinks). */
export const MAX_TRANSFER_BYTES: number = 256 * 1024 * 1024;

let scratchPtr = 0;
let scratchSize = 0;

// One heap buffer reused for every transfer: the wasm heap never shrinks, so a steady buffer
// keeps the resident floor at the largest block instead of fragmenting it.
function scratch(api: H5Api, n: number): number {
	if (n > MAX_TRANSFER_BYTES) {
		throw new LimitExceededError(
			`one HDF5 transfer of ${n} bytes exceeds ${MAX_TRANSFER_BYTES} bytes`,
			{ adapter: ADAPTER },
		);
	}
	if (n <= scratchSize && scratchPtr !== 0) return scratchPtr;
	if (scratchPtr !== 0) api._free(scratchPtr);
	scratchPtr = 0;
	scratchSize = 0;
	const size = Math.max(n, 64 * 1024);
	const ptr = api._malloc(size);
	if (ptr === 0)
		throw new LimitExceededError(
			`the HDF5 wasm heap cannot allocate ${size} bytes`,
			{ adapter: ADAPTER },
		);
	scratchPtr = ptr;
	scratchSize = size;
	return ptr;
}

function selection(
	start: readonly number[],
	shape: readonly number[],
): [bigint[] | null, bigint[] | null, bigint[] | null] {
	// 0-d datasets: "select all" (an empty hyperslab list is undefined behaviour in the binding).
	if (shape.length === 0) return [null, null, null];
	return [shape.map(BigInt), start.map(BigInt), shape.map(() => 1n)];
}

/** Reads the box into `out` (exactly box size × element size bytes). */
export function readRaw(
	api: H5Api,
	fileId: bigint,
	path: string,
	start: readonly number[],
	shape: readonly number[],
	out: Uint8Array,
): void {
	if (out.length === 0) return;
	const ptr = scratch(api, out.length);
	const [count, offset, strides] = selection(start, shape);
	api.get_dataset_data(fileId, path, count, offset, strides, BigInt(ptr));
	out.set(api.HEAPU8.subarray(ptr, ptr + out.length));
}

/** Writes `bytes` (box size × element size, in the byte order the binding expects) into the box. */
export function writeRaw(
	api: H5Api,
	fileId: bigint,
	path: string,
	start: readonly number[],
	shape: readonly number[],
	bytes: Uint8Array,
): void {
	if (bytes.length === 0) return;
	const ptr = scratch(api, bytes.length);
	api.HEAPU8.set(bytes, ptr);
	const [count, offset, strides] = selection(start, shape);
	api.set_dataset_data(fileId, path, count, offset, strides, BigInt(ptr));
}

const utf8 = new TextDecoder("utf-8");

function cString(heap: Uint8Array, ptr: number): Uint8Array {
	if (ptr === 0) return new Uint8Array(0);
	let end = ptr;
	while (end < heap.length && heap[end] !== 0) end++;
	return heap.slice(ptr, end);
}

/** Reads the stored bytes of each variable-length string in the box (C order). */
export function readVlenBytes(
	api: H5Api,
	fileId: bigint,
	path: string,
	start: readonly number[],
	shape: readonly number[],
): Uint8Array[] {
	const n = shapeSize(shape);
	if (n === 0) return [];
	const ptr = scratch(api, n * 4);
	const [count, offset, strides] = selection(start, shape);
	api.get_dataset_data(fileId, path, count, offset, strides, BigInt(ptr));
	const out: Uint8Array[] = [];
	try {
		const heap = api.HEAPU8;
		const ptrs = new Uint32Array(heap.buffer, ptr, n).slice();
		for (const p of ptrs) out.push(cString(heap, p));
	} finally {
		if (count === null) api.reclaim_vlen_memory(fileId, path, "", BigInt(ptr));
		else api.reclaim_vlen_memory_count(fileId, path, "", BigInt(ptr), count);
	}
	return out;
}

/** Reads variable-length strings in the box as JS strings (C order). */
export function readVlen(
	api: H5Api,
	fileId: bigint,
	path: string,
	start: readonly number[],
	shape: readonly number[],
): string[] {
	return readVlenBytes(api, fileId, path, start, shape).map((b) =>
		utf8.decode(b),
	);
}

/** Writes variable-length strings into the box (C order). */
export function writeVlen(
	api: H5Api,
	fileId: bigint,
	path: string,
	start: readonly number[],
	shape: readonly number[],
	values: readonly string[],
): void {
	if (values.length === 0) return;
	const encoder = new TextEncoder();
	const encoded = values.map((s) => {
		if (typeof s !== "string")
			throw new UnsupportedError(
				"variable-length string arrays take strings only",
				{ adapter: ADAPTER },
			);
		if (s.includes("\0"))
			throw new UnsupportedError(
				"HDF5 variable-length strings cannot contain NUL characters",
				{ adapter: ADAPTER },
			);
		return encoder.encode(s);
	});
	const total = encoded.reduce((a, b) => a + b.length + 1, 0);
	const strings = api._malloc(Math.max(total, 1));
	if (strings === 0)
		throw new LimitExceededError(
			`the HDF5 wasm heap cannot allocate ${total} bytes`,
			{ adapter: ADAPTER },
		);
	try {
		const ptrs = new Uint32Array(values.length);
		let at = strings;
		for (let i = 0; i < encoded.length; i++) {
			const e = encoded[i] as Uint8Array;
			api.HEAPU8.set(e, at);
			api.HEAPU8[at + e.length] = 0;
			ptrs[i] = at;
			at += e.length + 1;
		}
		writeRaw(api, fileId, path, start, shape, new Uint8Array(ptrs.buffer));
	} finally {
		api._free(strings);
	}
}
