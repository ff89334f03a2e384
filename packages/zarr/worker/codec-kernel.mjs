// Chunk codec kernel: the bytes→bytes codecs of a Zarr pipeline (blosc, zstd, lz4, gzip, zlib,
// crc32c, shuffle, bz2), shared by the worker threads and the inline path of the main thread.
//
// Plain JavaScript on purpose: worker_threads load files with Node itself, which (Node 20)
// cannot run the TypeScript sources that tests and `@arraystore/source` consumers use. The
// TypeScript side sees this module through the `CodecKernel` interface in src/kernel.ts.
//
// Codecs come from zarrita's registry, extended here: zstd, lz4 and blosc run on native code
// (napi zstd and lz4, node:zlib; blosc framing in blosc-frame.mjs) with zarrita's numcodecs.js
// WebAssembly codecs as the fallback (module missing, a blosc compressor we do not run, frames
// the native decoder may not take) and as the whole path when a task says `native: false`;
// gzip/zlib run on node:zlib's thread pool with an output cap on decode; crc32c gains an
// encoder and checks the checksum on decode.
import { registry } from "zarrita";
import { bloscDecode, bloscEncode, bloscEncodes } from "./blosc-frame.mjs";
import { give, take } from "./buffer-pool.mjs";
import {
	lz4Compress,
	lz4Decompress,
	lz4DecompressSync,
	nativeLz4,
	nativeZstd,
	zlibCompress,
	zlibDecompress,
	zstdCompress,
	zstdDecompress,
} from "./native-codecs.mjs";
import { frameHeader, framePrefix } from "./zstd-frame.mjs";

/** An error the TypeScript side maps to a typed error (`kind`: malformed | unsupported). */
class KernelError extends Error {
	constructor(kind, message) {
		super(message);
		this.kind = kind;
	}
}

const CRC_TABLE = (() => {
	const t = new Int32Array(256 * 8);
	for (let n = 0; n < 256; n++) {
		let c = n;
		for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
		t[n] = c;
	}
	// Slicing-by-8 tables.
	for (let n = 0; n < 256; n++) {
		let c = t[n];
		for (let s = 1; s < 8; s++) {
			c = t[c & 0xff] ^ (c >>> 8);
			t[s * 256 + n] = c;
		}
	}
	return t;
})();

