/**
 * Asynchronous zlib inflation into a buffer the caller owns, on libuv's thread pool.
 * `zlib.inflate` builds a new stream (zlib state, 32 KiB window) and a new output buffer for
 * every call; for a dataset of thousands of megabyte-sized chunks that is gigabytes of
 * short-lived buffers, page faults and garbage collections. An {@link Inflater} keeps one
 * stream, resets it per chunk and points its output at the caller's buffer: the same
 * internals of Node's zlib streams (`_processChunk`, `_outBuffer`) that worker/native-deflate.mjs
 * relies on. Where they are missing (another Node version), it falls back to `zlib.inflate`.
 *
 * Output never exceeds `want` bytes: the buffer holds a little more, a stream that fills it
 * is stopped at once. Any failure, and any output of another size than `want`, is decided
 * again by `zlib.inflate` (capped at `want` bytes), which also switches the reuse off if it
 * disagrees.
 */
import { constants, createInflate, type Inflate, inflate } from "node:zlib";

/** Failure of {@link Inflater.inflate}: `tooLarge` when the stream holds more than `want` bytes. */
export class InflateError extends Error {
	override readonly name = "InflateError";
	readonly tooLarge: boolean;
	constructor(message: string, tooLarge: boolean, cause?: unknown) {
		super(message, cause === undefined ? undefined : { cause });
		this.tooLarge = tooLarge;
	}
}

// The internals used; checked on every new stream.
interface StreamInternals {
	_processChunk(chunk: Uint8Array, flush: number, cb: () => void): void;
	_outBuffer: Buffer;
	_outOffset: number;
	_chunkSize: number;
	bytesWritten: number;
}

function internals(e: Inflate): (Inflate & StreamInternals) | null {
	const s = e as Inflate & Partial<StreamInternals>;
	return typeof s._processChunk === "function" &&
		Buffer.isBuffer(s._outBuffer) &&
		typeof s._outOffset === "number" &&
		typeof s._chunkSize === "number" &&
		typeof s.bytesWritten === "number"
		? (s as Inflate & StreamInternals)
		: null;
}

/** Inflates one stream at a time into caller buffers (one per concurrent chunk). */
export class Inflater {
	#engine: (Inflate & StreamInternals) | null = null;
	#usable = true;
	/** Scratch output buffer (a Buffer: Node's stream slices it). */
	#out: Buffer = Buffer.alloc(0);

	/**
	 * Inflates the zlib stream `input` (exactly `want` bytes of output expected); the result
	 * is valid until the next call.
	 * @throws {InflateError} a corrupt stream, or more than `want` bytes of output.
	 */
	async inflate(input: Uint8Array, want: number): Promise<Uint8Array> {
		if (!this.#usable) return publicInflate(input, want);
		let got: Uint8Array;
		try {
			got = await this.#inflateReused(input, want);
		} catch {
			// Failures are rare: zlib.inflate has the last word, so a change in Node's stream
			// internals can cost speed but never turn good chunks into errors.
			const checked = await publicInflate(input, want);
			this.#usable = false;
			return checked;
		}
		if (got.length === want) return got;
		const checked = await publicInflate(input, want);
		if (checked.length !== got.length) this.#usable = false;
		return checked;
	}

	#inflateReused(input: Uint8Array, want: number): Promise<Uint8Array> {
		if (this.#out.length < want + 64)
			this.#out = Buffer.allocUnsafeSlow(want + 64);
		let e = this.#engine;
		if (e === null) {
			e = internals(createInflate());
			if (e === null) {
				this.#usable = false;
				return publicInflate(input, want);
			}
			// Flowing: pushed views of our buffer are dropped at once. Errors are reported to
			// the call in progress; none may go unhandled between calls.
			e.on("data", () => {});
			e.on("error", () => {});
			this.#engine = e;
		} else e.reset();
		const engine = e;
		const out = this.#out;
		engine._outBuffer = out;
		engine._outOffset = 0;
		engine._chunkSize = out.length;
		const before = engine.bytesWritten;
		return new Promise<Uint8Array>((resolve, reject) => {
			let over = false;
			const onData = (b: Buffer): void => {
				// Node moved on to a new buffer: ours is full, the stream holds too much.
				if (b.buffer !== out.buffer && !over) {
					over = true;
					engine.destroy();
				}
			};
			const onError = (err: Error): void => {
				done();
				this.#engine = null;
				reject(
					new InflateError(
						`not a valid deflate stream (${err.message})`,
						false,
						err,
					),
				);
			};
			const done = (): void => {
				engine.off("data", onData);
				engine.off("error", onError);
			};
			engine.on("data", onData);
			engine.once("error", onError);
			engine._processChunk(input, constants.Z_FINISH, () => {
				done();
				const n = engine._outOffset;
				const whole = engine._outBuffer === out && !over;
				// Trailing bytes end the readable side, a destroyed stream is gone: start afresh.
				if (engine.destroyed || engine.bytesWritten - before !== input.length)
					this.#engine = null;
				if (!whole || n > want)
					reject(new InflateError(`inflates to more than ${want} bytes`, true));
				else resolve(out.subarray(0, n));
			});
		});
	}
}

function publicInflate(input: Uint8Array, want: number): Promise<Uint8Array> {
	return new Promise((resolve, reject) => {
		inflate(
			input,
			// One output buffer a little over the chunk: no concatenation, and never more.
			{
				maxOutputLength: Math.max(1, want),
				chunkSize: Math.max(64, want + 64),
			},
			(err, result) => {
				if (err === null) resolve(result);
				else if ((err as { code?: string }).code === "ERR_BUFFER_TOO_LARGE")
					reject(
						new InflateError(`inflates to more than ${want} bytes`, true, err),
					);
				else
					reject(
						new InflateError(
							`not a valid deflate stream (${err.message})`,
							false,
							err,
						),
					);
			},
		);
	});
}
