// Native (napi) zstd and lz4, and node:zlib, behind small async functions. The napi calls run
// on libuv's thread pool, so several chunks (or blosc blocks) compress at once without worker
// threads. Each loader answers null when its module cannot load (another platform, a missing
// optional package): the kernel then keeps the numcodecs.js WebAssembly codecs.
//
// Plain JavaScript: it runs in the codec worker threads too (see codec-kernel.mjs).
import { createRequire } from "node:module";
import { promisify } from "node:util";
import zlib from "node:zlib";
import { give, take } from "./buffer-pool.mjs";
import { withContentSize, zstdSizes } from "./zstd-frame.mjs";

const require = createRequire(import.meta.url);

// A decoded zstd frame may end in one partial block: bounds within this of the limit pass.
const ZSTD_BLOCK = 128 * 1024;
const ZSTD_MIN_LEVEL = -131072;
const ZSTD_MAX_LEVEL = 22;

let zstdModule;
let lz4Module;

/** The @mongodb-js/zstd binding, or null. */
export function nativeZstd() {
	if (zstdModule === undefined) {
		try {
			// The package's index.js (1.2.2) drops the level argument: use the binding itself.
			const m = require("@mongodb-js/zstd/bindings.js");
			zstdModule =
				typeof m.compress === "function" && typeof m.decompress === "function"
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
 * content size in the header.
 */
export async function zstdCompress(bytes, level) {
	const z = nativeZstd();
	const l = Math.max(ZSTD_MIN_LEVEL, Math.min(ZSTD_MAX_LEVEL, level));
	const out = u8(await z.compress(bytes, l));
	return withContentSize(out, bytes.length, take);
}

/**
 * How to decode untrusted zstd `bytes` expected to hold at most `limit` bytes:
 * - "native": the frames are well formed and either all declare a content size within
 *   `limit` (the binding then decodes into a buffer of exactly that size and fails on more),
 *   or their block headers bound the output within `limit` plus one partial block;
 * - "refuse": the frames declare more than `limit`;
 * - "fallback": anything else (malformed, or no bound from the headers: high zstd levels
 *   split blocks finely): a decoder that stops at its output size must take them.
 */
export function zstdRoute(bytes, limit) {
	const s = zstdSizes(bytes);
	if (s === null) return "fallback";
	if (s.content >= 0) return s.content <= limit ? "native" : "refuse";
	return s.bound <= limit + ZSTD_BLOCK ? "native" : "fallback";
}

/**
 * Decodes zstd frames, or answers null when {@link zstdRoute} says "fallback".
 * @throws {Error} frames that declare more than `limit` bytes, or do not decode.
 */
export async function zstdDecompress(bytes, limit) {
	const route = zstdRoute(bytes, limit);
	if (route === "refuse")
		throw new Error(
			`zstd: frames declare more than the ${limit} bytes expected`,
		);
	if (route === "fallback") return null;
	return u8(await nativeZstd().decompress(bytes));
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
