/**
 * Creating datasets without ever holding their data: h5wasm's create call writes the whole
 * buffer it is given, so every dataset is created with no elements (all dimensions 0) and
 * then sized — chunked ones with `H5Dset_extent`, contiguous ones by patching the dataspace and
 * the layout's storage size — and filled block by block by the driver's `write`. Header
 * patches (header-patch.ts) also add what h5wasm cannot set: several filters (gzip + shuffle),
 * fill values and datatypes such as float16, bool and opaque.
 */
import {
	AlreadyExistsError,
	type CodecInfo,
	type DriverCreateOptions,
	type DType,
	isVString,
	MalformedError,
	type Scalar,
	shapeSize,
	UnsupportedCodecError,
	UnsupportedDTypeError,
	UnsupportedError,
	withByteOrder,
} from "@arraystore/core";
import { H5T_STRING } from "./dtype-read.js";
import {
	checkDType,
	nativeMetadata,
	placeholderMetadata,
} from "./dtype-write.js";
import { ADAPTER } from "./errors.js";
import type { H5File } from "./file-handle.js";
import { encodeScalar } from "./fill-value.js";
import { pipelineFor, type WriteFilter } from "./filters.js";
import { patchDataset } from "./header-patch.js";
import { linkAt } from "./links.js";
import { encodeDatatype, encodePipeline } from "./messages.js";
import type { H5WriteMetadata } from "./module.js";
import { parentPath } from "./paths.js";
import { unlink } from "./unlink.js";

const UNLIMITED = 0xffffffffffffffffn;

/** The stored dtype of a request: little-endian (h5wasm creates no big-endian types). */
export function storedDType(dtype: DType): DType {
	return isVString(dtype) ? dtype : withByteOrder(dtype, "<");
}

/** h5py's chunk guess: about 64 KiB–1 MiB chunks, halving the largest dimension in turn. */
export function guessChunks(
	shape: readonly number[],
	itemsize: number,
): number[] {
	const chunks = shape.map((d) => Math.max(1, d));
	const total = shapeSize(chunks) * Math.max(1, itemsize);
	const target = Math.min(
		1024 * 1024,
		Math.max(
			16 * 1024,
			16 * 1024 * 2 ** Math.log10(Math.max(1, total) / (1024 * 1024)),
		),
	);
	let i = 0;
	for (let guard = 0; guard < 512; guard++) {
		const bytes = shapeSize(chunks) * Math.max(1, itemsize);
		if (
			bytes < target ||
			(Math.abs(bytes - target) / target < 0.5 && bytes < 1024 * 1024)
		)
			break;
		if (shapeSize(chunks) === 1) break;
		chunks[i % chunks.length] = Math.ceil(
			(chunks[i % chunks.length] as number) / 2,
		);
		i++;
	}
	return chunks;
}

function existsAs(
	file: H5File,
	path: string,
): "group" | "dataset" | "other" | null {
	const link = linkAt(file, path);
	if (link === null) return null;
	return link.kind === "hard" ? link.type : "other";
}

/** Creates every missing group above `path`. */
export function ensureGroups(file: H5File, groupPath: string): void {
	if (groupPath === "/") return;
	const parts = groupPath.split("/").filter((p) => p !== "");
	let at = "";
	for (const part of parts) {
		at = `${at}/${part}`;
		const kind = existsAs(file, at);
		if (kind === null)
			file.call(`create group ${at}`, (api, id) =>
				api.create_group(id, at, false),
			);
		else if (kind !== "group")
			throw new AlreadyExistsError(
				`${file.target}#${at} exists and is not a group`,
				{ adapter: ADAPTER, target: file.target },
			);
	}
}

/**
 * Checks a create request before anything is written: the dtype and the codecs.
 * @throws {UnsupportedDTypeError} {UnsupportedCodecError}
 */
export function validateCreate(
	options: DriverCreateOptions,
	available: ReadonlyMap<number, string>,
	target: string,
): void {
	const dtype = checkedDType(options, target);
	if (options.codecs && options.codecs.length > 0)
		pipelineFor(
			options.codecs,
			isVString(dtype) ? 16 : dtype.itemsize,
			available,
		);
}

/** The stored dtype of a create request, refused when HDF5 cannot store it. */
function checkedDType(options: DriverCreateOptions, target: string): DType {
	const dtype = storedDType(options.dtype);
	const support = checkDType(dtype);
	if (!support.ok)
		throw new UnsupportedDTypeError(`${target}: ${support.reason}`, {
			adapter: ADAPTER,
			target,
			format: ADAPTER,
			dtype: options.dtype.str,
		});
	return dtype;
}

/**
 * Creates the dataset at the absolute `path` (the caller opens it afterwards).
 * An existing dataset at `path` is replaced (unlinked just before the new one is created)
 * unless `exclusive`.
 * @throws {AlreadyExistsError} `exclusive` and `path` exists, or `path` is a group or link.
 */
