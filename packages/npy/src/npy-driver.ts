/**
 * The `.npy` array driver: our header in front, raw's memory-mapped region driver for the data
 * (numpy's `open_memmap` semantics). Resizing rewrites the shape in place within the header's
 * growth padding, or moves the data behind a larger header when the new shape does not fit.
 */
import {
	type ArrayDriver,
	type ArrayInfo,
	ClosedError,
	type DType,
	encodeElement,
	type Order,
	ReadOnlyError,
	type Region,
	type Scalar,
	ShapeMismatchError,
	shapeSize,
	UnsupportedError,
	wrapError,
} from "@arraystore/core";
import type { RawRegionDriver } from "@arraystore/raw";
import { fillRange, moveBytes, openFile, writeAll } from "./file-bytes.js";
import { type NpyHeader, type NpyVersion, readNpyHeader } from "./header.js";
import {
	encodeHeaderText,
	formatNpyHeader,
	npyHeaderDict,
} from "./header-write.js";
import type { NpyReadTuning, RegionTuning } from "./options.js";

/** Adapter name used in errors. */
export const NPY_ADAPTER = "npy";

/** Options of {@link openNpy}. */
export interface OpenNpyOptions extends NpyReadTuning {
	readonly mode: "r" | "r+" | "c";
	readonly signal?: AbortSignal;
}

/** Options of {@link createNpy}. */
export interface CreateNpyOptions extends RegionTuning {
	readonly dtype: DType;
	readonly shape: readonly number[];
	readonly order?: Order;
	/** AlreadyExistsError instead of replacing. */
	readonly exclusive?: boolean;
	/** Every element starts as this value (default zeros, like `numpy.zeros`). */
	readonly fillValue?: Scalar;
	readonly signal?: AbortSignal;
}

/** An npy driver: an {@link ArrayDriver} that also reports its header. */
export interface NpyDriver extends ArrayDriver {
	/** The header as it is on disk now (after resizes). */
	readonly header: NpyHeader;
	readonly mode: "r" | "r+" | "c";
	/** True when the data is memory-mapped (mmap-io loaded), false for positional I/O. */
	readonly mapped: boolean;
	/** Rejects with ReadOnlyError in mode r. */
	write(region: Region, bytes: Uint8Array, signal?: AbortSignal): Promise<void>;
	/** Changes the growth axis (axis 0 for C order, the last axis for F order). */
	resize(shape: readonly number[]): Promise<void>;
	flush(options?: { readonly durable?: boolean }): Promise<void>;
}

/**
 * Opens an existing `.npy` file.
 * @throws {NotFoundError} missing file.
 * @throws {MalformedError | TruncatedError | UnsupportedVersionError | UnsupportedDTypeError | LimitExceededError} bad header.
 */
export async function openNpy(
	path: string,
	options: OpenNpyOptions,
): Promise<NpyDriver> {
	const details = { target: path, adapter: NPY_ADAPTER };
	options.signal?.throwIfAborted();
	let header: NpyHeader;
	const fh = await openFile(path, "r", details);
	try {
		header = await readNpyHeader(fh, 0, {
			maxHeaderBytes: options.maxHeaderBytes,
		});
	} catch (err) {
		throw wrapError(err, details);
	} finally {
		await fh.close().catch(() => undefined);
	}
	const region = await openRegion(path, header, options.mode, options);
	return new NpyFileDriver(path, options.mode, header, region, options);
}

/**
 * Creates (or replaces) a `.npy` file: a numpy-identical header and a zero-filled (sparse) data
 * region, or one filled with `fillValue`.
 * @throws {AlreadyExistsError} `exclusive` and the file exists.
 * @throws {UnsupportedDTypeError} dtypes npy cannot describe.
 */
