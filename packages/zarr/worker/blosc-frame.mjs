// The blosc 1.x frame (the format numcodecs, zarr-python and tensorstore read and write),
// built on native LZ4 and zstd and node:zlib instead of the numcodecs.js WebAssembly build:
// shuffle in JavaScript, then every split of every block compresses on libuv's thread pool at
// once (lz4, zlib), so one chunk already uses every core; zstd splits run synchronously on the
// calling thread (a codec worker, for big chunks) through one reused context.
//
//   header (16 bytes): version 2 | compressor version 1 | flags | typesize
//                      | nbytes u32 | blocksize u32 | cbytes u32        (little-endian)
//   flags: 0x01 byte shuffle, 0x02 stored uncompressed (memcpyed), 0x04 bit shuffle,
//          0x10 blocks not split, bits 5-7 compressor (0 blosclz, 1 lz4/lz4hc, 2 snappy,
//          3 zlib, 4 zstd)
//   then, unless memcpyed: one u32 offset per block, and per block one or `typesize` splits,
//   each a u32 size and that many bytes (a size equal to the split's length means raw bytes).
//
// Block sizes, split rules and the shuffles follow c-blosc 1.21, so what we write decodes
// with c-blosc and is laid out as numcodecs lays it out. Compressors this file does not
// run (blosclz, lz4hc encoding, snappy) answer null: the kernel uses the WebAssembly blosc.
//
// Plain JavaScript: it runs in the codec worker threads too (see codec-kernel.mjs).

import {
	blockSplits,
	DOBITSHUFFLE,
	DONT_SPLIT,
	DOSHUFFLE,
	BLOSC_HEADER as HEADER,
	MAX_SPLITS,
	MEMCPYED,
	MIN_BUFFERSIZE,
} from "./blosc-layout.mjs";
import { give, take } from "./buffer-pool.mjs";
import {
	lz4BlockCompress,
	lz4BlockDecompress,
	nativeLz4,
	nativeZstd,
	zlibCompress,
	zlibDecompress,
	zstdCompress,
	zstdDecompressInto,
} from "./native-codecs.mjs";
import {
	bitShuffle,
	bitUnshuffle,
	byteShuffle,
	byteUnshuffle,
} from "./shuffle.mjs";

// Marks the zstd decoder, which runs synchronously into the destination (see bloscDecode).
const ZSTD_INTO = () => {
	throw new Error("blosc: zstd splits decode in place");
};
const MAX_TYPESIZE = 255;
const L1 = 32 * 1024;
const MAX_BUFFERSIZE = 2 ** 31 - 1 - HEADER;

/** blosc compressor codes (header bits 5-7) by name. */
const FORMAT = { blosclz: 0, lz4: 1, lz4hc: 1, snappy: 2, zlib: 3, zstd: 4 };
const HCR = new Set(["lz4hc", "zlib", "zstd"]);

