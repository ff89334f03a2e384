/**
 * A small pool of worker threads that read hyperslabs of one read-only HDF5 file in parallel.
 * Decompression in h5wasm is CPU-bound and single-threaded per wasm instance; each worker
 * (worker/read-worker.mjs) holds its own h5wasm instance with the file open "r", so disjoint
 * chunk-aligned boxes decode on several cores at once. Workers start on the first read, are
 * unref'd while idle (an open pool never keeps the process alive) and end with `close`.
 * Each worker's wasm heap grows to its largest read and never shrinks: reads are capped at
 * `maxBytes`, so a worker costs about 20 MB plus that.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

/** Largest read handed to one worker (the worker's heap stays near this). */
export const WORKER_READ_BYTES: number = 8 * 1024 * 1024;
/** Upper bound of the default pool size. */
export const MAX_READ_WORKERS = 4;

/** The default number of read workers: one per available core, at most {@link MAX_READ_WORKERS}. */
export function defaultReadWorkers(): number {
	return Math.min(MAX_READ_WORKERS, availableParallelism());
}

const stats = { started: 0, live: 0, reads: 0, native: 0 };

/**
 * Process-wide counters of the read pools: workers started, workers alive, reads served by
 * workers, workers whose HDF5 deflate runs Node's zlib. For tests and diagnostics.
 */
export function readPoolStats(): {
	readonly started: number;
	readonly live: number;
	readonly reads: number;
	readonly native: number;
} {
	return { ...stats };
}

interface Task {
	readonly id: number;
	readonly path: string;
	readonly start: readonly number[];
	readonly shape: readonly number[];
	readonly nbytes: number;
	readonly hint: number;
	readonly signal: AbortSignal | undefined;
	resolve(bytes: Uint8Array): void;
	reject(err: unknown): void;
}

interface Slot {
	readonly worker: Worker;
	ready: boolean;
	task: Task | null;
}

type Reply =
	| { readonly ready: true; readonly native: boolean }
	| { readonly failed: string }
	| { readonly id: number; readonly buffer: ArrayBuffer }
	| { readonly id: number; readonly error: string };

const WORKER_URL = new URL("../worker/read-worker.mjs", import.meta.url);

/** What a pool needs of the main module. */
export interface PoolRuntime {
	readonly pluginDir: string | null;
	readonly shared: {
		readonly factory: string;
		readonly module: unknown;
	} | null;
}

/** A failure of the pool itself (not of one read): the caller reads inline instead. */
export class PoolError extends Error {
	override readonly name = "PoolError";
}

/** Worker threads reading one file; see the module comment. */
export class ReadPool {
	readonly file: string;
	readonly size: number;
	readonly #runtime: PoolRuntime;
	readonly #slots: Slot[] = [];
	readonly #queue: Task[] = [];
	// Transfer buffers handed back by readers (see recycle): steady reads allocate nothing.
	readonly #spare: ArrayBuffer[] = [];
	#nextId = 1;
	#broken: string | null = null;
	#closed = false;

	constructor(file: string, size: number, runtime: PoolRuntime) {
		this.file = file;
		this.size = Math.max(1, Math.floor(size));
		this.#runtime = runtime;
	}

	/** False once closed or after a worker failed to start or died. */
	get usable(): boolean {
		return !this.#closed && this.#broken === null;
	}

	/** Number of workers started so far (0 until the first read). */
	get started(): number {
		return this.#slots.length;
	}

	/**
	 * Reads the box of the dataset at `path` (`nbytes` = its size × element size) in a worker;
	 * `hint` is the size a chunk inflates to (0 = unknown).
	 * @throws {PoolError} the pool is closed or broken; the read should be done inline.
	 * @throws {Error} the worker's HDF5 read failed (the message is HDF5's).
	 */
	read(
		path: string,
		start: readonly number[],
		shape: readonly number[],
		nbytes: number,
		hint = 0,
		signal?: AbortSignal,
	): Promise<Uint8Array> {
		if (!this.usable)
			return Promise.reject(new PoolError(this.#broken ?? "read pool closed"));
		if (nbytes > WORKER_READ_BYTES)
			return Promise.reject(
				new PoolError(`${nbytes} bytes exceed one worker read`),
			);
		this.#start();
		return new Promise<Uint8Array>((resolve, reject) => {
			this.#queue.push({
				id: this.#nextId++,
				path,
				start,
				shape,
				nbytes,
				hint,
				signal,
				resolve,
				reject,
			});
			this.#dispatch();
		});
	}