export async function createNpy(
	path: string,
	options: CreateNpyOptions,
): Promise<NpyDriver> {
	const details = { target: path, adapter: NPY_ADAPTER };
	options.signal?.throwIfAborted();
	const fortranOrder = options.order === "F";
	const bytes = formatNpyHeader({
		dtype: options.dtype,
		shape: options.shape,
		fortranOrder,
	});
	const size = shapeSize(options.shape);
	const header: NpyHeader = {
		...headerGeometry(bytes),
		dtype: options.dtype,
		fortranOrder,
		shape: Object.freeze([...options.shape]),
		size,
		nbytes: size * options.dtype.itemsize,
	};
	const fh = await openFile(path, options.exclusive ? "wx" : "w", details);
	try {
		await writeAll(fh, bytes, 0, details);
		await fh.truncate(header.dataOffset + header.nbytes);
		if (options.fillValue !== undefined)
			await fillRange(
				fh,
				header.dataOffset,
				header.nbytes,
				encodeElement(options.dtype, options.fillValue),
				options.signal,
			);
	} catch (err) {
		throw wrapError(err, details);
	} finally {
		await fh.close().catch(() => undefined);
	}
	const region = await openRegion(path, header, "r+", options);
	return new NpyFileDriver(path, "r+", header, region, options);
}

// --- internal ---

type Details = { readonly target: string; readonly adapter: string };

class NpyFileDriver implements NpyDriver {
	readonly #path: string;
	readonly mode: "r" | "r+" | "c";
	readonly #options: RegionTuning;
	#header: NpyHeader;
	#region: RawRegionDriver;
	#closing: Promise<void> | null = null;

	constructor(
		path: string,
		mode: "r" | "r+" | "c",
		header: NpyHeader,
		region: RawRegionDriver,
		options: RegionTuning,
	) {
		this.#path = path;
		this.mode = mode;
		this.#header = header;
		this.#region = region;
		this.#options = options;
	}

	get info(): ArrayInfo {
		return this.#region.info;
	}

	get header(): NpyHeader {
		return this.#header;
	}

	get mapped(): boolean {
		return this.#region.mapped;
	}

	read(region: Region, out: Uint8Array, signal?: AbortSignal): Promise<void> {
		this.#check();
		return this.#region.read(region, out, signal);
	}

