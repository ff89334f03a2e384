/**
 * Reading opcode arguments: fixed-size integers, text lines and length-prefixed strings and
 * payloads. Every length is checked against the input before anything is allocated, and every
 * byte copied into memory is charged to the run's inline budget.
 */
import {
	LimitExceededError,
	MalformedError,
	TruncatedError,
} from "@arraystore/core";
import type { ByteReader } from "./byte-reader.js";
import type { VmBudget } from "./limits.js";
import { ByteRange, type DataRef, PyBytes } from "./values.js";

const utf8 = new TextDecoder("utf-8", { fatal: true });
const LINE_MAX = 64 * 1024;

/** The argument side of one VM run over a reader. */
export class ArgReader {
	readonly #r: ByteReader;
	readonly #budget: VmBudget;

	constructor(reader: ByteReader, budget: VmBudget) {
		this.#r = reader;
		this.#budget = budget;
	}

	/** One unsigned byte. */
	u8(): Promise<number> {
		return this.#r.u8();
	}

	/** A little-endian int32. */
	async i32(): Promise<number> {
		return new DataView(copy(await this.#r.take(4)).buffer).getInt32(0, true);
	}

	/** A little-endian uint32. */
	async u32(): Promise<number> {
		return new DataView(copy(await this.#r.take(4)).buffer).getUint32(0, true);
	}

	/** A little-endian uint64 length (one past 2^53 cannot fit any input). */
	async u64(): Promise<number> {
		const n = new DataView(copy(await this.#r.take(8)).buffer).getBigUint64(
			0,
			true,
		);
		if (n > BigInt(Number.MAX_SAFE_INTEGER))
			throw new TruncatedError(
				`pickle: length ${n} at ${this.#r.pos - 8} runs past the end`,
			);
		return Number(n);
	}

	/** A big-endian float64 (BINFLOAT). */
	async f64be(): Promise<number> {
		return new DataView(copy(await this.#r.take(8)).buffer).getFloat64(
			0,
			false,
		);
	}

	/** A protocol-0 text line's bytes (without the newline), charged to the budget. */
	async lineBytes(): Promise<Uint8Array> {
		const b = await this.#r.line(LINE_MAX);
		this.#charge(b.length);
		return b;
	}

	/** A protocol-0 text line as UTF-8. */
	async line(): Promise<string> {
		const b = await this.lineBytes();
		try {
			return utf8.decode(b);
		} catch (err) {
			throw new MalformedError("pickle: text argument is not UTF-8", {
				cause: err,
			});
		}
	}

	/** `n` bytes copied into memory (`what` names them in the truncation error). */
	async inline(n: number, what: string): Promise<Uint8Array> {
		if (n > this.#r.remaining)
			throw new TruncatedError(
				`pickle: ${what} of ${n} bytes at ${this.#r.pos} runs past the end`,
			);
		this.#charge(n);
		return copy(await this.#r.take(n));
	}

	/** An `n`-byte UTF-8 string. */
	async text(n: number): Promise<string> {
		const b = await this.inline(n, "string");
		try {
			return utf8.decode(b);
		} catch (err) {
			throw new MalformedError(
				`pickle: string at ${this.#r.pos - n} is not UTF-8`,
				{ cause: err },
			);
		}
	}

	/** An `n`-byte payload: in memory up to the inline threshold, a `ByteRange` in the file beyond. */
	async payload(n: number, bytearray: boolean): Promise<DataRef> {
		const r = this.#r;
		if (n > r.remaining)
			throw new TruncatedError(
				`pickle: ${n}-byte payload at ${r.pos} runs past the end (${r.remaining} bytes left)`,
			);
		const space = r.input.space;
		if (n > this.#budget.limits.inlineThreshold)
			return new ByteRange(await r.skip(n), n, space, bytearray);
		const offset = r.pos;
		this.#charge(n);
		return new PyBytes(copy(await r.take(n)), bytearray, { offset, space });
	}

	#charge(n: number): void {
		this.#budget.inline += n;
		if (this.#budget.inline > this.#budget.limits.maxInlineBytes)
			throw new LimitExceededError(
				`pickle: more than ${this.#budget.limits.maxInlineBytes} bytes of inline data`,
			);
	}
}

/** A fresh copy on its own buffer (views from the reader are reused). */
function copy(b: Uint8Array): Uint8Array {
	return b.slice();
}
