/**
 * The filesystem key-value store under a Zarr hierarchy. Every write is atomic (temporary file
 * in the same directory, then rename), so an interrupted write never leaves a torn chunk or
 * metadata file; keys are validated so none can escape the store root.
 */
import { randomBytes } from "node:crypto";
import { closeSync, fstatSync, openSync, readSync, type Stats } from "node:fs";
import {
	mkdir,
	open,
	readdir,
	readFile,
	rename,
	rm,
	stat,
	unlink,
	writeFile,
} from "node:fs/promises";
import { dirname, join } from "node:path";
import {
	fromNodeError,
	InvalidSelectionError,
	MalformedError,
} from "@arraystore/core";

/** One directory entry of a store listing. */
export interface StoreEntry {
	readonly name: string;
	readonly isDirectory: boolean;
}

/**
 * Checks a store key or node path: relative, `/`-separated, no `..`/`.` segments, no NUL or
 * backslash. "" is the root.
 * @throws {InvalidSelectionError} for keys that could escape the store.
 */
export function checkKey(key: string): string {
	if (key === "") return key;
	const bad =
		key.includes("\0") ||
		key.includes("\\") ||
		key.startsWith("/") ||
		/^[A-Za-z]:/.test(key) ||
		key.split("/").some((s) => s === ".." || s === "." || s === "");
	if (bad)
		throw new InvalidSelectionError(
			`invalid Zarr key ${JSON.stringify(key)}: it must be a relative path without '..'`,
		);
	return key;
}

/** Joins node path parts with `/`, dropping empty parts. */
export function joinKey(...parts: string[]): string {
	return parts.filter((p) => p !== "").join("/");
}

/**
 * A file opened with synchronous calls for a few positional reads (one small read).
 * `stamp` names this version of the file (device, inode, size, change times): a writer's
 * rename or rewrite changes it.
 */
export interface SyncFile {
	readonly path: string;
	readonly size: number;
	readonly stamp: string;
	/**
	 * Reads the file's bytes [position, position + dst.length) into `dst`.
	 * @throws {MalformedError} the file ends before (it changed since it was opened).
	 */
	readInto(dst: Uint8Array, position: number): void;
	close(): void;
}

/** A directory-backed Zarr store. */
export class FsStore {
	readonly root: string;
	readonly #written = new Set<string>();
	#writes = 0;
	// Past this many files, sync() walks the store instead of remembering every path.
	#overflow = false;

	constructor(root: string) {
		this.root = root;
	}

	/** Absolute filesystem path of a key. */
	path(key: string): string {
		checkKey(key);
		return key === "" ? this.root : join(this.root, ...key.split("/"));
	}

	/**
	 * The bytes under `key`, or undefined when absent. With `alloc`, they land in a buffer it
	 * lends (a codec buffer pool) instead of a fresh one.
	 */
	async get(
		key: string,
		signal?: AbortSignal,
		alloc?: (n: number) => Uint8Array,
	): Promise<Uint8Array | undefined> {
		if (alloc) return this.#getInto(key, alloc, signal);
		const p = this.path(key);
		try {
			const buf = await readFile(p, signal ? { signal } : {});
			return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
		} catch (err) {
			if (isMissing(err)) return undefined;
			throw fromNodeError(err, { target: p, adapter: "zarr" });
		}
	}

	/** `key` opened for synchronous positional reads, or undefined when absent. */
	openSync(key: string): SyncFile | undefined {
		const p = this.path(key);
		let fd: number;
		try {
			fd = openSync(p, "r");
		} catch (err) {
			if (isMissing(err)) return undefined;
			throw fromNodeError(err, { target: p, adapter: "zarr" });
		}
		let st: Stats;
		try {
			st = fstatSync(fd);
		} catch (err) {
			closeSync(fd);
			throw fromNodeError(err, { target: p, adapter: "zarr" });
		}
		if (!st.isFile()) {
			closeSync(fd);
			return undefined;
		}
		let open = true;
		return {
			path: p,
			size: st.size,
			get stamp() {
				return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
			},
			readInto(dst, position) {
				let got = 0;
				try {
					while (got < dst.length) {
						const n = readSync(fd, dst, got, dst.length - got, position + got);
						if (n === 0) break;
						got += n;
					}
				} catch (err) {
					throw fromNodeError(err, { target: p, adapter: "zarr" });
				}
				if (got < dst.length)
					throw new MalformedError(
						`${p} ended after ${position + got} bytes while being read (it changed)`,
					);
			},
			close() {
				if (open) closeSync(fd);
				open = false;
			},
		};
	}

	/**
	 * Counts the store's own writes (set, delete, noteWritten): caches of what files hold
	 * (shard indexes) drop what they know when it changes.
	 */
	get writes(): number {
		return this.#writes;
	}

