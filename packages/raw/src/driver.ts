/**
 * The region driver: one array stored contiguously (C or F order) at a byte offset of a file.
 * The raw adapter uses it for whole headerless files; `@arraystore/npy` and
 * `@arraystore/mmappickle` use it for the data region after their own headers.
 */
import { constants as fsc } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import type {
	ArrayDriver,
	ArrayInfo,
	DType,
	Order,
	Region,
} from "@arraystore/core";
import {
	ClosedError,
	fromNodeError,
	OutOfBoundsError,
	ReadOnlyError,
	slabShape,
	UnsupportedDTypeError,
	UnsupportedError,
} from "@arraystore/core";
import type { ByteIo } from "./byte-io.js";
import { PositionalFileIo } from "./file-io.js";
import {
	byteLength,
	checkOffset,
	checkRawDType,
	checkShape,
	type RawLayout,
} from "./layout.js";
import { WindowedMapping } from "./mapping.js";
import { loadMmap } from "./mmap-lib.js";
import { checkRegion, regionRuns } from "./runs.js";

/** Modes of a data region. "w+" opens read-write, creating the file or extending it when short (never truncating). */
export type RegionMode = "r" | "r+" | "c" | "w+";

/** Options of {@link openRawRegion}. */
export interface RawRegionOptions {
	readonly mode: RegionMode;
	/** Stored dtype, byte order included. */
	readonly dtype: DType;
	readonly shape: readonly number[];
	readonly order: Order;
	/** File offset of element 0. */
	readonly offset: number;
	/** false: positional file I/O instead of memory mapping (also the fallback when mmap-io cannot load). */
	readonly mmap?: boolean;
	/** Mapping window in bytes (page-aligned, at most 1 GiB; default 1 GiB). */
	readonly windowBytes?: number;
	/** Live mapping windows kept (default 4). */
	readonly maxWindows?: number;
	/** Mode c without mmap: cap on privately held written bytes (default 256 MiB). */
	readonly maxPrivateBytes?: number;
	/**
	 * Without mmap: writes of 2 MiB and more bypass the page cache (O_DIRECT) where the file
	 * system allows (default false). For streaming large outputs; see direct-write.ts.
	 */
	readonly directWrites?: boolean;
	readonly signal?: AbortSignal;
}

/** The region driver: an {@link ArrayDriver} with a few extras. */
export interface RawRegionDriver extends ArrayDriver {
	/** The mode it was opened with. */
	readonly mode: RegionMode;
	/** Whether reads copy out of memory mappings (mmap-io loaded) rather than positional reads. */
	readonly mapped: boolean;
	/**
	 * Changes axis 0 (C order) or the last axis (F order) and sets the file length to
	 * offset + nbytes (extending sparsely or truncating).
	 */
	resize(shape: readonly number[]): Promise<void>;
	/** msync of written windows; `durable` adds fsync. No-op in modes r and c. */
	flush(options?: { readonly durable?: boolean }): Promise<void>;
}

/** Hooks for the adapter (sidecar upkeep). */
export interface RegionHooks {
	/** After a successful resize. */
	readonly onResize?: (layout: RawLayout) => Promise<void>;
	/** Adapter name in errors (default "raw"). */
	readonly adapter?: string;
}

function makeInfo(layout: RawLayout): ArrayInfo {
	return Object.freeze({
		dtype: layout.dtype,
		shape: Object.freeze([...layout.shape]),
		order: layout.order,
		chunks: null,
		blockShape: Object.freeze(
			slabShape(layout.shape, layout.dtype.itemsize, layout.order),
		),
		fillValue: null,
		codecs: Object.freeze([]),
		byteOffset: layout.offset,
	});
}

class RawDriver implements RawRegionDriver {
	readonly mode: RegionMode;
	readonly #fh: FileHandle;
	readonly #io: ByteIo;
	readonly #target: string;
	readonly #hooks: RegionHooks;
	#layout: RawLayout;
	#info: ArrayInfo;
	#closing: Promise<void> | null = null;

