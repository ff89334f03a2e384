/**
 * A worker_threads pool for chunk encoding and decoding, so compressed reads and writes use
 * every core. Idle workers are unref'd (an idle pool never keeps a process alive); pools are
 * shared per size and terminated when the last driver using them closes.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { type KernelTask, kernelError, WORKER_URL } from "./kernel.js";
import { Semaphore } from "./lock.js";

interface Pending {
	readonly id: number;
	readonly msg: Readonly<Record<string, unknown>>;
	readonly op: "encode" | "decode";
	readonly transfer: readonly ArrayBuffer[];
	readonly resolve: (reply: WorkerReply) => void;
	readonly reject: (err: unknown) => void;
}

interface Slot {
	readonly worker: Worker;
	busy: Pending | undefined;
}

/** A worker's answer to one message (worker/codec-worker.mjs). */
export interface WorkerReply {
	readonly id: number;
	readonly ok: boolean;
	/** Result of an encode or decode. */
	readonly bytes?: Uint8Array;
	/**
	 * Result of a write batch: per item the bytes stored, -1 when removed as empty, null when
	 * not done (a failed batch).
	 */
	readonly results?: readonly (number | null)[];
	/** On failure: malformed | unsupported | encode | fs | error. */
	readonly kind?: string;
	readonly message?: string;
	/** On an fs failure: the Node error code, syscall and path. */
	readonly code?: string;
	readonly syscall?: string;
	readonly path?: string;
}

/** Default number of workers: the cores Node may use. */
export function defaultWorkerCount(): number {
	return availableParallelism();
}

/** A fixed-size pool of codec workers, started lazily. */
export class WorkerPool {
	readonly size: number;
	/**
	 * Slots for codec tasks that run on the calling thread with their work on libuv's thread
	 * pool (native codecs): as many at once as the pool has workers.
	 */
	readonly slots: Semaphore;
	readonly #slots: Slot[] = [];
	/** Workers started so far and still alive. */
	get started(): number {
		return this.#slots.length;
	}
	readonly #queue: Pending[] = [];
	#next = 1;
	#closed = false;

	constructor(size: number) {
		this.size = size;
		this.slots = new Semaphore(size);
	}

	/**
	 * Runs a task on a worker. With `transfer`, `task.bytes.buffer` moves to the worker (the
	 * caller must own it whole and not use it afterwards).
	 */
	async run(task: KernelTask, transfer = false): Promise<Uint8Array> {
		const { op, chain, bytes, limits, native } = task;
		const r = await this.call(
			{ op, chain, bytes, limits, native },
			op,
			transfer ? [bytes.buffer as ArrayBuffer] : [],
		);
		if (r.ok && r.bytes) return r.bytes;
		throw kernelError({ kind: r.kind, message: r.message }, op);
	}

	/**
	 * Posts one message (`op` field: encode | decode | write) to a free worker and resolves
	 * with its reply, failed or not; a worker that dies rejects with a typed error (`errOp`
	 * names the direction). `transfer` moves those buffers to the worker.
	 */
	call(
		msg: Readonly<Record<string, unknown>>,
		errOp: "encode" | "decode",
		transfer: readonly ArrayBuffer[] = [],
	): Promise<WorkerReply> {
		if (this.#closed) return Promise.reject(new Error("worker pool is closed"));
		return new Promise<WorkerReply>((resolve, reject) => {
			this.#queue.push({
				id: this.#next++,
				msg,
				op: errOp,
				transfer,
				resolve,
				reject,
			});
			this.#pump();
		});
	}

	/** Terminates every worker; queued tasks fail. */
	async close(): Promise<void> {
		this.#closed = true;
		for (const p of this.#queue.splice(0))
			p.reject(new Error("worker pool closed"));
		const slots = this.#slots.splice(0);
		await Promise.all(slots.map((s) => s.worker.terminate()));
	}

	// --- internal ---

	#pump(): void {
		while (this.#queue.length > 0) {
			let slot = this.#slots.find((s) => s.busy === undefined);
			if (!slot && this.#slots.length < this.size) slot = this.#spawn();
			if (!slot) return;
			const p = this.#queue.shift() as Pending;
			slot.busy = p;
			slot.worker.ref();
			slot.worker.postMessage({ ...p.msg, id: p.id }, [...p.transfer]);
		}
	}

	#spawn(): Slot {
		const worker = new Worker(WORKER_URL);
		const slot: Slot = { worker, busy: undefined };
		worker.unref();
		worker.on("message", (r: WorkerReply) => {
			const p = slot.busy;
			if (!p || p.id !== r.id) return;
			slot.busy = undefined;
			worker.unref();
			p.resolve(r);
			this.#pump();
		});
		const fail = (err: unknown) => {
			const p = slot.busy;
			slot.busy = undefined;
			const i = this.#slots.indexOf(slot);
			if (i >= 0) this.#slots.splice(i, 1);
			p?.reject(kernelError(err, p.op));
			if (!this.#closed) this.#pump();
		};
		worker.on("error", fail);
		worker.on("exit", (code) => {
			if (!this.#closed)
				fail(new Error(`codec worker exited with code ${code}`));
		});
		this.#slots.push(slot);
		return slot;
	}
}

interface Shared {
	readonly pool: WorkerPool;
	users: number;
}

const shared = new Map<number, Shared>();

/** A reference to a shared pool; `release()` once, when the user closes. */
export interface PoolLease {
	readonly pool: WorkerPool | null;
	release(): Promise<void>;
}

/** Borrows the shared pool of `size` workers (0 → no pool: everything runs inline). */
export function acquirePool(size: number): PoolLease {
	if (size <= 0) return { pool: null, release: async () => {} };
	let s = shared.get(size);
	if (!s) {
		s = { pool: new WorkerPool(size), users: 0 };
		shared.set(size, s);
	}
	s.users++;
	const entry = s;
	let released = false;
	return {
		pool: entry.pool,
		release: async () => {
			if (released) return;
			released = true;
			entry.users--;
			if (entry.users === 0 && shared.get(size) === entry) {
				shared.delete(size);
				await entry.pool.close();
			}
		},
	};
}

/** Number of live shared pools (tests check that closing every driver ends them). */
export function livePools(): number {
	return shared.size;
}
