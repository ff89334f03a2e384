// The layout rules of a c-blosc 1.x frame that both its encoder and decoder
// (blosc-frame.mjs, in the codec workers) and the main thread's small reads
// (src/blosc-ranges.ts, src/blosc-small.ts) follow: header size, flag bits and how a block is
// split into one stream per byte of the element. Plain JavaScript, so the workers load it too.

/** Size of a blosc 1.x frame header. */
export const BLOSC_HEADER = 16;
/** Flag bits (header byte 2). */
export const DOSHUFFLE = 0x1;
export const MEMCPYED = 0x2;
export const DOBITSHUFFLE = 0x4;
export const DONT_SPLIT = 0x10;
/** Smallest block c-blosc compresses, and the most streams a block is split into. */
export const MIN_BUFFERSIZE = 128;
export const MAX_SPLITS = 16;

/**
 * Streams of one block of `bsize` bytes in a frame of `bs`-byte blocks and `ts`-byte
 * elements: one per element byte unless the frame says not to (DONT_SPLIT), the elements are
 * too wide or the block too small, or it is the frame's short last block (c-blosc 1.x rule,
 * which older frames without the flag follow too).
 */
export function blockSplits(dontSplit, ts, bsize, bs) {
	return !dontSplit &&
		ts <= MAX_SPLITS &&
		Math.floor(bsize / ts) >= MIN_BUFFERSIZE &&
		bsize === bs
		? ts
		: 1;
}
