/**
 * A streaming bzip2 decoder (joblib's `bz2` compressor).
 *
 * Why our own: the npm decoders either decode whole buffers (compressjs, seek-bzip, also
 * byte-at-a-time callbacks and deprecated `new Buffer`), or, for unbzip2-stream, decode every
 * block of a ~1 MB input window synchronously without back-pressure (a bomb of tiny blocks
 * expands to many GB in one call) and fail corrupt input with untyped errors. Here one block is
 * parsed at a time from an input window (≤ 2.3 MB compressed for a valid block; corrupt blocks
 * are cut off at {@link MAX_BLOCK_INPUT}), and its output is produced lazily by walking the
 * inverse BWT, at most {@link OUT_CHUNK} bytes per call, so memory stays bounded (one 3.6 MB
 * `Uint32Array` for the block) whatever the compression ratio. Block and stream CRCs are
 * checked; concatenated streams are read; randomised blocks (bzip2 < 0.9.5) are refused.
 */
import {
	MalformedError,
	TruncatedError,
	UnsupportedError,
} from "@arraystore/core";
import type { ChunkDecoder, InputWindow } from "./input-window.js";

/** Output produced per `next()` call. */
export const OUT_CHUNK: number = 1 << 20;
/** Compressed bytes one block may span before it is declared corrupt. */
export const MAX_BLOCK_INPUT: number = 32 << 20;
const FIRST_WINDOW = 4 << 20;
const MAX_SELECTORS = 18002;
const MAX_CODE_LEN = 20;

/** Thrown (not an Error) by the bit reader when a unit needs bytes past the window. */
const NEED_MORE: unique symbol = Symbol("need more input");

const CRC_TABLE = (() => {
	const t = new Uint32Array(256);
	for (let i = 0; i < 256; i++) {
		let c = i << 24;
		for (let k = 0; k < 8; k++)
			c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
		t[i] = c >>> 0;
	}
	return t;
})();

const bad = (what: string) =>
	new MalformedError(`corrupt bzip2 stream: ${what}`);

/** MSB-first bit reader over a window; padding past the end of the file reads as zeros. */
class BitReader {
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
interface Block {
	readonly crc: number;
	readonly count: number;
	readonly start: number;
}

/** Decodes the bzip2 streams of a file. */
export class Bzip2Decoder implements ChunkDecoder {
	readonly #in: InputWindow;
	/** Bit position in `#in.bytes`. */
	#bit = 0;
	#state: "stream" | "block" | "output" | "done" = "stream";
	#streams = 0;
	#tt: Uint32Array = new Uint32Array(0);
	#streamCrc = 0;
	// Output walk of the current block.
	#blockCrc = 0;
	#wantCrc = 0;
	#left = 0;
	#tPos = 0;
	#cur = -1;
	#run = 0;
	#copies = 0;
	#copyByte = 0;

	constructor(input: InputWindow) {
		this.#in = input;
	}

	async next(): Promise<Uint8Array | null> {
		for (;;) {
			switch (this.#state) {
				case "done":
					return null;
				case "stream":
					await this.#streamHeader();
					break;
				case "block":
					await this.#nextBlock();
					break;
				case "output": {
					const out = this.#output();
					if (out.length > 0) return out;
					break;
				}
			}
		}
	}

	/** Drops whole consumed bytes and makes `want` bytes available (or all that is left). */
	async #window(want: number): Promise<void> {
		const n = this.#bit >>> 3;
		this.#in.drop(n);
		this.#bit -= n * 8;
		await this.#in.fill(want);
	}

	async #streamHeader(): Promise<void> {
		this.#bit = (this.#bit + 7) & ~7;
		await this.#window(4);
		const b = this.#in.bytes;
		const at = this.#bit >>> 3;
		const avail = this.#in.length - at;
		if (avail === 0 && this.#streams > 0) {
			this.#state = "done";
			return;
		}
		if (avail < 4) throw new TruncatedError("bzip2 stream header cut off");
		const level = (b[at + 3] as number) - 0x30;
		if (
			b[at] !== 0x42 ||
			b[at + 1] !== 0x5a ||
			b[at + 2] !== 0x68 ||
			level < 1 ||
			level > 9
		)
			throw new MalformedError(
				this.#streams === 0
					? "not a bzip2 stream (bad magic)"
					: "unexpected bytes after a bzip2 stream",
			);
		this.#bit += 32;
		if (this.#tt.length !== level * 100000)
			this.#tt = new Uint32Array(level * 100000);
		this.#streamCrc = 0;
		this.#state = "block";
	}

	async #nextBlock(): Promise<void> {
		let want = FIRST_WINDOW;
		for (;;) {
			await this.#window(want);
			const br = new BitReader(
				this.#in.bytes,
				this.#in.length,
				this.#in.eof,
				this.#bit,
			);
			let block: Block | number;
			try {
				block = readBlock(br, this.#tt);
			} catch (err) {
				if (err !== NEED_MORE) throw err;
				if (want >= MAX_BLOCK_INPUT)
					throw bad(`a block spans more than ${MAX_BLOCK_INPUT} bytes`);
				want *= 2;
				continue;
			}
			this.#bit = br.pos;
			if (typeof block === "number") {
				if (block !== this.#streamCrc) throw bad("stream CRC mismatch");
				this.#streams++;
				this.#state = "stream";
				return;
			}
			this.#wantCrc = block.crc;
			this.#blockCrc = 0xffffffff;
			this.#left = block.count;
			this.#tPos = block.start;
			this.#cur = -1;
			this.#run = 0;
			this.#copies = 0;
			this.#state = "output";
			return;
		}
	}

	/** Up to {@link OUT_CHUNK} bytes of the current block (undoing the initial run-length step). */
	#output(): Uint8Array {
		const out = new Uint8Array(Math.min(OUT_CHUNK, this.#left * 2 + 255));
		const tt = this.#tt;
		let o = 0;
		let tPos = this.#tPos;
		let cur = this.#cur;
		let run = this.#run;
		let left = this.#left;
		while (o < out.length) {
			if (this.#copies > 0) {
				const n = Math.min(this.#copies, out.length - o);
				out.fill(this.#copyByte, o, o + n);
				o += n;
				this.#copies -= n;
				continue;
			}
			if (left === 0) break;
			left--;
			const prev = cur;
			tPos = tt[tPos] as number;
			cur = tPos & 0xff;
			tPos >>>= 8;
			if (run++ === 3) {
				this.#copies = cur;
				this.#copyByte = prev;
				cur = -1;
			} else out[o++] = cur;
			if (cur !== prev) run = 0;
		}
		this.#tPos = tPos;
		this.#cur = cur;
		this.#run = run;
		this.#left = left;
		let crc = this.#blockCrc;
		for (let i = 0; i < o; i++)
			crc =
				(crc << 8) ^
				(CRC_TABLE[((crc >>> 24) ^ (out[i] as number)) & 0xff] as number);
		this.#blockCrc = crc;
		if (left === 0 && this.#copies === 0) {
			const got = ~crc >>> 0;
			if (got !== this.#wantCrc) throw bad("block CRC mismatch");
			this.#streamCrc =
				(((this.#streamCrc << 1) | (this.#streamCrc >>> 31)) ^ got) >>> 0;
			this.#state = "block";
		}
		return out.subarray(0, o);
	}

	close(): void {
		this.#in.close();
	}
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
function readBlock(br: BitReader, tt: Uint32Array): Block | number {
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
