/**
 * Which stored bytes of a blosc 1.x frame a small read needs: the header, the block offsets
 * and the blocks holding the wanted decoded bytes (the kernel's blosc decoder reads nothing
 * else when it is given the same wanted range). A slab of a few rows of a 1 MiB chunk with
 * 512 KiB blocks thus reads about half of the chunk file.
 */

import { BLOSC_HEADER, MEMCPYED } from "../worker/blosc-layout.mjs";

// Compressors (bits 5-7 of the flags) the kernel decodes block by block natively, and
// whether they need the native lz4 or zstd module: other frames are decoded whole.
const PARTIAL_FORMATS: Readonly<Record<number, "lz4" | "zstd" | "zlib">> = {
	1: "lz4",
	3: "zlib",
	4: "zstd",
};

/** The byte range [from, to) of a frame to read besides its first `head` bytes. */
export interface BloscPlan {
	/** Header and block offsets. */
	readonly head: number;
	readonly from: number;
	readonly to: number;
}

/**
 * Plans the read of the decoded bytes `want` ([from, to)) from a frame of `size` stored bytes
 * whose first bytes are `start` (at least {@link BLOSC_HEADER}; the block offsets are read
 * by `offsets` when they lie past it). Answers null when the whole frame is to be read: a
 * frame the kernel decodes whole (other version, compressor or one stored uncompressed), a
 * header that does not add up (the decoder then reports it), or blocks making up most of it.
 * `native` says which native codecs the kernel has.
 */
export function planBlosc(
	start: Uint8Array,
	size: number,
	want: readonly [number, number],
	native: { readonly lz4: boolean; readonly zstd: boolean },
	offsets: (head: number) => Uint8Array | null,
): BloscPlan | null {
	if (start.length < BLOSC_HEADER || want[1] <= want[0]) return null;
	const view = new DataView(start.buffer, start.byteOffset, start.byteLength);
	const version = start[0] as number;
	const flags = start[2] as number;
	const nbytes = view.getUint32(4, true);
	const bs = view.getUint32(8, true);
	const cbytes = view.getUint32(12, true);
	const format = PARTIAL_FORMATS[flags >> 5];
	if (
		(version !== 1 && version !== 2) ||
		flags & MEMCPYED ||
		flags & 0x08 ||
		format === undefined ||
		(format !== "zlib" && !native[format]) ||
		cbytes > size ||
		bs === 0 ||
		nbytes === 0 ||
		want[1] > nbytes
	)
		return null;
	const nblocks = Math.ceil(nbytes / bs);
	const head = BLOSC_HEADER + 4 * nblocks;
	if (head > cbytes) return null;
	const table = start.length >= head ? start : offsets(head);
	if (table === null || table.length < head) return null;
	const tv = new DataView(table.buffer, table.byteOffset, head);
	const at = (j: number): number => tv.getUint32(BLOSC_HEADER + 4 * j, true);
	const first = Math.floor(want[0] / bs);
	const last = Math.min(nblocks - 1, Math.floor((want[1] - 1) / bs));
	let from = cbytes;
	let to = head;
	for (let j = first; j <= last; j++) {
		const lo = at(j);
		if (lo < head || lo >= cbytes) return null;
		// A block's splits end where the next block in the file starts (blocks may be stored
		// out of order by a multithreaded compressor), or at the end of the frame.
		let hi = cbytes;
		for (let k = 0; k < nblocks; k++) {
			const o = at(k);
			if (o > lo && o < hi) hi = o;
		}
		from = Math.min(from, lo);
		to = Math.max(to, hi);
	}
	// Most of the frame wanted anyway: one read of all of it.
	if ((to - from + head) * 4 > cbytes * 3) return null;
	return { head, from, to };
}
