/**
 * Open HDF5 files, shared per process: HDF5 refuses to open one file twice with different
 * access flags, so every store and container on the same file shares one handle (reference
 * counted). A read-only handle is upgraded in place when a writer arrives, and the handle can
 * be closed and reopened around an on-disk header patch; holders always read the current id.
 */
import { closeSync, fsyncSync, openSync, realpathSync } from "node:fs";
import { resolve } from "node:path";
import { ClosedError, fromNodeError, UnsupportedError } from "@arraystore/core";
import { ADAPTER, translate } from "./errors.js";
import type { H5Api, H5Runtime } from "./module.js";
import { ReadPool } from "./read-pool.js";

/** h5wasm access modes we use. */
export type FileMode = "r" | "a" | "w";

const open = new Map<string, H5File>();

/** One open HDF5 file. */
export class H5File {
	readonly runtime: H5Runtime;
	/** Resolved path (the registry key). */
	readonly path: string;
	/** The caller's spelling, for messages. */
	readonly target: string;
	#id: bigint;
	#writable: boolean;
	#refs = 1;
	#tainted = false;
	#pool: ReadPool | null = null;

	private constructor(
		runtime: H5Runtime,
		path: string,
		target: string,
		id: bigint,
		writable: boolean,
	) {
		this.runtime = runtime;
		this.path = path;
		this.target = target;
		this.#id = id;
		this.#writable = writable;
	}

	/**
	 * Opens (or shares) `path`. Mode "w" creates or truncates it; "a" and "r" need an existing file.
	 * @throws {UnsupportedError} truncating a file that is open elsewhere in this process.
	 */
	static acquire(
		runtime: H5Runtime,
		path: string,
		mode: FileMode,
		target: string,
	): H5File {
		const key = mode === "w" ? resolve(path) : realpathSync(path);
		const existing = open.get(key);
		if (existing) {
			if (mode === "w") {
				throw new UnsupportedError(
					`${target} is open in this process; close it before replacing the file`,
					{ adapter: ADAPTER, target },
				);
			}
			if (mode === "a" && !existing.#writable) existing.#reopen(true);
			existing.#refs++;
			return existing;
		}
		const id = openId(runtime.api, key, mode, target);
		const file = new H5File(
			runtime,
			mode === "w" ? realpathSync(key) : key,
			target,
			id,
			mode !== "r",
		);
		open.set(file.path, file);
		return file;
	}

	/** The current HDF5 file id (changes when the file is reopened). */
	get id(): bigint {
		if (this.#refs <= 0)
			throw new ClosedError(`${this.target} is closed`, {
				adapter: ADAPTER,
				target: this.target,
			});
		return this.#id;
	}

	get writable(): boolean {
		return this.#writable;
	}

	/** False after an HDF5 call failed: HDF5 may hold leaked objects, so no header patching. */
	get clean(): boolean {
		return !this.#tainted;
	}

	/**
	 * The pool of read workers of this file (created on first use with `size` workers), or null
	 * while the file is open for writing: other h5wasm instances must never read a file this
	 * one writes (HDF5's caches would disagree).
	 */
	readPool(size: number): ReadPool | null {
		if (this.#writable || this.#refs <= 0 || size < 1) return null;
		this.#pool ??= new ReadPool(this.path, size, this.runtime);
		return this.#pool.usable ? this.#pool : null;
	}

	/** Runs an h5wasm call with the current id, translating failures. */
	call<T>(what: string, fn: (api: H5Api, id: bigint) => T): T {
		const id = this.id;
		try {
			return fn(this.runtime.api, id);
		} catch (err) {
			this.#tainted = true;
			throw translate(err, what, { target: this.target });
		}
	}

	/** Flushes HDF5's buffers to the file. */
	flush(): void {
		if (this.#writable) this.call("flush", (api, id) => api.flush(id));
	}

	/** fsyncs the file (after `flush`), for durable flushes. */
	sync(): void {
		try {
			const fd = openSync(this.path, "r+");
			try {
				fsyncSync(fd);
			} finally {
				closeSync(fd);
			}
		} catch (err) {
			throw fromNodeError(err, { adapter: ADAPTER, target: this.target });
		}
	}

	/**
	 * Closes the file, runs `fn` on the closed file (an on-disk patch), and reopens it.
	 * @throws {UnsupportedError} after an earlier HDF5 failure on this file (leaked objects would keep stale metadata cached).
	 */
	whileClosed(fn: () => void): void {
		if (this.#tainted) {
			throw new UnsupportedError(
				`${this.target}: an earlier HDF5 error left objects open; reopen the file before creating this`,
				{ adapter: ADAPTER, target: this.target },
			);
		}
		const api = this.runtime.api;
		this.call("close", () => api.close_file(this.#id));
		try {
			fn();
		} finally {
			this.#id = openId(
				api,
				this.path,
				this.#writable ? "a" : "r",
				this.target,
			);
		}
	}

	/** Drops one reference; the last one closes the file. */
	release(): void {
		if (this.#refs <= 0) return;
		this.#refs--;
		if (this.#refs > 0) return;
		open.delete(this.path);
		this.#endPool();
		const api = this.runtime.api;
		try {
			api.close_file(this.#id);
		} catch (err) {
			throw translate(err, "close", { target: this.target });
		}
	}

	#endPool(): void {
		// terminate() settles asynchronously; nothing waits on it, and it never fails usefully.
		void this.#pool?.close();
		this.#pool = null;
	}

	#reopen(writable: boolean): void {
		if (writable) this.#endPool();
		const api = this.runtime.api;
		this.call("close", () => api.close_file(this.#id));
		this.#writable = writable;
		this.#id = openId(api, this.path, writable ? "a" : "r", this.target);
	}
}

function openId(
	api: H5Api,
	path: string,
	mode: FileMode,
	target: string,
): bigint {
	const flags =
		mode === "r"
			? api.H5F_ACC_RDONLY
			: mode === "a"
				? api.H5F_ACC_RDWR
				: api.H5F_ACC_TRUNC;
	try {
		// Earliest format up to 1.10 for new objects: readable by HDF5 1.10 (Debian h5py 3.7),
		// and v1 object headers, which the header patches below rely on.
		// Read-only opens keep the library defaults, which accept every file version.
		const low = mode === "r" ? -1 : api.H5F_LIBVER_EARLIEST;
		const high = mode === "r" ? -1 : api.H5F_LIBVER_V110;
		const id = api.open(path, flags, false, low, high);
		if (id < 0n) throw new Error(`H5Fopen returned ${id}`);
		return id;
	} catch (err) {
		throw translate(err, `open ${mode === "r" ? "read-only" : "read-write"}`, {
			target,
		});
	}
}
