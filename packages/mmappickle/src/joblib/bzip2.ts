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
import { MalformedError, TruncatedError } from "@arraystore/core";
import {
	BitReader,
	type Block,
	bad,
	NEED_MORE,
	readBlock,
} from "./bzip2-block.js";
import type { ChunkDecoder, InputWindow } from "./input-window.js";

/** Output produced per `next()` call. */
export const OUT_CHUNK: number = 1 << 20;
/** Compressed bytes one block may span before it is declared corrupt. */
export const MAX_BLOCK_INPUT: number = 32 << 20;
const FIRST_WINDOW = 4 << 20;

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