/** CRC-32C (Castagnoli) of `bytes`. */
export function crc32c(bytes) {
	let crc = ~0;
	let i = 0;
	const n = bytes.length;
	const t = CRC_TABLE;
	for (; i + 8 <= n; i += 8) {
		const a =
			(bytes[i] |
				(bytes[i + 1] << 8) |
				(bytes[i + 2] << 16) |
				(bytes[i + 3] << 24)) ^
			crc;
		crc =
			t[7 * 256 + (a & 0xff)] ^
			t[6 * 256 + ((a >>> 8) & 0xff)] ^
			t[5 * 256 + ((a >>> 16) & 0xff)] ^
			t[4 * 256 + (a >>> 24)] ^
			t[3 * 256 + bytes[i + 4]] ^
			t[2 * 256 + bytes[i + 5]] ^
			t[256 + bytes[i + 6]] ^
			t[bytes[i + 7]];
	}
	for (; i < n; i++) crc = t[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
	return ~crc >>> 0;
}

class Crc32cCodec {
	kind = "bytes_to_bytes";
	static fromConfig() {
		return new Crc32cCodec();
	}
	encode(bytes) {
		const out = new Uint8Array(bytes.length + 4);
		out.set(bytes);
		new DataView(out.buffer).setUint32(bytes.length, crc32c(bytes), true);
		return out;
	}
	decode(bytes) {
		if (bytes.length < 4)
			throw new KernelError(
				"malformed",
				"crc32c: chunk shorter than its checksum",
			);
		const body = bytes.subarray(0, bytes.length - 4);
		const want = new DataView(
			bytes.buffer,
			bytes.byteOffset + body.length,
			4,
		).getUint32(0, true);
		if (crc32c(body) !== want)
			throw new KernelError(
				"malformed",
				"crc32c: checksum mismatch (corrupted chunk)",
			);
		return body;
	}
	computeEncodedSize(n) {
		return n + 4;
	}
}

function zlibCodec(format) {
	return class NodeZlibCodec {
		kind = "bytes_to_bytes";
		constructor(level) {
			this.level = level;
		}
		static fromConfig(config) {
			const level = config?.level ?? 1;
			if (!Number.isInteger(level) || level < 0 || level > 9)
				throw new KernelError(
					"malformed",
					`${format}: level ${level} is not 0-9`,
				);
			return new NodeZlibCodec(level);
		}
		encode(bytes) {
			return zlibCompress(format, bytes, this.level);
		}
		decode(bytes) {
			return this.decodeLimited(bytes, undefined);
		}
		async decodeLimited(bytes, limit) {
			try {
				return await zlibDecompress(format, bytes, limit);
			} catch (err) {
				throw new KernelError("malformed", `${format}: ${err.message}`);
			}
		}
	};
}

// zarrita's own codecs (numcodecs.js WebAssembly), kept before the registry is extended.
const WASM = {
	zstd: registry.get("zstd"),
	lz4: registry.get("lz4"),
	blosc: registry.get("blosc"),
};

async function wasmCodec(id, config) {
	const Codec = await WASM[id]();
	return Codec.fromConfig({ ...config });
}

class NativeZstd {
	kind = "bytes_to_bytes";
	#wasm;
	constructor(config) {
		this.config = { ...config };
		this.level = config?.level ?? 0;
	}
	static fromConfig(config) {
		return new NativeZstd(config);
	}
	#fallback() {
		this.#wasm ??= wasmCodec("zstd", this.config);
		return this.#wasm;
	}
	async encode(bytes) {
		if (nativeZstd() === null) return (await this.#fallback()).encode(bytes);
		return zstdCompress(bytes, this.level);
	}
	decode(bytes) {
		return this.decodeLimited(bytes, Number.POSITIVE_INFINITY);
	}
	async decodeLimited(bytes, limit) {
		const out = nativeZstd() === null ? null : zstdDecompress(bytes, limit);
		return out ?? (await this.#fallback()).decode(bytes);
	}
	// At least the first `want[1]` decoded bytes (maybe all): see zstdHead; the whole frame
	// when the cut comes short (or saves nothing). `bytes` may be the first bytes of a stored
	// value of `total` bytes: null then when they do not reach far enough (the caller reads
	// it all).
	async decodePart(bytes, limit, want, total = bytes.length) {
		const cutInput = total > bytes.length;
		const out =
			nativeZstd() === null
				? undefined
				: zstdHead(bytes, limit, want[1], total);
		if (out !== undefined) return out;
		return cutInput ? null : this.decodeLimited(bytes, limit);
	}
}

/**
 * At least the first `upTo` decoded bytes of zstd `bytes` (maybe all), synchronously: the
 * frame cut after the block that holds byte upTo - 1, so the decoder stops there. Undefined
 * when the cut comes short or saves nothing (decode the whole frame then); null when `bytes`,
 * the first bytes of a stored value of `total` bytes, do not reach far enough.
 */
function zstdHead(bytes, limit, upTo, total) {
	const cutInput = total > bytes.length;
	if (upTo > limit - (limit >> 3)) return cutInput ? null : undefined;
	const h = frameHeader(bytes, 0);
	if (h !== null && h.fcs > limit)
		throw new KernelError(
			"malformed",
			`zstd: frames declare more than the ${limit} bytes expected`,
		);
	const cut = framePrefix(bytes, upTo, take, total);
	if (cut === null) return cutInput ? null : undefined;
	let out;
	try {
		out = zstdDecompress(cut, limit);
	} catch {
		// A frame the cut does not decode: the whole frame decides (and reports).
		out = null;
	} finally {
		give(cut);
	}
	if (out !== null && out.length >= upTo) return out;
	give(out);
	return cutInput ? null : undefined;
}

// numcodecs' LZ4 frame: 4-byte little-endian size, then one LZ4 block.
const LZ4_MAX_BUFFER = 0x7e000000;
class NativeLz4 {
	kind = "bytes_to_bytes";
	#wasm;
	constructor(config) {
		this.config = { ...config };
	}
	static fromConfig(config) {
		return new NativeLz4(config);
	}
	#fallback() {
		this.#wasm ??= wasmCodec("lz4", this.config);
		return this.#wasm;
	}
	async encode(bytes) {
		if (nativeLz4() === null) return (await this.#fallback()).encode(bytes);
		if (bytes.length > LZ4_MAX_BUFFER)
			throw new Error(`lz4: ${bytes.length} bytes exceed numcodecs' limit`);
		return lz4Compress(bytes);
	}
	async decode(bytes) {
		if (nativeLz4() === null) return (await this.#fallback()).decode(bytes);
		const out = await lz4Decompress(bytes);
		if (out.length !== u32(bytes, 0))
			throw new KernelError("malformed", "lz4: decoded size differs");
		return out;
	}
}

class NativeBlosc {
	kind = "bytes_to_bytes";
	#wasm;
	constructor(config) {
		this.config = {
			cname: "lz4",
			clevel: 5,
			shuffle: 1,
			blocksize: 0,
			typesize: 1,
			...config,
		};
	}
	static fromConfig(config) {
		return new NativeBlosc(config);
	}
	#fallback() {
		this.#wasm ??= wasmCodec("blosc", this.config);
		return this.#wasm;
	}
	async encode(bytes) {
		if (!bloscEncodes(this.config.cname))
			return (await this.#fallback()).encode(bytes);
		return bloscEncode(bytes, this.config);
	}
	decode(bytes) {
		return this.decodeLimited(bytes, Number.POSITIVE_INFINITY);
	}
	async decodeLimited(bytes, limit) {
		const out = await bloscDecode(bytes, limit);
		return out ?? (await this.#fallback()).decode(bytes);
	}
	// Only the blocks holding decoded bytes [want[0], want[1]) (the rest is undefined).
	async decodePart(bytes, limit, want) {
		const out = await bloscDecode(bytes, limit, want);
		return out ?? (await this.#fallback()).decode(bytes);
	}
}

// bzip2 decoding through compressjs (pure JavaScript). Its encoder runs at about 100 KB/s, so
// bz2 is read-only: creation refuses it (src/codec-plan.ts).
function bz2Codec(compressjs) {
	return class Bz2Codec {
		kind = "bytes_to_bytes";
		static fromConfig() {
			return new Bz2Codec();
		}
		encode() {
			throw new KernelError("unsupported", "bz2 (encoding)");
		}
		decode(bytes) {
			if (
				bytes.length < 4 ||
				bytes[0] !== 0x42 ||
				bytes[1] !== 0x5a ||
				bytes[2] !== 0x68
			)
				throw new KernelError("malformed", "bz2: not a bzip2 stream");
			try {
				return compressjs.Bzip2.decompressFile(bytes);
			} catch (err) {
				throw new KernelError(
					"malformed",
					`bz2: ${err?.message ?? String(err)}`,
				);
			}
		}
	};
}

registry.set("zstd", () => NativeZstd);
registry.set("numcodecs.zstd", () => NativeZstd);
registry.set("lz4", () => NativeLz4);
registry.set("numcodecs.lz4", () => NativeLz4);
registry.set("blosc", () => NativeBlosc);
registry.set("numcodecs.blosc", () => NativeBlosc);
const NodeGzip = zlibCodec("gzip");
const NodeZlib = zlibCodec("zlib");

// Extend (not bypass) zarrita's registry: these names are what zarrita itself resolves.
registry.set("gzip", () => NodeGzip);
registry.set("numcodecs.gzip", () => NodeGzip);
registry.set("zlib", () => NodeZlib);
registry.set("numcodecs.zlib", () => NodeZlib);
registry.set("crc32c", () => Crc32cCodec);
registry.set("numcodecs.crc32c", () => Crc32cCodec);
const loadBz2 = () =>
	import("compressjs").then((m) => bz2Codec(m.default ?? m));
registry.set("bz2", loadBz2);
registry.set("numcodecs.bz2", loadBz2);

/** Registry names of the codecs this kernel runs, by our canonical id. */
const NAMES = {
	blosc: "blosc",
	zstd: "zstd",
	lz4: "lz4",
	gzip: "gzip",
	zlib: "zlib",
	crc32c: "crc32c",
	shuffle: "numcodecs.shuffle",
	bz2: "numcodecs.bz2",
};

const cache = new Map();

async function codecFor(spec, native) {
	const key = `${native ? "n" : "w"}:${spec.id}:${JSON.stringify(spec.config ?? {})}`;
	let hit = cache.get(key);
	if (hit === undefined) {
		const name = NAMES[spec.id];
		const load =
			!native && spec.id in WASM
				? WASM[spec.id]
				: name === undefined
					? undefined
					: registry.get(name);
		if (load === undefined) throw new KernelError("unsupported", spec.id);
		const Codec = await load();
		try {
			hit = Codec.fromConfig({ ...spec.config });
		} catch (err) {
			if (err instanceof KernelError) throw err;
			throw new KernelError("malformed", `${spec.id}: ${err.message}`);
		}
		if (cache.size > 256) cache.clear();
		cache.set(key, hit);
	}
	return hit;
}

/**
 * True when every codec of `chain` does its heavy work off the calling thread (napi lz4,
 * node:zlib, blosc framing of those): such chains run inline, in parallel on libuv's thread
 * pool, without the hop to a worker. zstd runs on the calling thread (synchronous binding, no
 * output buffer per call): its chains go to the workers.
 */
export function threadPoolChain(chain, native = true) {
	return chain.every((spec) => {
		switch (spec.id) {
			case "gzip":
			case "zlib":
				return true;
			case "lz4":
				return native && nativeLz4() !== null;
			case "blosc": {
				const cname = spec.config?.cname;
				return native && cname !== "zstd" && bloscEncodes(cname);
			}
			default:
				return false;
		}
	});
}

/**
 * Hands an encoded chunk back once it is written: buffers the kernel's pool lent go back to
 * it (see buffer-pool.mjs), anything else is left to the collector.
 */
export function release(bytes) {
	give(bytes);
}

/** A buffer of `n` bytes from the same pool (chunk file reads); hand it back with release. */
export function lend(n) {
	return take(n);
}

/** Which native modules loaded (for tests and diagnostics). */
export function nativeCodecs() {
	return { zstd: nativeZstd() !== null, lz4: nativeLz4() !== null };
}

/** Encodes `bytes` through `chain` (first codec first); `native` false forces WebAssembly. */
export async function encodeChain(chain, bytes, native = true) {
	let b = bytes;
	for (const spec of chain) {
		const codec = await codecFor(spec, native);
		try {
			b = await codec.encode(b);
		} catch (err) {
			throw new KernelError(
				"encode",
				`${spec.id} encode failed: ${err.message}`,
			);
		}
		if (!(b instanceof Uint8Array))
			b = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
	}
	return b;
}

function u32(bytes, at) {
	return (
		(bytes[at] |
			(bytes[at + 1] << 8) |
			(bytes[at + 2] << 16) |
			(bytes[at + 3] << 24)) >>>
		0
	);
}

// Header checks before a decoder sizes its output from untrusted bytes.
function precheck(id, bytes, limit) {
	if (id === "blosc") {
		if (bytes.length < 16)
			throw new KernelError("malformed", "blosc: truncated header");
		const nbytes = u32(bytes, 4);
		const cbytes = u32(bytes, 12);
		if (bytes[0] < 1 || bytes[0] > 4)
			throw new KernelError(
				"malformed",
				`blosc: unknown format version ${bytes[0]}`,
			);
		if (cbytes > bytes.length)
			throw new KernelError(
				"malformed",
				`blosc: header says ${cbytes} compressed bytes, chunk has ${bytes.length}`,
			);
		if (nbytes > limit)
			throw new KernelError(
				"malformed",
				`blosc: header says ${nbytes} bytes, more than the ${limit} expected`,
			);
	} else if (id === "lz4") {
		if (bytes.length < 4)
			throw new KernelError("malformed", "lz4: truncated header");
		const n = u32(bytes, 0);
		if (n > limit)
			throw new KernelError(
				"malformed",
				`lz4: header says ${n} bytes, more than the ${limit} expected`,
			);
	} else if (id === "zstd") {
		if (bytes.length < 4 || u32(bytes, 0) !== 0xfd2fb528)
			throw new KernelError("malformed", "zstd: not a zstd frame");
	}
}

/**
 * Decodes `bytes` through `chain` (last codec first). `limits[i]` caps the output of codec i
 * (its input size on encode): decoders never allocate more than that from a header. With
 * `want` ([from, to) of the decoded bytes), the first codec may decode only part: zstd stops
 * after the block holding byte to - 1 (the result may be shorter), blosc decodes only the
 * blocks holding the range (the rest of the result is undefined).
 */
export async function decodeChain(chain, bytes, limits, native = true, want) {
	let b = bytes;
	for (let i = chain.length - 1; i >= 0; i--) {
		const spec = chain[i];
		const limit = limits[i];
		precheck(spec.id, b, limit);
		const codec = await codecFor(spec, native);
		try {
			b = await (i === 0 && want !== undefined && codec.decodePart
				? codec.decodePart(b, limit, want)
				: codec.decodeLimited
					? codec.decodeLimited(b, limit)
					: codec.decode(b));
		} catch (err) {
			if (err instanceof KernelError) throw err;
			throw new KernelError(
				"malformed",
				`${spec.id}: ${err?.message ?? String(err)}`,
			);
		}
		if (!(b instanceof Uint8Array))
			b = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
		if (b.length > limit)
			throw new KernelError(
				"malformed",
				`${spec.id}: decoded ${b.length} bytes, more than the ${limit} expected`,
			);
	}
	return b;
}

// One codec's decode on the calling thread, or null when it has none here.
function decodeOneSync(spec, bytes, native, limit, want) {
	switch (spec.id) {
		case "crc32c":
			return Crc32cCodec.fromConfig().decode(bytes);
		case "lz4": {
			if (!native || nativeLz4() === null) return null;
			const out = lz4DecompressSync(bytes);
			if (out.length !== u32(bytes, 0))
				throw new KernelError("malformed", "lz4: decoded size differs");
			return out;
		}
		case "zstd": {
			if (!native || nativeZstd() === null) return null;
			const part =
				want === undefined
					? undefined
					: zstdHead(bytes, limit, want[1], bytes.length);
			return part ?? zstdDecompress(bytes, limit);
		}
		// blosc: its splits decode in parallel on libuv's pool (decodePart), faster than here.
		default:
			return null;
	}
}

/**
 * {@link decodeChain} on the calling thread for chains of crc32c, native lz4 and native zstd
 * (one small read: the trip to libuv's pool costs more than one such chunk), or null when a
 * codec of the chain has no synchronous decoder here. With `want`, a zstd first codec may stop
 * early as in {@link decodeChain}.
 */
export function decodeChainSync(chain, bytes, limits, native = true, want) {
	let b = bytes;
	for (let i = chain.length - 1; i >= 0; i--) {
		const spec = chain[i];
		const limit = limits[i];
		precheck(spec.id, b, limit);
		let next;
		try {
			next = decodeOneSync(spec, b, native, limit, i === 0 ? want : undefined);
		} catch (err) {
			if (err instanceof KernelError) throw err;
			throw new KernelError(
				"malformed",
				`${spec.id}: ${err?.message ?? String(err)}`,
			);
		}
		if (next === null) {
			if (b !== bytes) give(b);
			return null;
		}
		if (b !== bytes && next.buffer !== b.buffer) give(b);
		b = next;
		if (b.length > limit)
			throw new KernelError(
				"malformed",
				`${spec.id}: decoded ${b.length} bytes, more than the ${limit} expected`,
			);
	}
	return b;
}

/**
 * {@link decodeChain} with `want` of only the first bytes of a stored chunk of `total` bytes
 * (one small read of a zstd chunk reads no further than it needs): at least decoded bytes
 * [0, want[1]), or null when `bytes` do not reach far enough or the chain is not one zstd
 * codec (the caller then reads the whole chunk).
 */
export async function decodeHead(chain, bytes, limits, want, total) {
	const spec = chain[0];
	if (chain.length !== 1 || want === undefined || spec.id !== "zstd")
		return null;
	precheck(spec.id, bytes, limits[0]);
	if (nativeZstd() === null) return null;
	const codec = await codecFor(spec, true);
	if (!codec.decodePart) return null;
	let b;
	try {
		b = await codec.decodePart(bytes, limits[0], want, total);
	} catch (err) {
		if (err instanceof KernelError) throw err;
		throw new KernelError("malformed", `zstd: ${err?.message ?? String(err)}`);
	}
	if (b === null) return null;
	if (b.length > limits[0])
		throw new KernelError(
			"malformed",
			`zstd: decoded ${b.length} bytes, more than the ${limits[0]} expected`,
		);
	return b;
}

/** Runs one task message: `{ op: "encode" | "decode", chain, bytes, limits, native }`. */
export function runTask(task) {
	const native = task.native ?? true;
	return task.op === "encode"
		? encodeChain(task.chain, task.bytes, native)
		: decodeChain(task.chain, task.bytes, task.limits, native, task.want);
}
