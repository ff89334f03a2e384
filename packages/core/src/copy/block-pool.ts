/**
 * Block buffers of a copy, reused from block to block. A fresh buffer per block costs a
 * zero-filled allocation (page faults on every page), garbage the collector must find, and a
 * forced collection every few blocks to keep the resident size bounded — together 20–40 % of
 * a conversion's main thread in the profiles (tooling/bench/results/profiles.md). A copy needs
 * only as many buffers as blocks are alive at once (being written + being read), so it keeps
 * exactly those and hands them out in turn.
 *
 * The buffers live on SharedArrayBuffers: a target that encodes in worker threads (Zarr) can
 * pass a block to its workers without copying it. Their contents are whatever the previous
 * block left; a read overwrites every byte of the view it is given.
 */

/** A fixed set of equally sized byte buffers, lent one at a time. */
export class BlockPool {
	readonly #bytes: number;
	readonly #capacity: number;
	readonly #free: SharedArrayBuffer[] = [];
	readonly #waiting: ((b: SharedArrayBuffer) => void)[] = [];
	readonly #owner = new WeakMap<Uint8Array, SharedArrayBuffer>();
	#created = 0;

	/**
	 * @param bytes size of every buffer (the largest block).
	 * @param capacity buffers at most; `take` waits when all are lent.
	 */
	constructor(bytes: number, capacity: number) {
		this.#bytes = Math.max(1, bytes);
		this.#capacity = Math.max(1, capacity);
	}

	/** A view of `n` bytes (≤ the pool's buffer size) on a free buffer, waiting for one if needed. */
	async take(n: number): Promise<Uint8Array> {
		if (n > this.#bytes)
			throw new RangeError(
				`block of ${n} bytes exceeds the pool's ${this.#bytes}`,
			);
		let buf = this.#free.pop();
		if (!buf && this.#created < this.#capacity) {
			this.#created++;
			buf = new SharedArrayBuffer(this.#bytes);
		}
		if (!buf)
			buf = await new Promise<SharedArrayBuffer>((resolve) =>
				this.#waiting.push(resolve),
			);
		const view = new Uint8Array(buf, 0, n);
		this.#owner.set(view, buf);
		return view;
	}

	/** Returns a view `take` gave out; its buffer goes to the next taker. Idempotent. */
	give(view: Uint8Array): void {
		const buf = this.#owner.get(view);
		if (!buf) return;
		this.#owner.delete(view);
		const next = this.#waiting.shift();
		if (next) next(buf);
		else this.#free.push(buf);
	}
}