export function createDataset(
	file: H5File,
	path: string,
	options: DriverCreateOptions,
): void {
	const target = `${file.target}#${path}`;
	if (options.order === "F")
		throw new UnsupportedError(`${target}: HDF5 stores C order only`, {
			adapter: ADAPTER,
			target,
		});
	const dtype = checkedDType(options, target);
	const shape = [...options.shape];
	if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0))
		throw new UnsupportedError(
			`${target}: bad shape ${JSON.stringify(shape)}`,
			{ adapter: ADAPTER, target },
		);
	const existing = existsAs(file, path);
	if (existing !== null) {
		if (options.exclusive || existing !== "dataset")
			throw new AlreadyExistsError(`${target} already exists`, {
				adapter: ADAPTER,
				target,
			});
	}
	ensureGroups(file, parentPath(path));

	const rank = shape.length;
	// Chunked datasets are resizable by default (unlimited along every axis), so resize() works
	// on stores we create; contiguous ones keep maxshape = shape, as HDF5 requires.
	const chunkedRequest =
		(options.chunks !== undefined && rank > 0) ||
		(options.codecs?.length ?? 0) > 0;
	const maxshape = options.maxshape
		? options.maxshape.map((m) => (m === null || m === undefined ? -1 : m))
		: chunkedRequest
			? shape.map(() => -1)
			: shape.slice();
	if (
		maxshape.length !== rank ||
		maxshape.some((m, i) => m !== -1 && m < (shape[i] as number))
	) {
		throw new UnsupportedError(
			`${target}: maxshape ${JSON.stringify(options.maxshape)} does not fit shape ${JSON.stringify(shape)}`,
			{ adapter: ADAPTER, target },
		);
	}
	const codecs: readonly CodecInfo[] = options.codecs ?? [];
	const itemsize = isVString(dtype) ? 16 : dtype.itemsize;
	const wantsChunks =
		(options.chunks !== undefined && rank > 0) ||
		codecs.length > 0 ||
		maxshape.some((m, i) => m !== shape[i]);
	let chunks: number[] | null = null;
	if (wantsChunks) {
		if (rank === 0)
			throw new UnsupportedError(
				`${target}: scalar datasets cannot be chunked or compressed`,
				{ adapter: ADAPTER, target },
			);
		const zeroFixed = maxshape.some((m) => m === 0);
		if (!zeroFixed) {
			const want = options.chunks
				? [...options.chunks]
				: guessChunks(
						shape.map((d, i) => (maxshape[i] === -1 ? Math.max(d, 1) : d)),
						itemsize,
					);
			if (
				want.length !== rank ||
				!want.every((c) => Number.isSafeInteger(c) && c >= 1)
			)
				throw new UnsupportedError(
					`${target}: bad chunks ${JSON.stringify(options.chunks)}`,
					{ adapter: ADAPTER, target },
				);
			// HDF5: a chunk may not exceed a fixed maximum dimension.
			chunks = want.map((c, i) =>
				maxshape[i] === -1 ? c : Math.min(c, maxshape[i] as number),
			);
		} else if (codecs.length > 0) {
			throw new UnsupportedError(
				`${target}: an empty fixed-size dataset cannot be compressed`,
				{ adapter: ADAPTER, target },
			);
		}
	}
	if (isVString(dtype) && codecs.length > 0) {
		throw new UnsupportedCodecError(
			`${target}: HDF5 filters do not apply to variable-length strings`,
			{
				adapter: ADAPTER,
				target,
				codec: codecs[0]?.name ?? "",
				direction: "encode",
			},
		);
	}
	const filters: WriteFilter[] = chunks
		? pipelineFor(codecs, itemsize, file.runtime.filters)
		: [];
	const fill = fillBytes(dtype, options.fillValue, target);

	// Which header patches are needed, and how the native create call is shaped.
	const native = nativeMetadata(dtype);
	const datatype = native === null ? encodeDatatype(dtype) : undefined;
	const growth = fill ? 2 * (fill.length + 16) : 0;
	const typeMeta: H5WriteMetadata =
		native !== null && !fill
			? native
			: isVString(dtype)
				? (native as H5WriteMetadata)
				: placeholderMetadata(
						itemsize,
						(datatype?.length ?? encodeDatatype(dtype).length) + growth + 16,
						"arraystore",
					);
	const size = shapeSize(shape);
	const scalar = rank === 0;
	const contiguousSized = chunks === null && !scalar && size > 0;
	let compression = 0;
	let compressionOpts: number[] = [];
	let pipeline: ((current: Uint8Array) => Uint8Array) | undefined;
	if (filters.length > 0) {
		// The filter HDF5 must set up itself (its set_local computes parameters) is created
		// natively; the rest of the pipeline, and h5py's flags (optional, so a chunk that does not
		// compress is stored as is), are patched in afterwards.
		const anchor =
			filters.find((f) => f.computed) ??
			(filters.length === 1 ? filters[0] : undefined);
		if (anchor) {
			compression = anchor.id;
			compressionOpts = [...anchor.cdValues];
		} else {
			// Placeholder: deflate with enough parameters that its message is as large as the final one.
			const finalSize = encodePipeline(filters).length;
			compression = 1;
			compressionOpts = Array.from(
				{ length: Math.max(1, Math.floor((finalSize - 8 - 16) / 4)) },
				() => 0,
			);
		}
		pipeline = (current) =>
			encodePipeline(
				filters.map((f) =>
					f === anchor && f.computed
						? { ...f, cdValues: anchorValues(current, f.id) }
						: f,
				),
			);
	}

	const createShape = scalar
		? []
		: chunks === null && size === 0
			? shape
			: shape.map(() => 0);
	const createMax = chunks === null ? createShape : maxshape;
	const meta: H5WriteMetadata = {
		...typeMeta,
		shape: createShape.map(BigInt),
		maxshape: createMax.map((m) => (m === -1 ? UNLIMITED : BigInt(m))),
		chunks: chunks ? chunks.map(BigInt) : null,
		compression,
		compression_opts: compressionOpts,
		track_order: false,
	};
	if (existing === "dataset") unlink(file, path);
	file.call(`create ${path}`, (api, id) => {
		if (isVString(dtype)) {
			api.create_vlen_str_dataset(id, path, scalar ? [""] : [], meta);
			return;
		}
		// Scalars are written whole (one element: the fill value or zero); others start empty.
		const first = scalar
			? (fill ?? new Uint8Array(itemsize))
			: new Uint8Array(0);
		const ptr = api._malloc(Math.max(8, first.length));
		try {
			api.HEAPU8.set(first, ptr);
			api.create_dataset(id, path, BigInt(ptr), meta);
		} finally {
			api._free(ptr);
		}
	});
	const patchType =
		typeMeta !== native ? (datatype ?? encodeDatatype(dtype)) : undefined;
	try {
		if (patchType || contiguousSized || pipeline || fill) {
			patchDataset(file, path, {
				...(patchType ? { datatype: patchType } : {}),
				...(contiguousSized
					? {
							dims: { dims: shape, maxdims: shape },
							contiguousSize: size * itemsize,
						}
					: {}),
				...(pipeline ? { pipeline } : {}),
				...(fill ? { fill } : {}),
			});
		}
		if (chunks !== null && shape.some((d) => d > 0))
			file.call(`resize ${path}`, (api, id) =>
				api.resize_dataset(id, path, shape.map(BigInt)),
			);
		verify(file, path, shape, dtype, target);
	} catch (err) {
		// Leave no half-made dataset behind (best effort: a failed HDF5 call may block it).
		try {
			if (file.clean) unlink(file, path);
		} catch {
			// the original error matters more
		}
		throw err;
	}
}

