/**
 * One HDF5 dataset as an `ArrayDriver`. Reads and writes go through the raw module-level
 * calls in pieces of at most {@link PIECE_BYTES}, so no single transfer nears the 2 GiB wasm
 * heap and resident memory stays bounded by the piece size. `info.dtype` is the stored dtype
 * (big-endian included): bytes the binding converted to little-endian are swapped back, so
 * `read` always returns bytes in `info.dtype`'s order, as the driver contract asks.
 */
import {
	type ArrayDriver,
	type ArrayInfo,
	type Attributes,
	ClosedError,
	type DType,
	InvalidSelectionError,
	isVString,
	type Region,
	ShapeMismatchError,
	shapeSize,
	swapInPlace,
	UnsupportedDTypeError,
	UnsupportedError,
} from "@arraystore/core";
import { readAttrs, writeAttrs } from "./attrs.js";
import { type DeflatePlan, deflatePlan, writeAhead } from "./chunk-encoder.js";
import { fillValueOf, opaqueDType } from "./dataset-meta.js";
import {
	type DirectCandidate,
	directEligible,
	openDirect,
} from "./direct-plan.js";
import type { DirectReader } from "./direct-read.js";
import { mapType } from "./dtype-read.js";
import { encodedChunks } from "./encoded-chunks.js";
import { ADAPTER } from "./errors.js";
import type { H5File } from "./file-handle.js";
import { codecsOf, missingFilter, missingFilterError } from "./filters.js";
import {
	blockShapeFor,
	checkRegion,
	forEachPiece,
	PIECE_BYTES,
	type Piece,
} from "./io-plan.js";
import type { H5Filter } from "./module.js";
import { setInflateHint } from "./native-deflate.js";
import { readInWorkers, workerBoxes } from "./parallel-read.js";
import { readRaw, readVlen, writeRaw, writeVlen } from "./raw-io.js";

/** Options of {@link openDataset}. */
export interface DatasetOptions {
	readonly writable: boolean;
	/** Bytes per heap transfer (default {@link PIECE_BYTES}). */
	readonly pieceBytes?: number;
	/** Target default block size. */
	readonly blockBytes?: number;
	/**
	 * Worker threads for reads of compressed chunked data (read-only files only; 0 = read on
	 * this thread). Default: none.
	 */
	readonly readWorkers?: number;
	/**
	 * Read compressed chunks straight from the file with Node's fs and zlib when the filters
	 * allow (direct-read.ts; read-only files only). Default true.
	 */
	readonly directChunks?: boolean;
}

/** Opens the dataset at the absolute `path` of an open file (one reference of `file` is handed over). */
export function openDataset(
	file: H5File,
	path: string,
	options: DatasetOptions,
): ArrayDriver {
	return new Hdf5Dataset(file, path, options).driver();
}

class Hdf5Dataset {
	readonly #file: H5File;
	readonly #path: string;
	readonly #target: string;
	readonly #writable: boolean;
	readonly #pieceBytes: number;
	readonly #blockBytes: number | undefined;
	readonly #filters: readonly H5Filter[];
	readonly #swapped: boolean;
	readonly #readWorkers: number;
	/** Bytes of one chunk (0 when contiguous): what a compressed chunk inflates to. */
	readonly #chunkBytes: number;
	/** Set when whole chunks are deflated ahead of HDF5 (chunk-encoder.ts). */
	readonly #plan: DeflatePlan | null;
	/** The direct chunk reader: undefined until first needed, null when not possible. */
	#direct: DirectReader | null | undefined;
	readonly #maxshape: readonly number[] | null;
	#info: ArrayInfo;
	#closed = false;