function u32(b, at) {
	return (
		(b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0
	);
}

function putU32(b, at, v) {
	b[at] = v;
	b[at + 1] = v >>> 8;
	b[at + 2] = v >>> 16;
	b[at + 3] = v >>> 24;
}

// c-blosc 1.21 split_block (BLOSC_FORWARD_COMPAT_SPLIT, the default).
function splitBlock(cname, typesize, blocksize) {
	return (
		cname !== "zstd" &&
		typesize <= MAX_SPLITS &&
		Math.floor(blocksize / typesize) >= MIN_BUFFERSIZE
	);
}

/** c-blosc 1.21 compute_blocksize. */
export function computeBlocksize(cname, clevel, typesize, nbytes, forced) {
	if (nbytes < typesize) return 1;
	let bs = nbytes;
	if (forced > 0) bs = Math.max(forced, MIN_BUFFERSIZE);
	else if (nbytes >= L1) {
		bs = L1;
		if (HCR.has(cname)) bs *= 2;
		const scale = [0.25, 0.5, 1, 2, 4, 4, 8, 8, 8, 8][clevel] ?? 1;
		bs *= scale;
		if (clevel === 9 && HCR.has(cname)) bs *= 2;
	}
	if (clevel > 0 && splitBlock(cname, typesize, bs)) {
		bs = Math.min(bs, 1 << 18) * typesize;
		bs = Math.min(Math.max(bs, 1 << 16), 1 << 20);
	}
	if (bs > nbytes) bs = nbytes;
	if (bs > typesize) bs = Math.floor(bs / typesize) * typesize;
	return bs;
}

// blosc's zstd levels: 2·clevel−1 below 9, zstd's maximum at 9.
function zstdLevel(clevel) {
	return clevel < 9 ? clevel * 2 - 1 : 22;
}

function streamCompressor(cname, clevel) {
	if (cname === "lz4") return (b) => lz4BlockCompress(b);
	// Synchronous, into pooled buffers (given back once the frame is put together).
	if (cname === "zstd") return async (b) => zstdCompress(b, zstdLevel(clevel));
	return (b) => zlibCompress("zlib", b, clevel);
}

/** True when {@link bloscEncode} handles `cname` (else the caller uses another encoder). */
export function bloscEncodes(cname) {
	if (cname === "lz4") return nativeLz4() !== null;
	if (cname === "zstd") return nativeZstd() !== null;
	return cname === "zlib";
}

/**
 * Compresses `bytes` into one blosc frame. `config`: cname, clevel (0-9), shuffle (0 none,
 * 1 byte, 2 bit), typesize, blocksize (0 = automatic).
 */
export async function bloscEncode(bytes, config) {
	const { cname, clevel } = config;
	const nbytes = bytes.length;
	if (nbytes > MAX_BUFFERSIZE)
		throw new Error(`blosc: ${nbytes} bytes exceed blosc's 2 GiB limit`);
	const ts =
		config.typesize > MAX_TYPESIZE ? 1 : Math.max(1, config.typesize | 0);
	const bs = computeBlocksize(cname, clevel, ts, nbytes, config.blocksize);
	let flags = FORMAT[cname] << 5;
	if (config.shuffle === 1) flags |= DOSHUFFLE;
	if (config.shuffle === 2) flags |= DOBITSHUFFLE;
	const split = splitBlock(cname, ts, bs);
	if (!split) flags |= DONT_SPLIT;
	if (clevel === 0 || nbytes < MIN_BUFFERSIZE)
		return memcpyed(bytes, flags, ts, bs);
	const nblocks = Math.ceil(nbytes / bs);
	// Shuffle every block into one scratch buffer at the block's own offset.
	let shuffled = bytes;
	if ((flags & DOSHUFFLE && ts > 1) || flags & DOBITSHUFFLE) {
		shuffled = take(nbytes);
		for (let j = 0; j < nblocks; j++) {
			const lo = j * bs;
			const hi = Math.min(nbytes, lo + bs);
			const src = bytes.subarray(lo, hi);
			const dst = shuffled.subarray(lo, hi);
			if (flags & DOSHUFFLE) byteShuffle(src, dst, ts);
			else if (hi - lo >= ts) bitShuffle(src, dst, ts);
			else dst.set(src);
		}
	}
	const compress = streamCompressor(cname, clevel);
	const splits = [];
	for (let j = 0; j < nblocks; j++) {
		const lo = j * bs;
		const bsize = Math.min(bs, nbytes - lo);
		const leftover = bsize < bs;
		const nsplits = split && !leftover ? ts : 1;
		const neblock = Math.floor(bsize / nsplits);
		for (let k = 0; k < nsplits; k++) {
			const raw = shuffled.subarray(lo + k * neblock, lo + (k + 1) * neblock);
			splits.push({ block: j, raw, out: compress(raw) });
		}
	}
	// Settle every split before failing: no rejection is left unobserved.
	const settled = await Promise.allSettled(splits.map((s) => s.out));
	const failed = settled.find((r) => r.status === "rejected");
	const done = () => {
		for (const r of settled) if (r.status === "fulfilled") give(r.value);
		if (shuffled !== bytes) give(shuffled);
	};
	if (failed) {
		done();
		throw failed.reason;
	}
	let total = HEADER + 4 * nblocks;
	for (const [i, s] of splits.entries()) {
		s.out = settled[i].value;
		// A split that does not shrink is stored raw (its size then equals its length).
		if (s.out.length === 0 || s.out.length >= s.raw.length) s.out = s.raw;
		total += 4 + s.out.length;
	}
	// Not worth it: store the buffer as it is, as c-blosc does.
	if (total > nbytes + HEADER) {
		done();
		return memcpyed(bytes, flags, ts, bs);
	}
	const out = take(total);
	header(out, flags, ts, nbytes, bs, total);
	let at = HEADER + 4 * nblocks;
	let block = -1;
	for (const s of splits) {
		if (s.block !== block) {
			block = s.block;
			putU32(out, HEADER + 4 * block, at);
		}
		putU32(out, at, s.out.length);
		out.set(s.out, at + 4);
		at += 4 + s.out.length;
	}
	done();
	return out;
}

function header(out, flags, ts, nbytes, bs, cbytes) {
	out[0] = 2;
	out[1] = 1;
	out[2] = flags;
	out[3] = ts;
	putU32(out, 4, nbytes);
	putU32(out, 8, bs);
	putU32(out, 12, cbytes);
}

function memcpyed(bytes, flags, ts, bs) {
	const out = take(HEADER + bytes.length);
	header(out, flags | MEMCPYED, ts, bytes.length, bs, out.length);
	out.set(bytes, HEADER);
	return out;
}

function streamDecompressor(format) {
	if (format === 1 && nativeLz4() !== null)
		return (s, n) => lz4BlockDecompress(s, n);
	// zstd: decoded synchronously straight into the split's place (bloscDecode).
	if (format === 4 && nativeZstd() !== null) return ZSTD_INTO;
	if (format === 3) return (s, n) => zlibDecompress("zlib", s, n);
	return null;
}

// Header checks of a frame to decode into at most `limit` bytes: `{ done }` when the frame
// needs no decompressor (empty, stored), null when its compressor is not one we run, else
// what both decoders need.
function openFrame(bytes, limit) {
	if (bytes.length < HEADER) throw new Error("blosc: truncated header");
	const version = bytes[0];
	const flags = bytes[2];
	const ts = bytes[3];
	const nbytes = u32(bytes, 4);
	const bs = u32(bytes, 8);
	const cbytes = u32(bytes, 12);
	if (version !== 1 && version !== 2) return null;
	if (flags & 0x08) throw new Error("blosc: unknown flags");
	if (cbytes > bytes.length)
		throw new Error(
			`blosc: header says ${cbytes} compressed bytes, chunk has ${bytes.length}`,
		);
	if (nbytes > limit)
		throw new Error(
			`blosc: header says ${nbytes} bytes, more than the ${limit} expected`,
		);
	if (nbytes === 0) return { done: new Uint8Array(0) };
	if (bs === 0 || bs > limit || ts === 0)
		throw new Error("blosc: bad block size or type size");
	if (flags & MEMCPYED) {
		if (nbytes + HEADER !== cbytes)
			throw new Error("blosc: stored size does not match the header");
		return { done: bytes.slice(HEADER, HEADER + nbytes) };
	}
	const nblocks = Math.ceil(nbytes / bs);
	if (nblocks > Math.floor((cbytes - HEADER) / 4))
		throw new Error("blosc: block offsets exceed the frame");
	return {
		format: flags >> 5,
		geometry: { nbytes, bs, ts, cbytes, dontSplit: flags & DONT_SPLIT },
		doShuffle: flags & DOSHUFFLE && ts > 1,
		doBit: flags & DOBITSHUFFLE,
		nblocks,
	};
}

// The first and last block holding decoded bytes [want[0], want[1]) (all blocks without).
function blockRange(f, want) {
	const bs = f.geometry.bs;
	let first = 0;
	let last = f.nblocks - 1;
	if (want && want[0] < want[1]) {
		first = Math.max(0, Math.min(last, Math.floor(want[0] / bs)));
		last = Math.max(first, Math.min(last, Math.floor((want[1] - 1) / bs)));
	}
	return [first, last];
}

// Undoes the shuffle of blocks `first` to `last` from `tmp` into `out`.
function unshuffleBlocks(tmp, out, f, first = 0, last = f.nblocks - 1) {
	const { nbytes, bs, ts } = f.geometry;
	for (let j = first; j <= last; j++) {
		const lo = j * bs;
		const hi = Math.min(nbytes, lo + bs);
		const src = tmp.subarray(lo, hi);
		const dst = out.subarray(lo, hi);
		if (f.doShuffle) byteUnshuffle(src, dst, ts);
		else if (hi - lo >= ts) bitUnshuffle(src, dst, ts);
		else dst.set(src);
	}
}

function checkSplit(b, dst) {
	if (b.length !== dst.length)
		throw new Error(
			`blosc: split decodes to ${b.length} bytes, not ${dst.length}`,
		);
	dst.set(b);
}

/**
 * Decodes one blosc frame into at most `limit` bytes, or answers null when this decoder does
 * not handle the frame's compressor or version (the caller then uses another decoder). With
 * `want` ([from, to) decoded bytes), only the blocks holding those bytes are decoded (the
 * rest of the result is undefined).
 * @throws {Error} malformed frames.
 */
export async function bloscDecode(bytes, limit, want) {
	const f = openFrame(bytes, limit);
	if (f === null || f.done) return f?.done ?? null;
	const decompress = streamDecompressor(f.format);
	if (decompress === null) return null;
	const [first, last] = blockRange(f, want);
	const out = take(f.geometry.nbytes);
	// Splits land in `tmp` when the block is shuffled, straight in `out` otherwise.
	const tmp = f.doShuffle || f.doBit ? take(f.geometry.nbytes) : out;
	try {
		const packed = placeSplits(bytes, tmp, f.geometry, first, last);
		if (decompress === ZSTD_INTO) {
			// The decoder writes into the split's place and fails on more than it takes.
			for (const { src, dst } of packed) {
				let n;
				try {
					n = zstdDecompressInto(src, dst);
				} catch (err) {
					throw new Error(`blosc: zstd split: ${err?.message ?? String(err)}`);
				}
				if (n !== dst.length)
					throw new Error(
						`blosc: split decodes to ${n} bytes, not ${dst.length}`,
					);
			}
			if (tmp !== out) unshuffleBlocks(tmp, out, f, first, last);
			return out;
		}
		const jobs = packed.map(({ src, dst }) =>
			decompress(src, dst.length).then((b) => checkSplit(b, dst)),
		);
		// Settle every job before failing, so none writes into a buffer after we return.
		const settled = await Promise.allSettled(jobs);
		const failed = settled.find((r) => r.status === "rejected");
		if (failed) throw failed.reason;
		if (tmp !== out) unshuffleBlocks(tmp, out, f, first, last);
		return out;
	} finally {
		if (tmp !== out) give(tmp);
	}
}

// Reads the block offsets and split sizes of a frame: stored splits are copied into `tmp`
// now, compressed ones come back as `{ src, dst }` for the decoder. Only blocks `first` to
// `last` (inclusive; default all) are placed.
function placeSplits(
	bytes,
	tmp,
	{ nbytes, bs, ts, cbytes, dontSplit },
	first = 0,
	last = Math.ceil(nbytes / bs) - 1,
) {
	const packed = [];
	for (let j = first; j <= last; j++) {
		const lo = j * bs;
		const bsize = Math.min(bs, nbytes - lo);
		const nsplits = blockSplits(dontSplit, ts, bsize, bs);
		const neblock = Math.floor(bsize / nsplits);
		let at = u32(bytes, HEADER + 4 * j);
		for (let k = 0; k < nsplits; k++) {
			if (at < HEADER || at + 4 > cbytes)
				throw new Error("blosc: split offset outside the frame");
			const cb = u32(bytes, at);
			at += 4;
			if (cb > cbytes - at)
				throw new Error("blosc: split size exceeds the frame");
			const src = bytes.subarray(at, at + cb);
			const dst = tmp.subarray(lo + k * neblock, lo + (k + 1) * neblock);
			if (cb === neblock) dst.set(src);
			else packed.push({ src, dst });
			at += cb;
		}
	}
	return packed;
}
