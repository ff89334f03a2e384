/**
 * Parsing one bzip2 block: an MSB-first bit reader over the input window, the Huffman tables
 * (canonical codes with a fast lookup for short ones), and the Huffman → MTF/RLE2 → inverse-BWT
 * pipeline that fills the block's link table. Every count, length and pointer is checked
 * against the block size; a unit that needs bytes past the window throws {@link NEED_MORE}.
 */
import {
	MalformedError,
	TruncatedError,
	UnsupportedError,
} from "@arraystore/core";

const MAX_SELECTORS = 18002;
const MAX_CODE_LEN = 20;

/** Thrown (not an Error) by the bit reader when a unit needs bytes past the window. */
export const NEED_MORE: unique symbol = Symbol("need more input");

/** A `MalformedError` for corrupt input. */
export const bad = (what: string): MalformedError =>
	new MalformedError(`corrupt bzip2 stream: ${what}`);

/** MSB-first bit reader over a window; padding past the end of the file reads as zeros. */
export class BitReader {
	readonly bytes: Uint8Array;
	readonly len: number;
	readonly eof: boolean;
	pos: number;

	constructor(bytes: Uint8Array, len: number, eof: boolean, pos: number) {
		this.bytes = bytes;
		this.len = len;
		this.eof = eof;
		this.pos = pos;
	}

	/** The next `n` (1…24) bits without consuming them. */
	peek(n: number): number {
		const i = this.pos >>> 3;
		const b = this.bytes;
		let w: number;
		if (i + 4 <= this.len)
			w =
				(((b[i] as number) << 24) |
					((b[i + 1] as number) << 16) |
					((b[i + 2] as number) << 8) |
					(b[i + 3] as number)) >>>
				0;
		else {
			if (!this.eof) throw NEED_MORE;
			w = 0;
			for (let k = 0; k < 4; k++)
				w = (w << 8) | (i + k < this.len ? (b[i + k] as number) : 0);
			w >>>= 0;
		}
		return ((w << (this.pos & 7)) >>> 0) >>> (32 - n);
	}

	skip(n: number): void {
		this.pos += n;
		if (this.pos > this.len * 8)
			throw new TruncatedError("bzip2 stream ends inside a block");
	}

	bits(n: number): number {
		const v = this.peek(n);
		this.skip(n);
		return v;
	}

	u32(): number {
		return ((this.bits(16) << 16) | this.bits(16)) >>> 0;
	}
}

/** A parsed block: `tt` holds the inverse-BWT links, output starts at `start`. */
export interface Block {
	readonly crc: number;
	readonly count: number;
	readonly start: number;
}

/** Huffman decoding tables of one group (canonical codes, as bzip2 assigns them). */
interface Table {
	readonly maxLen: number;
	readonly limit: Int32Array;
	readonly base: Int32Array;
	readonly perm: Uint16Array;
	/** Codes of ≤ FAST_BITS bits by their next FAST_BITS bits: `symbol << 5 | length`, 0 if longer. */
	readonly fast: Uint16Array;
}

const FAST_BITS = 10;

function makeTable(lens: Uint8Array, alphaSize: number): Table {
	let maxLen = 0;
	const count = new Int32Array(MAX_CODE_LEN + 2);
	for (let i = 0; i < alphaSize; i++) {
		const l = lens[i] as number;
		count[l] = (count[l] as number) + 1;
		if (l > maxLen) maxLen = l;
	}
	const perm = new Uint16Array(alphaSize);
	const base = new Int32Array(MAX_CODE_LEN + 2);
	const limit = new Int32Array(MAX_CODE_LEN + 2);
	let p = 0;
	let code = 0;
	for (let l = 1; l <= MAX_CODE_LEN; l++) {
		base[l] = p - code;
		for (let i = 0; i < alphaSize; i++) if (lens[i] === l) perm[p++] = i;
		code += count[l] as number;
		limit[l] = code - 1;
		code <<= 1;
	}
	// Canonical codes in (length, symbol) order fill the fast table. Over-subscribed lengths
	// (corrupt input) stop filling at the table's end; the slow path then decides.
	const fast = new Uint16Array(1 << FAST_BITS);
	code = 0;
	p = 0;
	for (let l = 1; l <= FAST_BITS; l++) {
		for (let k = 0; k < (count[l] as number); k++, code++) {
			const sym = perm[p++] as number;
			const from = code << (FAST_BITS - l);
			const to = Math.min(1 << FAST_BITS, (code + 1) << (FAST_BITS - l));
			if (from >= to) continue;
			fast.fill((sym << 5) | l, from, to);
		}
		code <<= 1;
	}
	return { maxLen, limit, base, perm, fast };
}

/**
 * Parses one block (or the end-of-stream marker) at `br.pos` and fills `tt` with the
 * inverse-BWT links. Returns the block, or the stream CRC for the end marker.
 */
