/**
 * A strict, streaming LZ4 frame decoder (joblib's `lz4` compressor writes one `lz4.frame`).
 *
 * Why our own: the npm LZ4 packages either decode whole buffers only (lz4js, lz4-napi's frame
 * functions), need a native build (lz4), or are unmaintained; the frame format is small and a
 * decoder here streams one block at a time (≤ 4 MiB out, plus 64 KiB of history for linked
 * blocks), bounds-checks every length and offset, and raises typed errors. Header, block and
 * content checksums (XXH32) are verified when the frame has them; the declared content size
 * is checked too. Skippable frames are skipped; dictionaries (DictID) are refused.
 */
import {
	MalformedError,
	TruncatedError,
	UnsupportedError,
} from "@arraystore/core";
import type { ChunkDecoder, InputWindow } from "./input-window.js";
import { u32, Xxh32, xxh32 } from "./xxhash32.js";

const MAGIC = 0x184d2204;
const HISTORY = 64 * 1024;
const BLOCK_MAX = [0, 0, 0, 0, 64 * 1024, 256 * 1024, 1 << 20, 4 << 20];

/** Frame options from the frame descriptor. */
interface Frame {
	readonly blockMax: number;
	readonly independent: boolean;
	readonly blockChecksum: boolean;
	readonly contentHash: Xxh32 | null;
	readonly contentSize: number | null;
	produced: number;
}

/** Decodes the LZ4 frames of a file, one block per chunk. */
export class Lz4FrameDecoder implements ChunkDecoder {
	readonly #in: InputWindow;
	/** Read cursor in `#in.bytes`. */
	#pos = 0;
	#frame: Frame | null = null;
	#frames = 0;
	/** History (last ≤ 64 KiB of output, linked blocks) followed by the block being decoded. */
	#window: Uint8Array = new Uint8Array(0);
	#history = 0;
	#done = false;

	constructor(input: InputWindow) {
		this.#in = input;
	}

	/** Makes `n` bytes available at `#pos`; false if the file ends first. */
	async #need(n: number): Promise<boolean> {
		if (this.#in.length - this.#pos >= n) return true;
		this.#in.drop(this.#pos);
		this.#pos = 0;
		await this.#in.fill(n);
		return this.#in.length >= n;
	}

	async next(): Promise<Uint8Array | null> {
		while (!this.#done) {
			const f = this.#frame;
			if (f === null) {
				await this.#startFrame();
				continue;
			}
			const out = await this.#block(f);
			if (out !== null && out.length > 0) return out;
		}
		return null;
	}