function anchorValues(pipeline: Uint8Array, id: number): number[] {
	// Version-1 pipeline message: the created dataset has exactly one filter.
	const dv = new DataView(
		pipeline.buffer,
		pipeline.byteOffset,
		pipeline.byteLength,
	);
	if (pipeline[0] !== 1 || pipeline[1] !== 1 || dv.getUint16(8, true) !== id) {
		throw new MalformedError(
			`unexpected filter pipeline after creating a filter ${id} dataset`,
			{ adapter: ADAPTER },
		);
	}
	const nameLen = dv.getUint16(10, true);
	const n = dv.getUint16(14, true);
	const at = 16 + nameLen;
	return Array.from({ length: n }, (_, i) => dv.getUint32(at + 4 * i, true));
}

function fillBytes(
	dtype: DType,
	value: Scalar | undefined,
	target: string,
): Uint8Array | null {
	if (value === undefined || value === null) return null;
	if (isVString(dtype)) {
		if (value === "") return null;
		throw new UnsupportedError(
			`${target}: variable-length string datasets take no fill value`,
			{ adapter: ADAPTER, target },
		);
	}
	const bytes = encodeScalar(dtype, value);
	// All-zero fill is HDF5's default: no patch needed.
	return bytes.some((b) => b !== 0) ? bytes : null;
}

// The header patch must have produced exactly what was asked for.
function verify(
	file: H5File,
	path: string,
	shape: readonly number[],
	dtype: DType,
	target: string,
): void {
	const meta = file.call(`open ${path}`, (api, id) =>
		api.get_dataset_metadata(id, path),
	);
	const ok =
		meta.shape !== null &&
		meta.shape.length === shape.length &&
		meta.shape.every((d, i) => d === shape[i]);
	const sizeOk = isVString(dtype)
		? meta.type === 9 || meta.type === H5T_STRING
		: meta.size === dtype.itemsize;
	if (!ok || !sizeOk) {
		throw new MalformedError(
			`${target}: created dataset has shape ${JSON.stringify(meta.shape)} and element size ${meta.size}, expected ${JSON.stringify(shape)} × ${dtype.itemsize}`,
			{ adapter: ADAPTER, target },
		);
	}
}
