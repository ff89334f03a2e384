// Zstandard frame headers (RFC 8878 §3.1.1), read and patched without decoding anything:
//
// - `zstdSizes` walks every frame and block header of untrusted bytes and returns the declared
//   content size and an upper bound of the decoded size, so the decoder's output buffer is
//   sized from what the frames declare, never beyond what the caller expects;
// - `framePrefix` cuts a frame after the block holding a given decoded byte (small reads).
//
// Plain JavaScript: it runs in the codec worker threads too (see codec-kernel.mjs).

const ZSTD_MAGIC = 0xfd2fb528;
const BLOCK_MAX = 128 * 1024;

function u32(b, at) {
	return (
		(b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0
	);
}

function uintLE(b, at, n) {
	let v = 0;
	for (let i = n - 1; i >= 0; i--) v = v * 256 + b[at + i];
	return v;
}

/**
 * Parses the frame header at `at`.
 * @returns `{ headerEnd, fcs, fcsLen, windowSize, checksum, fhd }` or null when malformed.
 */
export function frameHeader(b, at) {
	if (at + 5 > b.length || u32(b, at) !== ZSTD_MAGIC) return null;
	const fhd = b[at + 4];
	// Bit 3 is reserved and must be zero.
	if (fhd & 0x08) return null;
	const fcsFlag = fhd >> 6;
	const single = (fhd >> 5) & 1;
	const dictLen = [0, 1, 2, 4][fhd & 3];
	let pos = at + 5;
	let windowSize = 0;
	if (!single) {
		if (pos >= b.length) return null;
		const wd = b[pos++];
		const base = 2 ** (10 + (wd >> 3));
		windowSize = base + (base / 8) * (wd & 7);
	}
	pos += dictLen;
	const fcsLen = [single ? 1 : 0, 2, 4, 8][fcsFlag];
	if (pos + fcsLen > b.length) return null;
	let fcs = -1;
	if (fcsLen > 0) fcs = uintLE(b, pos, fcsLen) + (fcsLen === 2 ? 256 : 0);
	pos += fcsLen;
	if (single) windowSize = fcs;
	return {
		fhd,
		headerEnd: pos,
		fcs,
		fcsLen,
		windowSize,
		checksum: (fhd >> 2) & 1,
	};
}

/**
 * Sizes of `b` (one or more frames, skippable frames allowed) read from its headers:
 * `bound`, an upper bound of the decoded size from the block headers, and `content`, the sum
 * of the frames' declared content sizes (-1 when a frame declares none). Null when the bytes
 * are not a well-formed sequence of frames.
 */
export function zstdSizes(b) {
	let pos = 0;
	let bound = 0;
	let content = 0;
	if (b.length === 0) return null;
	while (pos < b.length) {
		if (pos + 8 <= b.length && (u32(b, pos) & 0xfffffff0) === 0x184d2a50) {
			pos += 8 + u32(b, pos + 4);
			continue;
		}
		const h = frameHeader(b, pos);
		if (h === null) return null;
		pos = h.headerEnd;
		// A compressed block decodes to at most min(window, 128 KiB) bytes; raw and RLE blocks
		// state their decoded size.
		const blockMax = Math.min(h.windowSize, BLOCK_MAX);
		for (;;) {
			if (pos + 3 > b.length) return null;
			const bh = b[pos] | (b[pos + 1] << 8) | (b[pos + 2] << 16);
			pos += 3;
			const type = (bh >> 1) & 3;
			const size = bh >>> 3;
			if (type === 0) {
				bound += size;
				pos += size;
			} else if (type === 1) {
				bound += size;
				pos += 1;
			} else if (type === 2) {
				if (size > blockMax) return null;
				bound += blockMax;
				pos += size;
			} else return null;
			if (pos > b.length) return null;
			if (bh & 1) break;
		}
		if (h.checksum) pos += 4;
		if (pos > b.length) return null;
		content = h.fcs >= 0 && content >= 0 ? content + h.fcs : -1;
	}
	return { bound, content };
}

/**
 * The start of `b` (exactly one zstd frame) as a frame of its own, ending with the block that
 * likely holds decoded byte `upTo - 1`: a decoder then stops there. Compressed blocks do not
 * state their decoded size; with the frame's content size, each is taken to decode to its
 * share of it by compressed size (plus a margin), else to the full block size. The prefix's
 * decoded bytes are the first bytes of the whole frame's, maybe fewer than `upTo` when the
 * guess was wrong: the caller checks. Null when cutting saves nothing or `b` is not one
 * well-formed frame. `b` may be only the first bytes of a frame of `total` bytes: the cut is
 * then made among its complete blocks (null when none reaches far enough).
 */
export function framePrefix(
	b,
	upTo,
	alloc = (n) => new Uint8Array(n),
	total = b.length,
) {
	const h = frameHeader(b, 0);
	if (h === null || h.windowSize <= 0) return null;
	const blockMax = Math.min(h.windowSize, BLOCK_MAX);
	// Block headers: start, type, size (compressed size, or decoded size of raw and RLE).
	const blocks = [];
	const truncated = total > b.length;
	let pos = h.headerEnd;
	let exact = 0;
	let packed = 0;
	for (;;) {
		if (pos + 3 > b.length) {
			if (truncated) break;
			return null;
		}
		const bh = b[pos] | (b[pos + 1] << 8) | (b[pos + 2] << 16);
		const type = (bh >> 1) & 3;
		const size = bh >>> 3;
		const start = pos;
		pos += 3;
		if (type === 0 || type === 2) pos += size;
		else if (type === 1) pos += 1;
		else return null;
		if (type === 2 && size > blockMax) return null;
		if (pos > b.length) {
			if (truncated) break;
			return null;
		}
		blocks.push({ start, type, size });
		if (type === 2) packed += size;
		else exact += size;
		if (bh & 1) {
			// The last block: a cut is never made after it.
			blocks.push({ start: pos, type: -1, size: 0 });
			break;
		}
	}
	if (!truncated) {
		if (h.checksum) pos += 4;
		if (pos !== b.length) return null;
	} else {
		// Only the first blocks are here: the compressed bytes of the whole frame stand in.
		exact = 0;
		packed = total - h.headerEnd;
	}
	const ratio = h.fcs > exact && packed > 0 ? (h.fcs - exact) / packed : 0;
	const target = upTo + (upTo >> 4) + 4096;
	let decoded = 0;
	let last = -1;
	// Without a last-block marker (cut input) every block listed is complete and may end it.
	const ends = blocks.at(-1)?.type === -1 ? blocks.length - 2 : blocks.length;
	for (let i = 0; i < ends; i++) {
		const k = blocks[i];
		decoded +=
			k.type === 2
				? ratio > 0
					? Math.min(blockMax, k.size * ratio)
					: blockMax
				: k.size;
		if (decoded >= target) {
			last = i;
			break;
		}
	}
	if (last < 0) return null;
	const cut = blocks[last];
	const end = cut.start + 3 + (cut.type === 1 ? 1 : cut.size);
	// New header: no content size, no checksum, not single-segment (a window descriptor of at
	// least the frame's window instead), the same dictionary id.
	const dictLen = [0, 1, 2, 4][h.fhd & 3];
	const dictAt = 5 + ((h.fhd >> 5) & 1 ? 0 : 1);
	const exp = Math.max(0, Math.ceil(Math.log2(h.windowSize)) - 10);
	if (exp > 31) return null;
	const head = 6 + dictLen;
	const out = alloc(head + (end - h.headerEnd));
	out.set(b.subarray(0, 4), 0);
	out[4] = h.fhd & 0x03;
	out[5] = exp << 3;
	out.set(b.subarray(dictAt, dictAt + dictLen), 6);
	out.set(b.subarray(h.headerEnd, end), head);
	// The cut block is the last one now.
	out[head + (cut.start - h.headerEnd)] |= 1;
	return out;
}