	constructor(file: H5File, path: string, options: DatasetOptions) {
		this.#file = file;
		this.#path = path;
		this.#target = `${file.target}#${path}`;
		this.#writable = options.writable;
		this.#pieceBytes = options.pieceBytes ?? PIECE_BYTES;
		this.#blockBytes = options.blockBytes;
		this.#readWorkers = options.readWorkers ?? 0;
		if (options.directChunks === false || options.writable) this.#direct = null;
		const meta = file.call(`open ${path}`, (api, id) =>
			api.get_dataset_metadata(id, path),
		);
		this.#filters = file.call(`filters of ${path}`, (api, id) =>
			api.get_dataset_filters(id, path),
		);
		if (meta.shape === null) {
			throw new UnsupportedError(
				`${this.#target}: datasets with a null dataspace hold no elements`,
				{ adapter: ADAPTER, target: this.#target },
			);
		}
		// gzip (+ shuffle) writes deflate chunks ahead when HDF5's deflate runs Node's zlib.
		this.#plan =
			this.#writable && file.runtime.nativeDeflate
				? deflatePlan(this.#filters)
				: null;
		const mapped = mapType(meta, this.#target);
		const { readsSwapped } = mapped;
		const dtype = opaqueDType(file, path, mapped.dtype);
		this.#swapped = readsSwapped;
		const shape = [...meta.shape];
		this.#maxshape = meta.maxshape ? [...meta.maxshape] : null;
		const chunks = meta.chunks ? [...meta.chunks] : null;
		this.#chunkBytes = chunks ? shapeSize(chunks) * dtype.itemsize : 0;
		this.#info = {
			dtype,
			shape,
			order: "C",
			chunks,
			blockShape: blockShapeFor(
				shape,
				Math.max(1, dtype.itemsize || 64),
				chunks,
				this.#blockBytes,
			),
			fillValue: fillValueOf(file, path, dtype),
			codecs: codecsOf(this.#filters),
			byteOffset: null,
		};
	}

	driver(): ArrayDriver {
		const d: ArrayDriver = {
			info: this.#info,
			read: (region, out, signal) => this.read(region, out, signal),
			readStrings: (region, signal) => this.readStrings(region, signal),
			attrs: () => this.attrs(),
			flush: (options) => this.flush(options),
			close: () => this.close(),
		};
		Object.defineProperty(d, "info", {
			get: () => this.#info,
			enumerable: true,
		});
		if (!this.#writable) return d;
		return Object.assign(d, {
			write: (region: Region, bytes: Uint8Array, signal?: AbortSignal) =>
				this.write(region, bytes, signal),
			writeStrings: (
				region: Region,
				values: readonly string[],
				signal?: AbortSignal,
			) => this.writeStrings(region, values, signal),
			resize: (shape: readonly number[]) => this.resize(shape),
			setAttrs: (attrs: Attributes) => this.setAttrs(attrs),
		});
	}

	#check(region: Region, direction: "decode" | "encode"): void {
		if (this.#closed)
			throw new ClosedError(`${this.#target} is closed`, {
				adapter: ADAPTER,
				target: this.#target,
			});
		// A missing filter makes HDF5 return garbage instead of failing: refuse first.
		const missing = missingFilter(this.#filters, this.#file.runtime.filters);
		if (missing) throw missingFilterError(missing, this.#target, direction);
		checkRegion(region, this.#info.shape, this.#target);
	}

	#fixedDType(): DType {
		const dtype = this.#info.dtype;
		if (isVString(dtype)) {
			throw new UnsupportedDTypeError(
				`${this.#target}: variable-length strings are read with readStrings`,
				{ adapter: ADAPTER, format: ADAPTER, dtype: "|O" },
			);
		}
		return dtype;
	}

	/** Checks a fixed-size box and its buffer (`length` bytes, `what` in the error); returns the dtype. */
	#fixedBox(
		region: Region,
		use: "decode" | "encode",
		length: number,
		what: string,
	): DType {
		this.#check(region, use);
		const dtype = this.#fixedDType();
		const size = shapeSize(region.shape) * dtype.itemsize;
		if (length !== size)
			throw new ShapeMismatchError(
				`${this.#target}: ${what} for a ${size}-byte box`,
				{ adapter: ADAPTER, target: this.#target },
			);
		return dtype;
	}

	/** String pieces hold pointers, a 64th of the byte budget (the strings live in the heap). */
	#stringPieceBytes(): number {
		return Math.floor(this.#pieceBytes / 64);
	}

	/** Checks a box of variable-length strings. */
	#stringBox(region: Region, use: "decode" | "encode"): void {
		this.#check(region, use);
		if (!isVString(this.#info.dtype))
			throw new UnsupportedDTypeError(
				`${this.#target}: not a variable-length string dataset`,
				{ adapter: ADAPTER, format: ADAPTER },
			);
	}

	async read(
		region: Region,
		out: Uint8Array,
		signal?: AbortSignal,
	): Promise<void> {
		const dtype = this.#fixedBox(
			region,
			"decode",
			out.length,
			`read buffer of ${out.length} bytes`,
		);
		const direct = this.#directReader(dtype);
		if (direct !== null) {
			await direct.read(region, out, signal);
			return;
		}
		if (await this.#readInWorkers(region, out, dtype, signal)) return;
		await forEachPiece(
			region,
			dtype.itemsize,
			this.#pieceBytes,
			this.#info.chunks,
			signal,
			(piece) => {
				const dst = out.subarray(
					piece.byteOffset,
					piece.byteOffset + piece.byteLength,
				);
				setInflateHint(this.#chunkBytes);
				this.#file.call(`read ${this.#path}`, (api, id) =>
					readRaw(api, id, this.#path, piece.start, piece.shape, dst),
				);
				// The binding hands big-endian data over as little-endian: restore the stored order.
				if (this.#swapped) swapInPlace(dtype, dst);
			},
		);
	}

	// The direct chunk reader, while the file is open read-only (HDF5 may cache unflushed
	// chunks once anything writes to it, so a file upgraded to read-write goes through HDF5).
	#directReader(dtype: DType): DirectReader | null {
		if (this.#direct === null) return null;
		if (this.#file.writable) {
			this.#direct?.close();
			this.#direct = null;
			return null;
		}
		if (this.#direct === undefined) {
			const c: DirectCandidate = {
				path: this.#path,
				target: this.#target,
				shape: this.#info.shape,
				maxshape: this.#maxshape,
				chunks: this.#info.chunks,
				itemsize: dtype.itemsize,
				filters: this.#filters,
			};
			this.#direct = directEligible(c) ? openDirect(this.#file, c) : null;
		}
		return this.#direct;
	}

	// Compressed chunks decode in the file's read pool, when there is one and the box is big enough.
	async #readInWorkers(
		region: Region,
		out: Uint8Array,
		dtype: DType,
		signal: AbortSignal | undefined,
	): Promise<boolean> {
		const chunks = this.#info.chunks;
		if (
			this.#readWorkers < 1 ||
			this.#writable ||
			chunks === null ||
			this.#filters.length === 0
		)
			return false;
		const boxes = workerBoxes(
			region,
			chunks,
			dtype.itemsize,
			this.#readWorkers,
		);
		const pool =
			boxes.length > 0 ? this.#file.readPool(this.#readWorkers) : null;
		if (pool === null) return false;
		await readInWorkers(
			{
				pool,
				path: this.#path,
				region,
				out,
				itemsize: dtype.itemsize,
				chunkBytes: this.#chunkBytes,
				chunks,
				signal,
				inline: (box) => {
					const bytes = new Uint8Array(shapeSize(box.shape) * dtype.itemsize);
					setInflateHint(this.#chunkBytes);
					this.#file.call(`read ${this.#path}`, (api, id) =>
						readRaw(api, id, this.#path, box.start, box.shape, bytes),
					);
					return bytes;
				},
				// The binding hands big-endian data over as little-endian: restore the stored order.
				fix: (bytes) => {
					if (this.#swapped) swapInPlace(dtype, bytes);
				},
			},
			boxes,
		);
		return true;
	}

	async write(
		region: Region,
		bytes: Uint8Array,
		signal?: AbortSignal,
	): Promise<void> {
		const dtype = this.#fixedBox(
			region,
			"encode",
			bytes.length,
			`${bytes.length} bytes`,
		);
		const transfer = (piece: Piece, part: Uint8Array): void => {
			let src = part;
			if (this.#swapped) {
				src = part.slice();
				swapInPlace(dtype, src);
			}
			// Partial chunks are read back (inflated) before they are rewritten.
			setInflateHint(this.#chunkBytes);
			this.#file.call(`write ${this.#path}`, (api, id) =>
				writeRaw(api, id, this.#path, piece.start, piece.shape, src),
			);
		};
		const chunks = this.#info.chunks;
		if (this.#plan !== null && chunks !== null) {
			await writeAhead({
				plan: this.#plan,
				chunks,
				itemsize: dtype.itemsize,
				region,
				bytes,
				signal,
				transfer,
			});
			return;
		}
		await forEachPiece(
			region,
			dtype.itemsize,
			this.#pieceBytes,
			chunks,
			signal,
			(piece) =>
				transfer(
					piece,
					bytes.subarray(piece.byteOffset, piece.byteOffset + piece.byteLength),
				),
		);
	}

	async readStrings(region: Region, signal?: AbortSignal): Promise<string[]> {
		this.#stringBox(region, "decode");
		const out: string[] = [];
		await forEachPiece(
			region,
			STRING_POINTER,
			this.#stringPieceBytes(),
			this.#info.chunks,
			signal,
			(piece) => {
				out.push(
					...this.#file.call(`read ${this.#path}`, (api, id) =>
						readVlen(api, id, this.#path, piece.start, piece.shape),
					),
				);
			},
		);
		return out;
	}

	async writeStrings(
		region: Region,
		values: readonly string[],
		signal?: AbortSignal,
	): Promise<void> {
		this.#stringBox(region, "encode");
		const n = shapeSize(region.shape);
		if (values.length !== n)
			throw new ShapeMismatchError(
				`${this.#target}: ${values.length} strings for ${n} elements`,
				{ adapter: ADAPTER, target: this.#target },
			);
		await forEachPiece(
			region,
			STRING_POINTER,
			this.#stringPieceBytes(),
			this.#info.chunks,
			signal,
			(piece) => {
				const part = values.slice(
					piece.byteOffset / STRING_POINTER,
					(piece.byteOffset + piece.byteLength) / STRING_POINTER,
				);
				this.#file.call(`write ${this.#path}`, (api, id) =>
					writeVlen(api, id, this.#path, piece.start, piece.shape, part),
				);
			},
		);
	}

	async resize(shape: readonly number[]): Promise<void> {
		const info = this.#info;
		if (
			shape.length !== info.shape.length ||
			!shape.every((d) => Number.isSafeInteger(d) && d >= 0)
		) {
			throw new InvalidSelectionError(
				`${this.#target}: resize to ${JSON.stringify(shape)} must keep rank ${info.shape.length}`,
				{ adapter: ADAPTER, target: this.#target },
			);
		}
		const meta = this.#file.call(`open ${this.#path}`, (api, id) =>
			api.get_dataset_metadata(id, this.#path),
		);
		const max = meta.maxshape ?? info.shape;
		if (info.chunks === null)
			throw new UnsupportedError(
				`${this.#target}: only chunked HDF5 datasets can be resized`,
				{ adapter: ADAPTER, target: this.#target },
			);
		shape.forEach((d, i) => {
			const m = max[i] as number;
			// h5wasm reports an unlimited dimension as 2^64-1 (rounded).
			if (m < 2 ** 53 && d > m)
				throw new UnsupportedError(
					`${this.#target}: dimension ${i} cannot exceed maxshape ${m}`,
					{ adapter: ADAPTER, target: this.#target },
				);
		});
		this.#file.call(`resize ${this.#path}`, (api, id) =>
			api.resize_dataset(id, this.#path, shape.map(BigInt)),
		);
		this.#info = {
			...info,
			shape: [...shape],
			blockShape: blockShapeFor(
				shape,
				Math.max(1, info.dtype.itemsize || 64),
				info.chunks,
				this.#blockBytes,
			),
		};
	}

	async attrs(): Promise<Attributes> {
		return readAttrs(this.#file, this.#path);
	}

	async setAttrs(attrs: Attributes): Promise<void> {
		writeAttrs(this.#file, this.#path, attrs);
	}

	async flush(options?: { readonly durable?: boolean }): Promise<void> {
		if (!this.#writable || this.#closed) return;
		this.#file.flush();
		if (options?.durable) this.#file.sync();
	}

	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		this.#direct?.close();
		this.#direct = null;
		// Chunks encoded ahead for a write that was abandoned are of no further use.
		if (this.#plan !== null) encodedChunks.clear();
		try {
			if (this.#writable) this.#file.flush();
		} finally {
			this.#file.release();
		}
	}
}

// Pointers are 4 bytes; the strings themselves live in the heap until reclaimed.
const STRING_POINTER = 4;
