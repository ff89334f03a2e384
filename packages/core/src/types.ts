/**
 * The public contract: modes, array info, the store interfaces and open/create options.
 * `createArrayStore` (store.ts) is the one implementation; adapters implement the smaller
 * driver SPI in driver.ts.
 */

import type { Descr, DType } from "./dtype/model.js";
import type {
	AnyArrayData,
	ArrayBytes,
	ArrayData,
	ScalarFor,
	TypedArrayFor,
} from "./dtype/typed.js";
import type { Selection } from "./selection.js";

/** numpy.memmap modes. `r` is the default everywhere. */
export type Mode = "r" | "r+" | "w+" | "c";
/** Storage order; callers always see C order. */
export type Order = "C" | "F";

/** One codec or filter of an on-disk pipeline. */
export interface CodecInfo {
	readonly name: string;
	readonly config?: Readonly<Record<string, unknown>>;
}

/** An attribute value. `ArrayData` keeps an attribute's exact dtype and shape for round trips. */
export type AttrValue =
	| null
	| boolean
	| number
	| bigint
	| string
	| readonly AttrValue[]
	| { readonly [k: string]: AttrValue }
	| AnyArrayData;
/** Attributes of an array, group or file. */
export type Attributes = Readonly<Record<string, AttrValue>>;

/** What a store holds and how. */
export interface ArrayInfo<D extends DType = DType> {
	/** As stored, byte order included. */
	readonly dtype: D;
	readonly shape: readonly number[];
	readonly order: Order;
	/** HDF5 chunk, Zarr chunk or shard; null if contiguous. */
	readonly chunks: readonly number[] | null;
	/** Default iterBlocks() block. */
	readonly blockShape: readonly number[];
	readonly fillValue: ScalarFor<D> | null;
	/** On-disk pipeline, [] if none. */
	readonly codecs: readonly CodecInfo[];
	/** File offset of element 0 (raw, npy, mmappickle, pickle), else null. */
	readonly byteOffset: number | null;
}

/** Static per adapter, checked before any I/O. */
export interface Capabilities {
	readonly modes: readonly Mode[];
	/** Storage orders it can create. */
	readonly orders: readonly Order[];
	/** Byte orders it can create. */
	readonly byteOrders: readonly ("<" | ">")[];
	readonly chunked: boolean;
	/** Codecs it can write. */
	readonly codecs: readonly string[];
	readonly attributes: "none" | "read" | "readwrite";
	readonly hierarchy: "none" | "flat" | "tree";
	readonly needsLayout: boolean;
	readonly resize: boolean;
	readonly zeroCopy: boolean;
}

/** Options every I/O call takes. */
export interface IoOptions {
	readonly signal?: AbortSignal;
}
/** Options of `read`. */
export interface ReadOptions<D extends DType = DType> extends IoOptions {
	/** Read into this (native order, C order, same size) instead of allocating. */
	readonly out?: ArrayData<D>;
}
/** Options of `iterBlocks`. */
export interface IterBlocksOptions extends IoOptions {
	/** Default `info.blockShape`. */
	readonly blockShape?: readonly number[];
	/** Planner cap; default 8 MiB for slabs. */
	readonly maxBlockBytes?: number;
	/** Restrict to a region (step-1 slices and ints only). */
	readonly selection?: Selection;
	/** Blocks read ahead, default 1. */
	readonly prefetch?: number;
}
/** One block of `iterBlocks`. */
export interface Block<D extends DType = DType> extends ArrayData<D> {
	/** Block-grid coordinates. */
	readonly index: readonly number[];
	/** First element, per dimension. */
	readonly offset: readonly number[];
	/** The same box as slices: `dst.write(block.selection, block)`. */
	readonly selection: Selection;
}

/** A store opened read-only (or in any mode, seen through its read side). */
export interface ReadableArrayStore<D extends DType = DType>
	extends AsyncDisposable {
	readonly format: string;
	readonly target: string;
	readonly mode: Mode;
	readonly info: ArrayInfo<D>;
	readonly capabilities: Capabilities;
	readonly closed: boolean;
	attrs(options?: IoOptions): Promise<Attributes>;
	/** C order, native byte order, an owned copy. */
	read(selection?: Selection, options?: ReadOptions<D>): Promise<ArrayData<D>>;
	iterBlocks(options?: IterBlocksOptions): AsyncIterableIterator<Block<D>>;
	/** Idempotent; flushes first when writable. */
	close(): Promise<void>;
}