	/**
	 * Gives the buffer of a finished read back for reuse (the caller no longer touches it).
	 * Without this, every read allocates a buffer that lives until the next garbage collection.
	 */
	recycle(bytes: Uint8Array): void {
		const buffer = bytes.buffer;
		if (!(buffer instanceof ArrayBuffer) || this.#closed) return;
		this.#spare.push(buffer);
		this.#spare.sort((a, b) => b.byteLength - a.byteLength);
		if (this.#spare.length > this.size + 2) this.#spare.pop();
	}

	/** Terminates the workers; queued reads fail with {@link PoolError}. */
	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		this.#spare.length = 0;
		this.#failAll(new PoolError("read pool closed"));
		const slots = this.#slots.splice(0);
		await Promise.all(slots.map((s) => s.worker.terminate()));
	}

	#start(): void {
		if (this.#slots.length > 0) return;
		for (let i = 0; i < this.size; i++) {
			const worker = new Worker(WORKER_URL, {
				workerData: {
					file: this.file,
					pluginDir: this.#runtime.pluginDir,
					maxBytes: WORKER_READ_BYTES,
					// main's compiled module: no compile per worker, and its code is shared.
					factory: this.#runtime.shared?.factory ?? null,
					module: this.#runtime.shared?.module ?? null,
				},
				// The worker's own V8 heap holds only one piece at a time.
				resourceLimits: { maxOldGenerationSizeMb: 64 },
			});
			stats.started++;
			stats.live++;
			const slot: Slot = { worker, ready: false, task: null };
			worker.on("message", (m: Reply) => this.#onReply(slot, m));
			worker.on("error", (err) =>
				this.#fail(`read worker failed: ${err.message}`),
			);
			worker.on("exit", (code) => {
				stats.live--;
				if (!this.#closed) this.#fail(`read worker exited (code ${code})`);
			});
			this.#slots.push(slot);
		}
		this.#updateRefs();
	}

	#onReply(slot: Slot, m: Reply): void {
		if ("ready" in m) {
			slot.ready = true;
			if (m.native) stats.native++;
			this.#dispatch();
			return;
		}
		if ("failed" in m) {
			this.#fail(`read worker could not open ${this.file}: ${m.failed}`);
			return;
		}
		const task = slot.task;
		slot.task = null;
		if (task && task.id === m.id) {
			if ("buffer" in m) {
				stats.reads++;
				task.resolve(new Uint8Array(m.buffer, 0, task.nbytes));
			} else task.reject(new Error(m.error));
		}
		this.#dispatch();
	}

	#dispatch(): void {
		for (const slot of this.#slots) {
			if (!slot.ready || slot.task !== null) continue;
			let task = this.#queue.shift();
			// Reads whose caller gave up are dropped before they cost a worker anything.
			while (task?.signal?.aborted) {
				task.reject(task.signal.reason);
				task = this.#queue.shift();
			}
			if (!task) break;
			slot.task = task;
			const buffer = this.#buffer(task.nbytes);
			slot.worker.postMessage(
				{
					id: task.id,
					path: task.path,
					start: task.start,
					shape: task.shape,
					nbytes: task.nbytes,
					hint: task.hint,
					buffer,
				},
				[buffer],
			);
		}
		this.#updateRefs();
	}

	// The smallest spare buffer that fits, or a new one (rounded up so boxes of a region share).
	#buffer(nbytes: number): ArrayBuffer {
		for (let i = this.#spare.length - 1; i >= 0; i--) {
			const b = this.#spare[i] as ArrayBuffer;
			if (b.byteLength >= nbytes) {
				this.#spare.splice(i, 1);
				return b;
			}
		}
		let size = 1024 * 1024;
		while (size < nbytes) size *= 2;
		return new ArrayBuffer(Math.min(size, Math.max(nbytes, WORKER_READ_BYTES)));
	}

	// Workers keep the process alive only while reads are pending.
	#updateRefs(): void {
		const busy =
			this.#queue.length > 0 || this.#slots.some((s) => s.task !== null);
		for (const s of this.#slots) {
			if (busy) s.worker.ref();
			else s.worker.unref();
		}
	}

	#fail(reason: string): void {
		if (this.#broken !== null || this.#closed) return;
		this.#broken = reason;
		this.#failAll(new PoolError(reason));
		const slots = this.#slots.splice(0);
		for (const s of slots) void s.worker.terminate();
	}

	#failAll(err: PoolError): void {
		for (const task of this.#queue.splice(0)) task.reject(err);
		for (const slot of this.#slots) {
			slot.task?.reject(err);
			slot.task = null;
		}
	}
}
