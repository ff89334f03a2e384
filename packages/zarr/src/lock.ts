/**
 * Per-key async mutual exclusion: read-modify-write of one chunk or shard never interleaves
 * with another, so concurrent partial writes lose no updates.
 */

/** A set of async locks keyed by string; entries vanish when released and unused. */
export class KeyedLock {
	readonly #tails = new Map<string, Promise<void>>();

	/** Runs `fn` once every earlier holder of `key` has finished. */
	async with<T>(key: string, fn: () => Promise<T>): Promise<T> {
		const prev = this.#tails.get(key) ?? Promise.resolve();
		let release!: () => void;
		const mine = new Promise<void>((r) => {
			release = r;
		});
		const tail = prev.then(() => mine);
		this.#tails.set(key, tail);
		try {
			await prev;
			return await fn();
		} finally {
			release();
			if (this.#tails.get(key) === tail) this.#tails.delete(key);
		}
	}

	/** Resolves when every lock taken so far is released. */
	async idle(): Promise<void> {
		while (this.#tails.size > 0) await Promise.all([...this.#tails.values()]);
	}
}

/** Runs `tasks` with at most `limit` in flight; rejects with the first failure after all settle. */
export async function runLimited(
	tasks: Iterable<() => Promise<void>>,
	limit: number,
	signal?: AbortSignal,
): Promise<void> {
	const it = tasks[Symbol.iterator]();
	let failure: { err: unknown } | undefined;
	const lane = async (): Promise<void> => {
		for (;;) {
			if (failure) return;
			const next = it.next();
			if (next.done) return;
			try {
				signal?.throwIfAborted();
				await next.value();
			} catch (err) {
				failure ??= { err };
			}
		}
	};
	await Promise.all(Array.from({ length: Math.max(1, limit) }, lane));
	if (failure) throw failure.err;
}

/** At most `size` holders at once; the others wait their turn in order. */
export class Semaphore {
	readonly size: number;
	#active = 0;
	readonly #waiting: (() => void)[] = [];

	constructor(size: number) {
		this.size = Math.max(1, Math.floor(size));
	}

	/** Runs `fn` once a slot is free. */
	async run<T>(fn: () => Promise<T>): Promise<T> {
		if (this.#active < this.size) this.#active++;
		// A releasing holder hands its slot over: #active stays counted.
		else await new Promise<void>((resolve) => this.#waiting.push(resolve));
		try {
			return await fn();
		} finally {
			const next = this.#waiting.shift();
			if (next) next();
			else this.#active--;
		}
	}
}

/**
 * Chunk locks shared by every array of the process, keyed by absolute file path: two stores
 * opened on the same array still never interleave a read-modify-write of one chunk.
 */
export const CHUNK_LOCKS: KeyedLock = new KeyedLock();

/** Operations in flight, so flush and close can wait for them. */
export class InFlight {
	readonly #ops = new Set<Promise<unknown>>();

	/** Runs `op` and remembers it until it settles. */
	track<T>(op: Promise<T>): Promise<T> {
		const p = op.finally(() => this.#ops.delete(p));
		this.#ops.add(p);
		return p;
	}

	/** Resolves when every tracked operation has settled. */
	async idle(): Promise<void> {
		while (this.#ops.size > 0) await Promise.allSettled([...this.#ops]);
	}
}
