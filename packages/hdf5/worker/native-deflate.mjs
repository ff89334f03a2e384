// HDF5's deflate filter, redirected to Node's native zlib. Plain JavaScript: the read workers
// (read-worker.mjs) load it as well as the main thread (src/native-deflate.ts).
//
// h5wasm runs HDF5's deflate with the zlib compiled into its wasm module, about half as fast
// as Node's. HDF5 calls a filter through the function pointer of its filter class (the public
// `H5Z_class2_t`: version, id, encoder_present, decoder_present, name, can_apply, set_local,
// filter — eight 32-bit fields in wasm32), kept in the built-in class `H5Z_DEFLATE` and copied
// into HDF5's filter table when the library initialises its filters. `installNativeDeflate`
// finds those structs in the wasm heap (both exactly one pattern: version 1, id 1, both coders,
// name "deflate"), puts a wasm function that calls JavaScript into the module's function
// table, and points their `filter` field at it. Everything HDF5 deflates or inflates in that
// instance then runs here. Whatever fails here falls back to the original wasm filter, so a
// surprise costs speed, never data.
import { constants, createInflate, deflateSync } from "node:zlib";

const H5Z_FLAG_REVERSE = 0x0100;
/** Largest chunk inflated here (bigger ones go to HDF5's own filter). */
const MAX_CHUNK = 256 * 1024 * 1024;

// (module (import "e" "f" (func $f (param i32 i32 i32 i32 i32 i32) (result i32)))
//         (export "f" (func $f)))
const TRAMPOLINE = new Uint8Array([
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0b, 0x01, 0x60, 0x06,
	0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x01, 0x7f, 0x02, 0x07, 0x01, 0x01, 0x65,
	0x01, 0x66, 0x00, 0x00, 0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00,
]);

const stats = { inflated: 0, deflated: 0, taken: 0, fallbacks: 0 };

// Uncompressed size expected of the chunks about to be read (0 = unknown), set by the reader.
let hint = 0;

/** Sets the chunk size (bytes) the next reads inflate to; a wrong value costs only a retry. */
export function setInflateHint(bytes) {
	hint = Number.isSafeInteger(bytes) && bytes > 0 ? bytes : 0;
}

// One inflate stream per thread, reset per chunk, writing straight into HDF5's buffer in the
// wasm heap: no JavaScript buffer per chunk (each would live until the next garbage
// collection, tens of MB per thread). Uses the zlib handle behind Node's sync functions.
let engine = null;

/**
 * Inflates `input` into `out`; returns the byte count, or -1 when `out` may be too small.
 * Throws on a corrupt stream.
 */
function inflateInto(input, out) {
	if (engine === null || engine.destroyed) {
		engine = createInflate();
		engine.on("error", () => {}); // reported synchronously through `destroyed`
	} else engine.reset();
	const handle = engine._handle;
	const state = engine._writeState;
	if (
		typeof handle?.writeSync !== "function" ||
		!(state instanceof Uint32Array)
	)
		throw new Error("no zlib handle");
	handle.writeSync(
		constants.Z_FINISH,
		input,
		0,
		input.length,
		out,
		0,
		out.length,
	);
	if (engine.destroyed) {
		engine = null;
		throw new Error("corrupt deflate stream");
	}
	const availOut = state[0];
	return availOut === 0 ? -1 : out.length - availOut;
}

// Inflates HDF5's buffer at `buf` (`nbytes`) into a new heap buffer: [pointer, size, length].
function inflateChunk(api, buf, nbytes) {
	// A little over the hint: a full output buffer would be ambiguous (-1 above).
	let cap = hint > 0 ? hint + 64 : Math.max(65536, nbytes * 4);
	for (;;) {
		const p = api._H5allocate_memory(cap, 0);
		if (p === 0) throw new Error("out of wasm memory");
		const heap = api.HEAPU8;
		let n;
		try {
			n = inflateInto(
				heap.subarray(buf, buf + nbytes),
				heap.subarray(p, p + cap),
			);
		} catch (err) {
			api._H5free_memory(p);
			throw err;
		}
		if (n >= 0) return [p, cap, n];
		api._H5free_memory(p);
		if (cap >= MAX_CHUNK) throw new Error("chunk too large");
		cap = Math.min(MAX_CHUNK, cap * 2);
	}
}

