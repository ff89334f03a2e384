/**
 * The driver SPI: what an adapter implements. `core` builds the whole public store from it
 * (`createArrayStore`), so selection, byte order, transposition, block iteration, the
 * copy-on-write overlay, closed state and error wrapping exist exactly once.
 */
import type { DType } from "./dtype/model.js";
import type { Scalar } from "./dtype/typed.js";
import type {
	ArrayInfo,
	Attributes,
	Capabilities,
	CodecInfo,
	ContainerOptions,
	Mode,
	Order,
	TreeEntry,
} from "./types.js";

/** A step-1 box: what drivers read and write. */
export interface Region {
	readonly start: readonly number[];
	readonly shape: readonly number[];
}

/** One array as an adapter sees it. */
export interface ArrayDriver {
	/** Stored dtype (byte order included) and storage order. */
	readonly info: ArrayInfo;
	/**
	 * Reads a box into `out` (exactly box-size × itemsize bytes): stored byte order, stored
	 * order within the box (F-order storage fills `out` in F order of the box).
	 */
	read(region: Region, out: Uint8Array, signal?: AbortSignal): Promise<void>;
	/** The inverse of `read`; absent for read-only drivers. */
	write?(
		region: Region,
		bytes: Uint8Array,
		signal?: AbortSignal,
	): Promise<void>;
	/** vlen string arrays only: C order. */
	readStrings?(region: Region, signal?: AbortSignal): Promise<string[]>;
	/** vlen string arrays only: C order. */
	writeStrings?(
		region: Region,
		values: readonly string[],
		signal?: AbortSignal,
	): Promise<void>;
	/** Changes the shape (and updates `info`). */
	resize?(shape: readonly number[]): Promise<void>;
	attrs?(): Promise<Attributes>;
	setAttrs?(attrs: Attributes): Promise<void>;
	flush?(options?: { readonly durable?: boolean }): Promise<void>;
	close(): Promise<void>;
}

/** Resolved options a driver is opened with (core parsed the dtype and checked the mode). */
export interface DriverOpenOptions {
	/** "c" reaches the driver only when the adapter has `nativeCopyOnWrite`; otherwise core opens "r" and overlays. */
	readonly mode: "r" | "r+" | "c";
	readonly path: string;
	/** Caller's layout (raw needs it; others may check it against the file). */
	readonly dtype?: DType;
	readonly shape?: readonly number[];
	readonly order?: Order;
	readonly offset?: number;
	readonly adapterOptions: Readonly<Record<string, unknown>>;
	/** Mode "c" handled natively: the cap on privately held bytes (default 256 MiB). */
	readonly maxOverlayBytes?: number;
	readonly signal?: AbortSignal;
}

/** Resolved options a driver creates an array with. */
export interface DriverCreateOptions {
	readonly path: string;
	readonly dtype: DType;
	readonly shape: readonly number[];
	readonly order: Order;
	readonly offset: number;
	readonly exclusive: boolean;
	readonly chunks?: readonly number[];
	readonly codecs?: readonly CodecInfo[];
	readonly fillValue?: Scalar;
	readonly attrs?: Attributes;
	readonly maxshape?: readonly (number | null)[];
	readonly adapterOptions: Readonly<Record<string, unknown>>;
	readonly signal?: AbortSignal;
}

/** A container as an adapter sees it; core wraps it into a `ContainerStore`. */
export interface ContainerDriver {
	/** Entries below `path` ("" = root), sorted by path; never follows links. */
	list(path: string, recursive: boolean): Promise<TreeEntry[]>;
	attrs(path: string): Promise<Attributes>;
	setAttrs?(path: string, attrs: Attributes): Promise<void>;
	openArray(path: string, options: DriverOpenOptions): Promise<ArrayDriver>;
	createGroup?(path: string, attrs?: Attributes): Promise<void>;
	createArray?(
		path: string,
		options: DriverCreateOptions,
	): Promise<ArrayDriver>;
	delete?(path: string): Promise<void>;
	flush?(): Promise<void>;
	close(): Promise<void>;
}

/** The first bytes of a file, for sniffers. */
export interface Probe {
	readonly path: string;
	/** Lower-case extension with the dot ("" if none). */
	readonly extension: string;
	readonly size: number;
	readonly isDirectory: boolean;
	/** Up to the first 4 KiB. */
	readonly head: Uint8Array;
	/** File names in a directory target (for Zarr marker files). */
	readonly entries: readonly string[];
	/** True when `<file>.json` exists beside a file (raw sidecar). */
	readonly hasSidecar: boolean;
	/** 8-byte reads at 512, 1024, 2048, … (HDF5 user blocks), keyed by offset. */
	readonly signatures: ReadonlyMap<number, Uint8Array>;
}

/** Whether a format can express a dtype. */
export type DTypeSupport =
	| { readonly ok: true }
	| { readonly ok: false; readonly reason: string };

/** One format. Adapters do not self-register; callers add them to an `AdapterRegistry`. */
export interface ArrayAdapter {
	/** "raw" | "npy" | "mmappickle" | "pickle" | "hdf5" | "zarr" … */
	readonly name: string;
	/** Extensions with the dot, lower case. */
	readonly extensions: readonly string[];
	/** Extensions this adapter creates (subset of `extensions`); empty for read-only formats. */
	readonly createExtensions?: readonly string[];
	readonly capabilities: Capabilities;
	/** Mode "c" is handled by the driver (e.g. MAP_PRIVATE) instead of core's overlay. */
	readonly nativeCopyOnWrite?: boolean;
	/** Cheap, synchronous, no heavy imports. */
	sniff?(probe: Probe): boolean;
	/**
	 * Whether the format can express `dtype`. At creation core passes the resolved
	 * `adapterOptions` (e.g. `zarrFormat`), so the answer can depend on the version created.
	 */
	checkDType(
		dtype: DType,
		options?: { readonly adapterOptions?: Readonly<Record<string, unknown>> },
	): DTypeSupport;
	/** Opens an existing array; `options.path` selects the member in containers. */
	open(target: string, options: DriverOpenOptions): Promise<ArrayDriver>;
	/** Creates or replaces an array (mode w+). */
	create?(target: string, options: DriverCreateOptions): Promise<ArrayDriver>;
	/** Multi-array formats only. `mode` "w+" creates or replaces the whole container. */
	openContainer?(
		target: string,
		options: ContainerOptions & { readonly mode: Mode },
	): Promise<ContainerDriver>;
}