/** A writable store (modes `r+`, `w+`, `c`). */
export interface ArrayStore<D extends DType = DType>
	extends ReadableArrayStore<D> {
	write(
		selection: Selection,
		value: ArrayBytes | TypedArrayFor<D> | ScalarFor<D> | readonly string[],
		options?: IoOptions,
	): Promise<void>;
	setAttrs(attrs: Attributes, options?: IoOptions): Promise<void>;
	/** UnsupportedError unless capabilities.resize. */
	resize(shape: readonly number[], options?: IoOptions): Promise<void>;
	flush(options?: IoOptions & { readonly durable?: boolean }): Promise<void>;
}

/** numpy.memmap's own parameters: required for raw .dat and for creating. */
export interface Layout<D extends DType = DType> {
	readonly dtype: D | Descr;
	readonly shape?: readonly number[];
	readonly order?: Order;
	readonly offset?: number;
}

/** Options shared by open and create. */
export interface CommonOpenOptions extends IoOptions {
	/** Array inside a container: "/grp/x" (HDF5), "grp/x" (Zarr), key (mmappickle/pickle). */
	readonly path?: string;
	/** Skip detection. */
	readonly format?: string;
	/** Adapter-specific options ({ zarrFormat: 2 }, { followExternalLinks: true } …). */
	readonly adapterOptions?: Readonly<Record<string, unknown>>;
}
/** Opening an existing array. */
export interface OpenExistingOptions<D extends DType = DType>
	extends CommonOpenOptions,
		Partial<Layout<D>> {
	readonly mode?: "r" | "r+" | "c";
	/** Mode "c"; default 256 MiB. */
	readonly maxOverlayBytes?: number;
}
/** Creating (or replacing) an array. */
export interface CreateOptions<D extends DType = DType>
	extends CommonOpenOptions,
		Layout<D> {
	readonly mode: "w+";
	readonly shape: readonly number[];
	/** AlreadyExistsError instead of replacing. */
	readonly exclusive?: boolean;
	readonly chunks?: readonly number[];
	readonly codecs?: readonly CodecInfo[];
	readonly fillValue?: ScalarFor<D>;
	readonly attrs?: Attributes;
	/** Resizable formats. */
	readonly maxshape?: readonly (number | null)[];
}
/** Either. */
export type OpenOptions<D extends DType = DType> =
	| OpenExistingOptions<D>
	| CreateOptions<D>;

/** One entry of a container listing. */
export interface TreeEntry {
	readonly path: string;
	readonly kind: "group" | "array" | "softLink" | "externalLink";
	/** Link target. */
	readonly target?: string;
}

/** Options of opening a container. */
export interface ContainerOptions extends IoOptions {
	readonly mode?: Mode;
	readonly format?: string;
	readonly adapterOptions?: Readonly<Record<string, unknown>>;
	readonly maxOverlayBytes?: number;
}

/** A multi-array file or store: HDF5 file, Zarr group, pickle dict, .npz. */
export interface ContainerStore extends AsyncDisposable {
	readonly format: string;
	readonly target: string;
	readonly mode: Mode;
	readonly closed: boolean;
	readonly capabilities: Capabilities;
	/** Sorted by path; never follows links. */
	list(
		path?: string,
		options?: { readonly recursive?: boolean },
	): Promise<TreeEntry[]>;
	attrs(path: string): Promise<Attributes>;
	setAttrs(path: string, attrs: Attributes): Promise<void>;
	openArray(
		path: string,
		options?: Omit<OpenExistingOptions, "path" | "format">,
	): Promise<ArrayStore>;
	/** UnsupportedError if hierarchy !== "tree". */
	createGroup(path: string, attrs?: Attributes): Promise<void>;
	createArray(
		path: string,
		options: Omit<CreateOptions, "mode" | "path" | "format">,
	): Promise<ArrayStore>;
	delete?(path: string): Promise<void>;
	flush(): Promise<void>;
	close(): Promise<void>;
}