/** Chunks inflated, deflated, taken ready-made (from `take`), and calls left to HDF5's filter. */
export function nativeDeflateStats() {
	return { ...stats };
}

// Addresses (byte offsets) of the deflate filter classes in the heap.
function findClasses(heap) {
	const u32 = new Uint32Array(heap.buffer, 0, heap.length >>> 2);
	const isName = (p) =>
		p > 0 &&
		p + 8 <= heap.length &&
		heap[p] === 0x64 && // d
		heap[p + 1] === 0x65 && // e
		heap[p + 2] === 0x66 && // f
		heap[p + 3] === 0x6c && // l
		heap[p + 4] === 0x61 && // a
		heap[p + 5] === 0x74 && // t
		heap[p + 6] === 0x65 && // e
		heap[p + 7] === 0;
	const found = [];
	for (let i = 0; i + 8 <= u32.length; i++) {
		if (u32[i] !== 1 || u32[i + 1] !== 1) continue;
		if (u32[i + 2] === 1 && u32[i + 3] === 1 && isName(u32[i + 4]))
			found.push(i * 4);
	}
	return found;
}

/**
 * Redirects HDF5's deflate filter in the h5wasm instance `api` (whose import object is `env`)
 * to Node's zlib. `take(input, level)` may return a ready deflate stream of `input` (chunks
 * encoded ahead of time). Returns false, changing nothing, when the filter classes cannot be
 * found unambiguously.
 */
export function installNativeDeflate(api, env, take) {
	const table = env?.__indirect_function_table;
	if (!(table instanceof WebAssembly.Table)) return false;
	const classes = findClasses(api.HEAPU8);
	if (classes.length === 0) return false;
	const view = () => new DataView(api.HEAPU8.buffer);
	// Every copy must call the same (original) function.
	const original = view().getUint32(classes[0] + 28, true);
	if (classes.some((at) => view().getUint32(at + 28, true) !== original))
		return false;
	const wasmFilter = table.get(original);
	if (typeof wasmFilter !== "function") return false;

	const filter = (flags, cdCount, cdPtr, nbytes, bufSizePtr, bufPtrPtr) => {
		try {
			let dv = view();
			const buf = dv.getUint32(bufPtrPtr, true);
			if (flags & H5Z_FLAG_REVERSE) {
				const [p, cap, n] = inflateChunk(api, buf, nbytes);
				api._H5free_memory(buf);
				dv = view();
				dv.setUint32(bufPtrPtr, p, true);
				dv.setUint32(bufSizePtr, cap, true);
				stats.inflated++;
				return n;
			}
			// HDF5's own default level when none is given.
			const level = cdCount > 0 ? dv.getUint32(cdPtr, true) : 6;
			if (!(level >= 0 && level <= 9)) throw new Error("bad level");
			const input = api.HEAPU8.subarray(buf, buf + nbytes);
			let out = take?.(input, level);
			if (out) stats.taken++;
			else {
				out = deflateSync(input, { level });
				stats.deflated++;
			}
			if (out.length === 0) throw new Error("empty result");
			if (out.length <= dv.getUint32(bufSizePtr, true)) {
				api.HEAPU8.set(out, buf);
				return out.length;
			}
			const p = api._H5allocate_memory(out.length, 0);
			if (p === 0) throw new Error("out of wasm memory");
			api.HEAPU8.set(out, p);
			api._H5free_memory(buf);
			dv = view();
			dv.setUint32(bufPtrPtr, p, true);
			dv.setUint32(bufSizePtr, out.length, true);
			return out.length;
		} catch {
			// HDF5's frames must never see a JavaScript exception: its own filter decides.
			stats.fallbacks++;
			return wasmFilter(flags, cdCount, cdPtr, nbytes, bufSizePtr, bufPtrPtr);
		}
	};
	const instance = new WebAssembly.Instance(
		new WebAssembly.Module(TRAMPOLINE),
		{
			e: { f: filter },
		},
	);
	const slot = table.grow(1);
	table.set(slot, instance.exports.f);
	const dv = view();
	for (const at of classes) dv.setUint32(at + 28, slot, true);
	return true;
}
