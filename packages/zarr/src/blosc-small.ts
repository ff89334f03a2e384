/**
 * Small reads of blosc-lz4 frames: the blocks holding the wanted bytes are decoded split by
 * split with the WebAssembly LZ4 decoder (lz4-wasm.ts) in place in its memory, then
 * unshuffled straight into a pooled buffer — no fresh buffer per split, no copy of each split
 * into place, no trip to libuv's pool. Frames it does not take (other compressors, stored
 * uncompressed, bit-shuffled, or anything that does not add up) are left to the kernel's
 * decoder, which also gives the verdict on malformed ones.
 */
import {
	BLOSC_HEADER,
	blockSplits,
	DOBITSHUFFLE,
	DONT_SPLIT,
	DOSHUFFLE,
	MEMCPYED,
} from "../worker/blosc-layout.mjs";
import { planBlosc } from "./blosc-ranges.js";
import { LZ4_SLACK, lz4Wasm, UNSHUFFLE_SLACK } from "./lz4-wasm.js";

const FORMAT_LZ4 = 1;
// Frames with larger splits or blocks go to the kernel (the module's memory never shrinks).
const MAX_SPAN = 8 * 1024 * 1024;

/** Byte unshuffle of one block (`byteUnshuffle` of @arraystore/core/shuffle). */
export type Unshuffle = (src: Uint8Array, dst: Uint8Array, ts: number) => void;

const align = (n: number): number => Math.ceil(n / 16) * 16;

/** What {@link decodeBloscSmall} needs besides the frame. */
export interface BloscSmallIo {
	/** The kernel pool's allocator and its release. */
	readonly alloc: (n: number) => Uint8Array;
	readonly release: (bytes: Uint8Array) => void;
	readonly unshuffle: Unshuffle;
}

/**
 * Decodes the blocks of the blosc frame `bytes` holding decoded bytes `want` ([from, to)) and
 * hands them to `use` at once: `raw` holds the decoded chunk's bytes from `shift` on (only
 * the wanted ones sure to be decoded; it is reused after `use` returns). Answers false,
 * calling nothing, when the frame is one to leave to the kernel (see the file comment).
 * `chunkBytes` is the chunk's decoded size, `itemsize` its element size.
 */
export function decodeBloscSmall(
	bytes: Uint8Array,
	chunkBytes: number,
	itemsize: number,
	want: readonly [number, number],
	io: BloscSmallIo,
	use: (raw: Uint8Array, shift: number) => void,
): boolean {
	const { alloc, release, unshuffle } = io;
	if (bytes.length < BLOSC_HEADER || want[1] <= want[0]) return false;
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	const version = bytes[0] as number;
	const flags = bytes[2] as number;
	const ts = bytes[3] as number;
	const nbytes = view.getUint32(4, true);
	const bs = view.getUint32(8, true);
	const cbytes = view.getUint32(12, true);
	if (
		(version !== 1 && version !== 2) ||
		flags >> 5 !== FORMAT_LZ4 ||
		flags & (MEMCPYED | DOBITSHUFFLE | 0x08) ||
		nbytes !== chunkBytes ||
		want[1] > nbytes ||
		cbytes > bytes.length ||
		ts === 0 ||
		bs === 0 ||
		bs > MAX_SPAN
	)
		return false;
	const w = lz4Wasm();
	if (w === null) return false;
	const nblocks = Math.ceil(nbytes / bs);
	if (BLOSC_HEADER + 4 * nblocks > cbytes) return false;
	const first = Math.floor(want[0] / bs);
	const last = Math.min(nblocks - 1, Math.floor((want[1] - 1) / bs));
	// The stored bytes of those blocks (all of the frame when most of it is wanted).
	const plan = planBlosc(
		bytes,
		bytes.length,
		want,
		{ lz4: true, zstd: false },
		() => bytes,
	);
	const from = plan ? plan.from : BLOSC_HEADER + 4 * nblocks;
	const to = plan ? plan.to : cbytes;
	if (to - from > MAX_SPAN) return false;
	const outAt = align(to - from + LZ4_SLACK);
	const span = (last - first + 1) * bs;
	if (span > MAX_SPAN) return false;
	let heap = w.heap(outAt + span + LZ4_SLACK);
	heap.set(bytes.subarray(from, to), 0);
	const dontSplit = flags & DONT_SPLIT;
	const shuffled = flags & DOSHUFFLE && ts > 1;
	for (let j = first; j <= last; j++) {
		const lo = j * bs;
		const bsize = Math.min(bs, nbytes - lo);
		const nsplits = blockSplits(dontSplit, ts, bsize, bs);
		const neblock = Math.floor(bsize / nsplits);
		let at = view.getUint32(BLOSC_HEADER + 4 * j, true);
		for (let k = 0; k < nsplits; k++) {
			// Every split inside the bytes copied in.
			if (at < from || at + 4 > to) return false;
			const cb = view.getUint32(at, true);
			at += 4;
			if (cb > to - at) return false;
			const s = at - from;
			const d = outAt + (j - first) * bs + k * neblock;
			// How many of the split's decoded bytes the wanted ones need: the first ones of
			// each byte plane, or of the wanted part of the block.
			const need =
				shuffled && nsplits === ts
					? Math.ceil((Math.min(want[1], lo + bsize) - lo) / ts)
					: shuffled
						? neblock
						: Math.min(want[1], lo + bsize) - lo - k * neblock;
			const upTo = Math.min(neblock, need);
			const before = !shuffled && (k + 1) * neblock <= want[0] - lo;
			if (cb === neblock) heap.copyWithin(d, s, s + cb);
			else if (upTo >= neblock) {
				if (w.decode(s, s + cb, d, d + neblock) !== d + neblock) return false;
			} else if (upTo > 0 && !before) {
				const end = w.decode(s, s + cb, d, d + neblock, d + upTo);
				if (end < d + upTo || end > d + neblock) return false;
			}
			at += cb;
		}
	}
	const shift = first * bs;
	if (shuffled && ts === 4 && bs % 4 === 0 && shift % itemsize === 0) {
		// Only the wanted elements, unshuffled in the module's memory and copied out from there.
		const at = align(outAt + span + UNSHUFFLE_SLACK);
		heap = w.heap(at + span + UNSHUFFLE_SLACK);
		for (let j = first; j <= last; j++) {
			const lo = j * bs;
			const bsize = Math.min(bs, nbytes - lo);
			if (bsize % 4 !== 0) return false;
			const e0 = Math.floor((Math.max(want[0], lo) - lo) / 4);
			const e1 = Math.ceil((Math.min(want[1], lo + bsize) - lo) / 4);
			const block = (j - first) * bs;
			w.unshuffle4(outAt + block, bsize / 4, e0, e1, at + block + 4 * e0);
		}
		use(w.heap(0).subarray(at, at + span), shift);
		return true;
	}
	heap = w.heap(0);
	const out = alloc(nbytes);
	try {
		for (let j = first; j <= last; j++) {
			const lo = j * bs;
			const bsize = Math.min(bs, nbytes - lo);
			const src = heap.subarray(
				outAt + (j - first) * bs,
				outAt + (j - first) * bs + bsize,
			);
			const dst = out.subarray(lo, lo + bsize);
			if (shuffled) unshuffle(src, dst, ts);
			else dst.set(src);
		}
		use(out, 0);
	} finally {
		release(out);
	}
	return true;
}