	write(
		region: Region,
		bytes: Uint8Array,
		signal?: AbortSignal,
	): Promise<void> {
		this.#check();
		const inner = this.#region;
		if (this.mode === "r" || !inner.write)
			return Promise.reject(
				new ReadOnlyError("opened read-only (mode r)", this.#details()),
			);
		return inner.write(region, bytes, signal);
	}

	async resize(shape: readonly number[]): Promise<void> {
		this.#check();
		if (this.mode === "r")
			throw new ReadOnlyError("opened read-only (mode r)", this.#details());
		if (this.mode === "c")
			throw new UnsupportedError(
				"resize is not available in copy-on-write mode c",
				this.#details(),
			);
		const old = this.#header;
		const axis = growthAxis(old);
		if (
			old.shape.length === 0 ||
			shape.length !== old.shape.length ||
			shape.some(
				(d, i) =>
					!Number.isSafeInteger(d) ||
					d < 0 ||
					(i !== axis && d !== old.shape[i]),
			)
		) {
			throw new UnsupportedError(
				`npy arrays grow or shrink along axis ${axis} only (${old.fortranOrder ? "F" : "C"} order): [${old.shape}] → [${shape}]`,
				this.#details(),
			);
		}
		const size = shapeSize(shape);
		const next: NpyHeader = {
			...old,
			shape: Object.freeze([...shape]),
			size,
			nbytes: size * old.dtype.itemsize,
		};
		if (!Number.isSafeInteger(next.nbytes))
			throw new ShapeMismatchError(
				`shape [${shape}] is too large`,
				this.#details(),
			);
		const inPlace = inPlaceHeader(next);
		if (inPlace === null) {
			await this.#relocate(next);
			return;
		}
		// Growing: extend the data first, then publish the shape; shrinking: the other way round,
		// so the header never claims bytes the file does not have.
		if (next.nbytes >= old.nbytes) {
			await this.#region.resize(shape);
			await this.#writeHeader(inPlace);
		} else {
			await this.#writeHeader(inPlace);
			await this.#region.resize(shape);
		}
		this.#header = next;
	}

	async flush(options?: { readonly durable?: boolean }): Promise<void> {
		this.#check();
		await this.#region.flush(options);
	}

	close(): Promise<void> {
		this.#closing ??= this.#region.close();
		return this.#closing;
	}

	/**
	 * The new shape does not fit the old header: write a larger one and move the data behind it.
	 * Not atomic: a crash in the middle leaves a damaged file (numpy-written files never get here,
	 * their growth padding holds any shape up to 21 digits).
	 */
	async #relocate(next: NpyHeader): Promise<void> {
		const old = this.#header;
		// Never go back to a shorter preamble: the data must move towards the end of the file.
		const version = old.version === "1.0" ? undefined : old.version;
		const bytes = formatNpyHeader({
			dtype: next.dtype,
			shape: next.shape,
			fortranOrder: next.fortranOrder,
			version,
		});
		const moved: NpyHeader = { ...next, ...headerGeometry(bytes) };
		await this.#region.flush();
		await this.#region.close();
		const details = this.#details();
		const fh = await openFile(this.#path, "r+", details);
		try {
			// Drop bytes after the old data, so everything past the moved bytes reads as zeros.
			await fh.truncate(old.dataOffset + old.nbytes);
			await moveBytes(
				fh,
				old.dataOffset,
				moved.dataOffset,
				Math.min(old.nbytes, next.nbytes),
				details,
			);
			await writeAll(fh, bytes, 0, details);
			await fh.truncate(moved.dataOffset + next.nbytes);
		} catch (err) {
			throw wrapError(err, details);
		} finally {
			await fh.close().catch(() => undefined);
		}
		this.#region = await openRegion(this.#path, moved, "r+", this.#options);
		this.#header = moved;
	}

	async #writeHeader(bytes: Uint8Array): Promise<void> {
		const details = this.#details();
		const fh = await openFile(this.#path, "r+", details);
		try {
			await writeAll(
				fh,
				bytes,
				this.#header.version === "1.0" ? 10 : 12,
				details,
			);
		} catch (err) {
			throw wrapError(err, details);
		} finally {
			await fh.close().catch(() => undefined);
		}
	}

	#check(): void {
		if (this.#closing !== null)
			throw new ClosedError("the npy file is closed", this.#details());
	}

	#details(): Details {
		return { target: this.#path, adapter: NPY_ADAPTER };
	}
}

/** Version, HEADER_LEN and data offset of freshly formatted header bytes (version byte at 6). */
function headerGeometry(
	bytes: Uint8Array,
): Pick<NpyHeader, "version" | "headerLen" | "dataOffset"> {
	return {
		version: (["1.0", "2.0", "3.0"] as const)[
			(bytes[6] as number) - 1
		] as NpyVersion,
		headerLen: bytes.length - (bytes[6] === 1 ? 10 : 12),
		dataOffset: bytes.length,
	};
}

/** Axis 0 for C order, the last axis for F order: the slowest in storage, where numpy leaves room. */
function growthAxis(h: Pick<NpyHeader, "shape" | "fortranOrder">): number {
	return h.fortranOrder ? h.shape.length - 1 : 0;
}

/** The header text for `next` padded to the existing HEADER_LEN, or null when it does not fit. */
function inPlaceHeader(next: NpyHeader): Uint8Array | null {
	const text = npyHeaderDict({
		dtype: next.dtype,
		shape: next.shape,
		fortranOrder: next.fortranOrder,
	}).trimEnd();
	const body = encodeHeaderText(text, next.version);
	if (body === null || body.length + 1 > next.headerLen) return null;
	const out = new Uint8Array(next.headerLen).fill(0x20);
	out.set(body);
	out[out.length - 1] = 0x0a;
	return out;
}

/** Raw's region driver over the data of `header` (exported for the npz stored members). */
export async function openRegion(
	path: string,
	header: Pick<NpyHeader, "dtype" | "shape" | "fortranOrder" | "dataOffset">,
	mode: "r" | "r+" | "c",
	options: RegionTuning & { readonly signal?: AbortSignal },
): Promise<RawRegionDriver> {
	// Loaded lazily so importing the adapter stays cheap (raw pulls in mmap-io).
	const { openRawRegion } = await import("@arraystore/raw");
	return openRawRegion(
		path,
		{
			mode,
			dtype: header.dtype,
			shape: header.shape,
			order: header.fortranOrder ? "F" : "C",
			offset: header.dataOffset,
			mmap: options.mmap,
			windowBytes: options.windowBytes,
			maxWindows: options.maxWindows,
			maxPrivateBytes: options.maxPrivateBytes,
			directWrites: options.directWrites,
			signal: options.signal,
		},
		{ adapter: NPY_ADAPTER },
	);
}