	constructor(
		fh: FileHandle,
		io: ByteIo,
		layout: RawLayout,
		mode: RegionMode,
		target: string,
		hooks: RegionHooks,
	) {
		this.#fh = fh;
		this.#io = io;
		this.#layout = layout;
		this.#info = makeInfo(layout);
		this.mode = mode;
		this.#target = target;
		this.#hooks = hooks;
	}

	get info(): ArrayInfo {
		return this.#info;
	}

	get mapped(): boolean {
		return this.#io.kind === "mmap";
	}

	// Not async: the checks are synchronous and the byte layer returns its own promise.
	read(region: Region, out: Uint8Array, signal?: AbortSignal): Promise<void> {
		try {
			this.#open();
			const { dtype, shape, order, offset } = this.#layout;
			checkRegion(shape, dtype.itemsize, region, out.byteLength, this.#target);
			return this.#io.read(
				regionRuns(shape, order, dtype.itemsize, offset, region),
				out,
				signal,
			);
		} catch (err) {
			return Promise.reject(err);
		}
	}

	async write(
		region: Region,
		bytes: Uint8Array,
		signal?: AbortSignal,
	): Promise<void> {
		this.#open();
		if (this.mode === "r")
			throw new ReadOnlyError("opened read-only (mode r)", this.#details());
		const { dtype, shape, order, offset } = this.#layout;
		checkRegion(shape, dtype.itemsize, region, bytes.byteLength, this.#target);
		await this.#io.write(
			regionRuns(shape, order, dtype.itemsize, offset, region),
			bytes,
			signal,
		);
	}

	async resize(shape: readonly number[]): Promise<void> {
		this.#open();
		if (this.mode === "r")
			throw new ReadOnlyError("opened read-only (mode r)", this.#details());
		if (this.mode === "c")
			throw new UnsupportedError(
				"resize is not available in copy-on-write mode c",
				this.#details(),
			);
		const next = checkShape(shape, this.#target);
		const old = this.#layout.shape;
		// Only the slowest-varying axis can change without moving data.
		const free = this.#layout.order === "C" ? 0 : old.length - 1;
		if (
			next.length !== old.length ||
			old.length === 0 ||
			next.some((d, i) => i !== free && d !== old[i])
		) {
			throw new UnsupportedError(
				`raw resize changes axis ${free} only (${this.#layout.order} order): [${old}] → [${next}]`,
				this.#details(),
			);
		}
		const layout = { ...this.#layout, shape: next };
		await this.#io.setLength(
			layout.offset + byteLength(layout.dtype, next, this.#target),
		);
		this.#layout = layout;
		this.#info = makeInfo(layout);
		await this.#hooks.onResize?.(layout);
	}

	async flush(options?: { readonly durable?: boolean }): Promise<void> {
		this.#open();
		if (this.mode === "r" || this.mode === "c") return;
		await this.#io.flush();
		if (options?.durable) {
			try {
				await this.#fh.sync();
			} catch (err) {
				throw fromNodeError(err, this.#details());
			}
		}
	}

	close(): Promise<void> {
		this.#closing ??= (async () => {
			try {
				await this.#io.release();
			} finally {
				await this.#fh.close().catch(() => undefined);
			}
		})();
		return this.#closing;
	}

	#open(): void {
		if (this.#closing !== null)
			throw new ClosedError("the raw file is closed", this.#details());
	}

	#details() {
		return { target: this.#target, adapter: this.#hooks.adapter ?? "raw" };
	}
}

/** Checks the pieces of a region layout; returns nbytes. */
function checkLayout(path: string, layout: RawLayout): number {
	const support = checkRawDType(layout.dtype);
	if (!support.ok) {
		throw new UnsupportedDTypeError(
			`dtype ${layout.dtype.str}: ${support.reason}`,
			{ target: path, adapter: "raw", dtype: layout.dtype.str, format: "raw" },
		);
	}
	checkShape(layout.shape, path);
	checkOffset(layout.offset, path);
	if (layout.order !== "C" && layout.order !== "F")
		throw new UnsupportedError(
			`order must be "C" or "F", got ${String(layout.order)}`,
			{ target: path, adapter: "raw" },
		);
	return byteLength(layout.dtype, layout.shape, path);
}

/** Internal: a driver over an already opened handle (the adapter's create path). */
export async function driverOnHandle(
	fh: FileHandle,
	path: string,
	layout: RawLayout,
	options: Omit<RawRegionOptions, "dtype" | "shape" | "order" | "offset">,
	hooks: RegionHooks = {},
): Promise<RawRegionDriver> {
	const details = { target: path, adapter: hooks.adapter ?? "raw" };
	try {
		const nbytes = checkLayout(path, layout);
		options.signal?.throwIfAborted();
		let size: number;
		try {
			const st = await fh.stat();
			if (!st.isFile())
				throw new UnsupportedError(`${path} is not a regular file`, details);
			size = st.size;
			const end = layout.offset + nbytes;
			if (size < end) {
				if (options.mode !== "w+") {
					throw new OutOfBoundsError(
						`the array needs bytes up to ${end} (offset ${layout.offset} + ${nbytes}) but the file has ${size}`,
						details,
					);
				}
				await fh.truncate(end);
				size = end;
			}
		} catch (err) {
			throw fromNodeError(err, details);
		}
		const mode = {
			writable: options.mode !== "r",
			private: options.mode === "c",
		};
		const lib = options.mmap === false ? null : await loadMmap();
		const io: ByteIo = lib
			? new WindowedMapping(lib, fh, size, mode, path, {
					windowBytes: options.windowBytes,
					maxWindows: options.maxWindows,
				})
			: new PositionalFileIo(fh, size, mode, path, {
					maxPrivateBytes: options.maxPrivateBytes,
					directWrites: options.directWrites,
				});
		return new RawDriver(fh, io, layout, options.mode, path, hooks);
	} catch (err) {
		await fh.close().catch(() => undefined);
		throw err;
	}
}

const FLAGS: Readonly<Record<RegionMode, number>> = {
	r: fsc.O_RDONLY,
	c: fsc.O_RDONLY,
	"r+": fsc.O_RDWR,
	"w+": fsc.O_RDWR | fsc.O_CREAT,
};

/**
 * Opens the data region of a file: `shape` elements of `dtype` in `order`, element 0 at
 * `offset`. Reads and writes follow the driver contract (stored byte order; C order of the box
 * for C storage, F order of the box for F storage). Modes r, c and r+ need
 * `fileSize ≥ offset + nbytes`; w+ creates the file or extends it to that length (sparse) but
 * never truncates, so bytes before and after the region survive.
 * @throws {NotFoundError} missing file (modes r, r+, c).
 * @throws {OutOfBoundsError} the file is shorter than offset + nbytes.
 * @throws {UnsupportedDTypeError} kind O or itemsize 0.
 */
export async function openRawRegion(
	path: string,
	options: RawRegionOptions,
	hooks: RegionHooks = {},
): Promise<RawRegionDriver> {
	const { dtype, shape, order, offset } = options;
	const details = { target: path, adapter: hooks.adapter ?? "raw" };
	options.signal?.throwIfAborted();
	const flags = Object.hasOwn(FLAGS, options.mode)
		? FLAGS[options.mode]
		: undefined;
	if (flags === undefined)
		throw new UnsupportedError(
			`mode must be r, r+, c or w+, got ${String(options.mode)}`,
			details,
		);
	checkLayout(path, { dtype, shape, order, offset });
	let fh: FileHandle;
	try {
		fh = await open(path, flags, 0o666);
	} catch (err) {
		throw fromNodeError(err, details);
	}
	return driverOnHandle(
		fh,
		path,
		{ dtype, shape: [...shape], order, offset },
		options,
		hooks,
	);
}