	async #startFrame(): Promise<void> {
		if (!(await this.#need(4))) {
			if (this.#in.length - this.#pos === 0 && this.#frames > 0) {
				this.#done = true;
				return;
			}
			throw new TruncatedError("LZ4 stream ends inside a frame header");
		}
		const b = this.#in.bytes;
		const magic = u32(b, this.#pos);
		if ((magic & 0xfffffff0) === 0x184d2a50) {
			// Skippable frame: magic, 4-byte length, payload.
			if (!(await this.#need(8)))
				throw new TruncatedError("LZ4 skippable frame ends early");
			let left = u32(this.#in.bytes, this.#pos + 4);
			this.#pos += 8;
			while (left > 0) {
				if (this.#in.length === this.#pos && !(await this.#need(1)))
					throw new TruncatedError("LZ4 skippable frame ends early");
				const n = Math.min(left, this.#in.length - this.#pos);
				this.#pos += n;
				left -= n;
			}
			this.#frames++;
			return;
		}
		if (magic !== MAGIC)
			throw new MalformedError(
				this.#frames === 0
					? "not an LZ4 frame (bad magic)"
					: "unexpected bytes after an LZ4 frame",
			);
		if (!(await this.#need(7)))
			throw new TruncatedError("LZ4 frame header ends early");
		const flg = this.#in.bytes[this.#pos + 4] as number;
		const bd = this.#in.bytes[this.#pos + 5] as number;
		if (flg >>> 6 !== 1)
			throw new MalformedError(`unsupported LZ4 frame version ${flg >>> 6}`);
		if ((flg & 0x02) !== 0 || (bd & 0x8f) !== 0)
			throw new MalformedError("LZ4 frame descriptor has reserved bits set");
		const blockMax = BLOCK_MAX[(bd >>> 4) & 7] ?? 0;
		if (blockMax === 0)
			throw new MalformedError(`bad LZ4 block size id ${(bd >>> 4) & 7}`);
		const hasSize = (flg & 0x08) !== 0;
		const hasDict = (flg & 0x01) !== 0;
		if (hasDict)
			throw new UnsupportedError("LZ4 frames with a dictionary (DictID)");
		const descLen = 2 + (hasSize ? 8 : 0) + (hasDict ? 4 : 0);
		if (!(await this.#need(4 + descLen + 1)))
			throw new TruncatedError("LZ4 frame header ends early");
		const h = this.#in.bytes;
		const p = this.#pos;
		const hc = h[p + 4 + descLen] as number;
		if (((xxh32(h.subarray(p + 4, p + 4 + descLen)) >>> 8) & 0xff) !== hc)
			throw new MalformedError("LZ4 frame header checksum mismatch");
		let contentSize: number | null = null;
		if (hasSize) {
			const lo = u32(h, p + 6);
			const hi = u32(h, p + 10);
			contentSize = hi * 2 ** 32 + lo;
		}
		this.#pos += 4 + descLen + 1;
		const size = HISTORY + blockMax;
		if (this.#window.length !== size) this.#window = new Uint8Array(size);
		this.#history = 0;
		this.#frame = {
			blockMax,
			independent: (flg & 0x20) !== 0,
			blockChecksum: (flg & 0x10) !== 0,
			contentHash: (flg & 0x04) !== 0 ? new Xxh32() : null,
			contentSize,
			produced: 0,
		};
	}

	/** One block of the current frame (null at the end mark). */
	async #block(f: Frame): Promise<Uint8Array | null> {
		if (!(await this.#need(4)))
			throw new TruncatedError("LZ4 frame ends before its end mark");
		const raw = u32(this.#in.bytes, this.#pos);
		if (raw === 0) {
			this.#pos += 4;
			if (f.contentHash !== null) {
				if (!(await this.#need(4)))
					throw new TruncatedError("LZ4 content checksum missing");
				const want = u32(this.#in.bytes, this.#pos);
				this.#pos += 4;
				if (f.contentHash.digest() !== want)
					throw new MalformedError("LZ4 content checksum mismatch");
			}
			this.#endFrame(f);
			return null;
		}
		const size = raw & 0x7fffffff;
		const stored = raw >>> 31 === 1;
		if (size > f.blockMax)
			throw new MalformedError(
				`LZ4 block of ${size} bytes exceeds the frame's ${f.blockMax}`,
			);
		const total = 4 + size + (f.blockChecksum ? 4 : 0);
		if (!(await this.#need(total)))
			throw new TruncatedError("LZ4 block ends early");
		const b = this.#in.bytes;
		const start = this.#pos + 4;
		const data = b.subarray(start, start + size);
		if (f.blockChecksum && xxh32(data) !== u32(b, start + size))
			throw new MalformedError("LZ4 block checksum mismatch");
		this.#pos += total;
		const w = this.#window;
		const from = this.#history;
		let end: number;
		if (stored) {
			w.set(data, from);
			end = from + size;
		} else end = decodeBlock(data, w, from, from + f.blockMax);
		const out = w.slice(from, end);
		f.produced += out.length;
		if (f.contentSize !== null && f.produced > f.contentSize)
			throw new MalformedError("LZ4 frame decodes past its declared size");
		f.contentHash?.update(out);
		if (f.independent) this.#history = 0;
		else {
			// Keep the last 64 KiB as the next block's history.
			const keep = Math.min(HISTORY, end);
			w.copyWithin(0, end - keep, end);
			this.#history = keep;
		}
		return out;
	}

	#endFrame(f: Frame): void {
		if (f.contentSize !== null && f.produced !== f.contentSize)
			throw new MalformedError(
				`LZ4 frame declares ${f.contentSize} bytes but holds ${f.produced}`,
			);
		this.#frame = null;
		this.#frames++;
	}

	close(): void {
		this.#in.close();
	}
}

/**
 * Decodes one LZ4 block `src` into `dst[from, limit)`; `dst[0, from)` is history that matches
 * may reach back into. Returns the end of the output.
 * @throws {MalformedError} on any length or offset out of range.
 */
export function decodeBlock(
	src: Uint8Array,
	dst: Uint8Array,
	from: number,
	limit: number,
): number {
	const bad = (what: string) =>
		new MalformedError(`corrupt LZ4 block: ${what}`);
	const n = src.length;
	let s = 0;
	let d = from;
	for (;;) {
		if (s >= n) throw bad("ends without a final literal run");
		const token = src[s++] as number;
		let lit = token >>> 4;
		if (lit === 15) {
			let x: number;
			do {
				if (s >= n) throw bad("literal length runs off the block");
				x = src[s++] as number;
				lit += x;
			} while (x === 255);
		}
		if (lit > n - s) throw bad("literals run off the block");
		if (lit > limit - d) throw bad("output exceeds the block size");
		if (lit < 16) for (let i = 0; i < lit; i++) dst[d++] = src[s++] as number;
		else {
			dst.set(src.subarray(s, s + lit), d);
			s += lit;
			d += lit;
		}
		if (s === n) return d;
		if (n - s < 2) throw bad("match offset cut off");
		const off = (src[s] as number) | ((src[s + 1] as number) << 8);
		s += 2;
		if (off === 0 || off > d) throw bad(`match offset ${off} out of range`);
		let len = (token & 15) + 4;
		if ((token & 15) === 15) {
			let x: number;
			do {
				if (s >= n) throw bad("match length runs off the block");
				x = src[s++] as number;
				len += x;
			} while (x === 255);
		}
		if (len > limit - d) throw bad("output exceeds the block size");
		let m = d - off;
		if (off >= len) {
			dst.copyWithin(d, m, m + len);
			d += len;
		} else for (const e = d + len; d < e; ) dst[d++] = dst[m++] as number;
	}
}