export function readBlock(br: BitReader, tt: Uint32Array): Block | number {
	const hi = br.bits(24);
	const lo = br.bits(24);
	if (hi === 0x177245 && lo === 0x385090) return br.u32();
	if (hi !== 0x314159 || lo !== 0x265359) throw bad("bad block magic");
	const crc = br.u32();
	if (br.bits(1) !== 0)
		throw new UnsupportedError(
			"randomised bzip2 blocks (bzip2 < 0.9.5) are not supported",
		);
	const origPtr = br.bits(24);

	const seqToUnseq = new Uint8Array(256);
	let nInUse = 0;
	const used = br.bits(16);
	for (let i = 0; i < 16; i++) {
		if ((used & (0x8000 >>> i)) === 0) continue;
		const m = br.bits(16);
		for (let j = 0; j < 16; j++)
			if ((m & (0x8000 >>> j)) !== 0) seqToUnseq[nInUse++] = i * 16 + j;
	}
	if (nInUse === 0) throw bad("no symbols in use");
	const alphaSize = nInUse + 2;

	const nGroups = br.bits(3);
	if (nGroups < 2 || nGroups > 6) throw bad(`${nGroups} Huffman groups`);
	const nSelectors = br.bits(15);
	if (nSelectors < 1) throw bad("no selectors");
	const mtfGroups = [0, 1, 2, 3, 4, 5];
	const selectors = new Uint8Array(Math.min(nSelectors, MAX_SELECTORS));
	for (let i = 0; i < nSelectors; i++) {
		let j = 0;
		while (br.bits(1) === 1) if (++j >= nGroups) throw bad("selector");
		// bzip2 1.0.8 reads selectors past 18002 but ignores them.
		if (i >= MAX_SELECTORS) continue;
		const v = mtfGroups[j] as number;
		for (; j > 0; j--) mtfGroups[j] = mtfGroups[j - 1] as number;
		mtfGroups[0] = v;
		selectors[i] = v;
	}

	const tables: Table[] = [];
	const lens = new Uint8Array(alphaSize);
	for (let t = 0; t < nGroups; t++) {
		let cur = br.bits(5);
		for (let i = 0; i < alphaSize; i++) {
			for (;;) {
				if (cur < 1 || cur > MAX_CODE_LEN) throw bad("code length");
				if (br.bits(1) === 0) break;
				cur += br.bits(1) === 0 ? 1 : -1;
			}
			lens[i] = cur;
		}
		tables.push(makeTable(lens, alphaSize));
	}

	// Huffman → MTF/RLE2 → bytes (low 8 bits of tt), counting each byte.
	const blockMax = tt.length;
	const counts = new Int32Array(256);
	const mtf = new Uint8Array(256);
	for (let i = 0; i < 256; i++) mtf[i] = i;
	const eob = nInUse + 1;
	let count = 0;
	let group = -1;
	let groupLeft = 0;
	let t = tables[0] as Table;
	let maxLen = t.maxLen;
	let limit = t.limit;
	let base = t.base;
	let perm = t.perm;
	let fast = t.fast;
	let runLen = 0;
	let runBit = 1;
	for (;;) {
		if (groupLeft === 0) {
			if (++group >= selectors.length) throw bad("ran out of selectors");
			t = tables[selectors[group] as number] as Table;
			maxLen = t.maxLen;
			limit = t.limit;
			base = t.base;
			perm = t.perm;
			fast = t.fast;
			groupLeft = 50;
		}
		groupLeft--;
		const v = br.peek(MAX_CODE_LEN);
		const f = fast[v >>> (MAX_CODE_LEN - FAST_BITS)] as number;
		let sym: number;
		if (f !== 0) {
			br.skip(f & 31);
			sym = f >>> 5;
		} else {
			let l = FAST_BITS + 1;
			if (l > maxLen) throw bad("bad Huffman code");
			let c = v >>> (MAX_CODE_LEN - l);
			while (c > (limit[l] as number)) {
				if (++l > maxLen) throw bad("bad Huffman code");
				c = v >>> (MAX_CODE_LEN - l);
			}
			br.skip(l);
			sym = perm[(base[l] as number) + c] as number;
		}
		if (sym <= 1) {
			runLen += (sym + 1) * runBit;
			runBit *= 2;
			if (runLen > blockMax) throw bad("run past the block size");
			continue;
		}
		if (runBit > 1) {
			const b = seqToUnseq[mtf[0] as number] as number;
			if (count + runLen > blockMax) throw bad("run past the block size");
			counts[b] = (counts[b] as number) + runLen;
			tt.fill(b, count, count + runLen);
			count += runLen;
			runLen = 0;
			runBit = 1;
		}
		if (sym === eob) break;
		if (count >= blockMax) throw bad("block larger than declared");
		const idx = sym - 1;
		const m = mtf[idx] as number;
		if (idx < 16) for (let k = idx; k > 0; k--) mtf[k] = mtf[k - 1] as number;
		else mtf.copyWithin(1, 0, idx);
		mtf[0] = m;
		const b = seqToUnseq[m] as number;
		counts[b] = (counts[b] as number) + 1;
		tt[count++] = b;
	}
	if (origPtr >= count) throw bad("origin pointer out of range");

	// Inverse BWT links: tt[i] = (next index << 8) | byte.
	const next = new Int32Array(256);
	for (let i = 0, sum = 0; i < 256; i++) {
		next[i] = sum;
		sum += counts[i] as number;
	}
	for (let i = 0; i < count; i++) {
		const b = (tt[i] as number) & 0xff;
		const k = next[b] as number;
		tt[k] = (tt[k] as number) | (i << 8);
		next[b] = k + 1;
	}
	return { crc, count, start: (tt[origPtr] as number) >>> 8 };
}
