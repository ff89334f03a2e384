// Native (napi) zstd and lz4, and node:zlib. zstd (zstd-napi, libzstd 1.5) runs synchronously
// on the calling thread with one compression and one decompression context per thread, reused,
// writing into buffers of ours (pooled: no fresh output buffer and its page faults per chunk);
// callers that want parallelism run it on the codec worker threads. lz4 and zlib run on
// libuv's thread pool, so several chunks (or blosc blocks) compress at once without workers.
// Each loader answers null when its module cannot load (another platform, a binding that did
// not build): the kernel then keeps the numcodecs.js WebAssembly codecs.
//
// Plain JavaScript: it runs in the codec worker threads too (see codec-kernel.mjs).
import { createRequire } from "node:module";
import { promisify } from "node:util";
import zlib from "node:zlib";
import { give, take, trim } from "./buffer-pool.mjs";
import { zstdSizes } from "./zstd-frame.mjs";

const require = createRequire(import.meta.url);

// A decoded zstd frame may end in one partial block: bounds within this of the limit pass.
const ZSTD_BLOCK = 128 * 1024;
const ZSTD_MIN_LEVEL = -131072;
const ZSTD_MAX_LEVEL = 22;

let zstdModule;
let lz4Module;
// This thread's zstd contexts (their state, some MiB at level 1, is reused chunk after chunk).
let cctx;
let dctx;

/** The zstd-napi binding, or null. */
export function nativeZstd() {
	if (zstdModule === undefined) {
		try {
			const m = require("zstd-napi/binding.js");
			zstdModule =
				typeof m.CCtx === "function" &&
				typeof m.DCtx === "function" &&
				typeof m.compressBound === "function"
					? m
					: null;
		} catch {
			zstdModule = null;
		}
	}
	return zstdModule;
}

/** The lz4-napi binding, or null. */
export function nativeLz4() {
	if (lz4Module === undefined) {
		try {
			const m = require("lz4-napi");
			lz4Module =
				typeof m.compress === "function" && typeof m.uncompress === "function"
					? m
					: null;
		} catch {
			lz4Module = null;
		}
	}
	return lz4Module;
}

function u8(b) {
	return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * One zstd frame of `bytes` at `level` (numcodecs semantics: 0 is zstd's default), with its
 * content size in the header (the source size is known: numcodecs < 0.13 needs it), in a
 * buffer of the pool (hand it back with `give` once written). Synchronous.
 */
export function zstdCompress(bytes, level) {
	const z = nativeZstd();
	cctx ??= new z.CCtx();
	const l = Math.max(ZSTD_MIN_LEVEL, Math.min(ZSTD_MAX_LEVEL, level));
	// Compressed straight into a pooled buffer of the bound, then cut to what was written:
	// same-sized chunks reuse the same buffers.
	const out = take(z.compressBound(bytes.length));
	let n;
	try {
		n = cctx.compress(out, bytes, l);
	} catch (err) {
		give(out);
		throw err;
	}
	return trim(out, n);
}

/**
 * How to decode untrusted zstd `bytes` expected to hold at most `limit` bytes:
 * - "native": the frames are well formed and either all declare a content size within
 *   `limit`, or their block headers bound the output within `limit` plus one partial block,
 *   or `limit` is finite (the native decoder writes into a buffer of `limit` bytes and fails
 *   on more);
 * - "refuse": the frames declare more than `limit`;
 * - "fallback": no finite bound at all: a decoder that stops at its output size must take them.
 */
export function zstdRoute(bytes, limit) {
	const s = zstdSizes(bytes);
	if (s !== null && s.content >= 0)
		return s.content <= limit ? "native" : "refuse";
	if (Number.isFinite(limit)) return "native";
	return s !== null && s.bound <= limit + ZSTD_BLOCK ? "native" : "fallback";
}

// Decoded size to allocate for `bytes` under `limit`: the declared content size when every
// frame has one, else the limit (or the headers' bound when there is no limit); -1: refuse;
// null: no bound.
function decodedCap(bytes, limit) {
	const s = zstdSizes(bytes);
	if (s !== null && s.content >= 0) return s.content <= limit ? s.content : -1;
	if (Number.isFinite(limit)) return limit;
	return s === null ? null : s.bound;
}

/**
 * Decodes zstd frames into `dst` (exactly its size expected), synchronously: the decoder
 * never writes past `dst` and fails when the frames hold more.
 * @returns the number of bytes decoded.
 * @throws {Error} frames that do not decode or hold more than `dst` takes.
 */
export function zstdDecompressInto(bytes, dst) {
	dctx ??= new (nativeZstd().DCtx)();
	return dctx.decompress(dst, bytes);
}

/**
 * Decodes zstd frames into a pooled buffer, synchronously, or answers null when there is no
 * bound to decode into ({@link zstdRoute} "fallback").
 * @throws {Error} frames that declare more than `limit` bytes, hold more, or do not decode.
 */
export function zstdDecompress(bytes, limit) {
	const cap = decodedCap(bytes, limit);
	if (cap === -1)
		throw new Error(
			`zstd: frames declare more than the ${limit} bytes expected`,
		);
	if (cap === null) return null;
	const out = take(cap);
	let n;
	try {
		n = zstdDecompressInto(bytes, out);
	} catch (err) {
		give(out);
		throw new Error(
			/too small/i.test(err?.message ?? "")
				? `zstd: frames hold more than the ${cap} bytes expected`
				: `zstd: ${err?.message ?? String(err)}`,
		);
	}
	return trim(out, n);
}

/** numcodecs LZ4: 4-byte little-endian decoded size, then one LZ4 block. */
export async function lz4Compress(bytes) {
	return u8(await nativeLz4().compress(bytes));
}

/** Inverse of {@link lz4Compress}; the caller has checked the size prefix against its limit. */
export async function lz4Decompress(bytes) {
	return u8(await nativeLz4().uncompress(bytes));
}

/** A raw LZ4 block (no size prefix), as blosc stores one split. */
export async function lz4BlockCompress(bytes) {
	return (await lz4Compress(bytes)).subarray(4);
}

/** Decodes a raw LZ4 block of exactly `size` bytes. */
export async function lz4BlockDecompress(block, size) {
	const framed = take(block.length + 4);
	new DataView(framed.buffer).setUint32(0, size, true);
	framed.set(block, 4);
	let out;
	try {
		out = await lz4Decompress(framed);
	} finally {
		give(framed);
	}
	if (out.length !== size)
		throw new Error(`lz4: block decodes to ${out.length} bytes, not ${size}`);
	return out;
}

/** {@link lz4Decompress} on the calling thread. */
export function lz4DecompressSync(bytes) {
	return u8(nativeLz4().uncompressSync(bytes));
}

const deflateAsync = promisify(zlib.deflate);
const inflateAsync = promisify(zlib.inflate);
const gzipAsync = promisify(zlib.gzip);
const gunzipAsync = promisify(zlib.gunzip);

/** zlib (RFC 1950) or gzip (RFC 1952) stream of `bytes`. */
export async function zlibCompress(format, bytes, level) {
	const f = format === "gzip" ? gzipAsync : deflateAsync;
	return u8(await f(bytes, { level }));
}

/** Inverse of {@link zlibCompress}, never producing more than `limit` bytes. */
export async function zlibDecompress(format, bytes, limit) {
	const f = format === "gzip" ? gunzipAsync : inflateAsync;
	const opts =
		limit === undefined ? {} : { maxOutputLength: Math.max(1, limit) };
	return u8(await f(bytes, opts));
}