	async #getInto(
		key: string,
		alloc: (n: number) => Uint8Array,
		signal?: AbortSignal,
	): Promise<Uint8Array | undefined> {
		const p = this.path(key);
		let fh: Awaited<ReturnType<typeof open>> | undefined;
		try {
			signal?.throwIfAborted();
			fh = await open(p, "r");
			const { size } = await fh.stat();
			const out = alloc(size);
			let got = 0;
			while (got < size) {
				const { bytesRead } = await fh.read(out, got, size - got, got);
				if (bytesRead === 0) break;
				got += bytesRead;
			}
			return got === size ? out : out.slice(0, got);
		} catch (err) {
			if (isMissing(err)) return undefined;
			if ((err as { name?: string }).name === "AbortError") throw err;
			throw fromNodeError(err, { target: p, adapter: "zarr" });
		} finally {
			await fh?.close();
		}
	}

	/** Size of the value under `key`, or undefined when absent. */
	async size(key: string): Promise<number | undefined> {
		const p = this.path(key);
		try {
			const s = await stat(p);
			return s.isFile() ? s.size : undefined;
		} catch (err) {
			if (isMissing(err)) return undefined;
			throw fromNodeError(err, { target: p, adapter: "zarr" });
		}
	}

	/** `length` bytes at `offset` of the value under `key` (fewer at its end); undefined when absent. */
	async getRange(
		key: string,
		offset: number,
		length: number,
	): Promise<Uint8Array | undefined> {
		const p = this.path(key);
		let fh: Awaited<ReturnType<typeof open>> | undefined;
		try {
			fh = await open(p, "r");
			const out = new Uint8Array(new ArrayBuffer(length));
			let got = 0;
			while (got < length) {
				const { bytesRead } = await fh.read(
					out,
					got,
					length - got,
					offset + got,
				);
				if (bytesRead === 0) break;
				got += bytesRead;
			}
			return got === length ? out : out.subarray(0, got);
		} catch (err) {
			if (isMissing(err)) return undefined;
			throw fromNodeError(err, { target: p, adapter: "zarr" });
		} finally {
			await fh?.close();
		}
	}

	/** True when a file exists under `key`. */
	async has(key: string): Promise<boolean> {
		return (await this.size(key)) !== undefined;
	}

	/** True when `key` is a directory. */
	async isDirectory(key: string): Promise<boolean> {
		try {
			return (await stat(this.path(key))).isDirectory();
		} catch (err) {
			if (isMissing(err)) return false;
			throw fromNodeError(err, { target: this.path(key), adapter: "zarr" });
		}
	}

	/** Writes `bytes` under `key` atomically: a temporary file beside it, then rename. */
	async set(key: string, bytes: Uint8Array): Promise<void> {
		const p = this.path(key);
		const tmp = join(
			dirname(p),
			`.${key.split("/").pop() ?? "x"}.${process.pid}.${randomBytes(6).toString("hex")}.partial`,
		);
		try {
			try {
				await writeFile(tmp, bytes);
			} catch (err) {
				// The directory is usually there: create it only when the first write says so.
				if ((err as { code?: string }).code !== "ENOENT") throw err;
				await mkdir(dirname(p), { recursive: true });
				await writeFile(tmp, bytes);
			}
			await rename(tmp, p);
			this.noteWritten(p);
		} catch (err) {
			await rm(tmp, { force: true }).catch(() => undefined);
			throw fromNodeError(err, { target: p, adapter: "zarr" });
		}
	}

	/**
	 * Records a file written behind the store's back (a worker's chunk write, same temporary
	 * file and rename) so {@link sync} fsyncs it too. `path` is absolute, from {@link path}.
	 */
	noteWritten(path: string): void {
		this.#writes++;
		if (this.#written.size < MAX_TRACKED) this.#written.add(path);
		else this.#overflow = true;
	}

	/** Removes the value under `key` (no error when absent). */
	async delete(key: string): Promise<void> {
		const p = this.path(key);
		this.#writes++;
		try {
			await unlink(p);
		} catch (err) {
			if (isMissing(err)) return;
			throw fromNodeError(err, { target: p, adapter: "zarr" });
		}
	}

	/** Removes the directory `key` and everything below it. */
	async deleteTree(key: string): Promise<void> {
		const p = this.path(key);
		if (key === "")
			throw new InvalidSelectionError("refusing to delete the store root");
		this.#writes++;
		try {
			await rm(p, { recursive: true, force: true });
		} catch (err) {
			throw fromNodeError(err, { target: p, adapter: "zarr" });
		}
	}

	/** Entries of the directory `key` (empty when absent). Temporary write files are skipped. */
	async list(key: string): Promise<StoreEntry[]> {
		const p = this.path(key);
		try {
			const ents = await readdir(p, { withFileTypes: true });
			return ents
				.filter((e) => !e.name.endsWith(".partial"))
				.map((e) => ({ name: e.name, isDirectory: e.isDirectory() }));
		} catch (err) {
			if (isMissing(err) || (err as { code?: string }).code === "ENOTDIR")
				return [];
			throw fromNodeError(err, { target: p, adapter: "zarr" });
		}
	}

	/** Creates the directory `key` (and parents). */
	async mkdir(key: string): Promise<void> {
		const p = this.path(key);
		try {
			await mkdir(p, { recursive: true });
		} catch (err) {
			throw fromNodeError(err, { target: p, adapter: "zarr" });
		}
	}

	async #allFiles(key: string): Promise<string[]> {
		const out: string[] = [];
		for (const e of await this.list(key)) {
			const k = key === "" ? e.name : `${key}/${e.name}`;
			if (e.isDirectory) out.push(...(await this.#allFiles(k)));
			else out.push(this.path(k));
		}
		return out;
	}

	/** fsyncs every file written since the last call, and their directories. */
	async sync(): Promise<void> {
		const files = this.#overflow
			? await this.#allFiles("")
			: [...this.#written];
		this.#written.clear();
		this.#overflow = false;
		const dirs = new Set(files.map((f) => dirname(f)));
		for (const f of [...files, ...dirs]) {
			let fh: Awaited<ReturnType<typeof open>> | undefined;
			try {
				fh = await open(f, "r");
				await fh.sync();
			} catch (err) {
				// A chunk deleted after it was written has nothing left to sync.
				if (!isMissing(err))
					throw fromNodeError(err, { target: f, adapter: "zarr" });
			} finally {
				await fh?.close();
			}
		}
	}
}

const MAX_TRACKED = 65536;

function isMissing(err: unknown): boolean {
	const code = (err as { code?: string } | null)?.code;
	return code === "ENOENT" || code === "EISDIR" || code === "ENOTDIR";
}
