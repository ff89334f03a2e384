/**
 * The raw adapter: numpy.memmap for headerless files (.dat .raw .bin .memmap). The layout comes
 * from the caller or from the sidecar `<file>.json`; the data is memory-mapped in windows
 * through mmap-io, or read with positional I/O when the addon cannot load.
 */
import { constants as fsc } from "node:fs";
import { type FileHandle, open, stat } from "node:fs/promises";
import type {
	ArrayAdapter,
	ArrayDriver,
	Capabilities,
	DriverCreateOptions,
	DriverOpenOptions,
	DType,
	DTypeSupport,
	Probe,
	Scalar,
} from "@arraystore/core";
import {
	fromNodeError,
	NotFoundError,
	UnsupportedDTypeError,
	UnsupportedError,
} from "@arraystore/core";
import {
	driverOnHandle,
	openRawRegion,
	type RawRegionOptions,
	type RegionHooks,
} from "./driver.js";
import {
	checkRawDType,
	type RawLayout,
	readSidecar,
	resolveLayout,
	writeSidecar,
} from "./layout.js";
import { mmapKnownUnavailable } from "./mmap-lib.js";

/** Defaults of an adapter instance (each can be overridden per call through `adapterOptions`). */
export interface RawAdapterOptions {
	/** false: never memory-map (positional I/O; `capabilities.zeroCopy` false). */
	readonly mmap?: boolean;
	/** Mapping window in bytes (page-aligned, at most 1 GiB; default 1 GiB). */
	readonly windowBytes?: number;
	/** Live mapping windows kept (default 4). */
	readonly maxWindows?: number;
	/** Mode c without mmap: cap on privately held written bytes (default 256 MiB). */
	readonly maxPrivateBytes?: number;
	/** Without mmap: writes of 2 MiB and more bypass the page cache (O_DIRECT) where allowed (default false). */
	readonly directWrites?: boolean;
}

/** The raw adapter, with numpy's copy-on-write (MAP_PRIVATE) for mode c. */
export interface RawAdapter extends ArrayAdapter {
	readonly name: "raw";
	readonly nativeCopyOnWrite: true;
	open(target: string, options: DriverOpenOptions): Promise<ArrayDriver>;
	create(target: string, options: DriverCreateOptions): Promise<ArrayDriver>;
}

const EXTENSIONS = Object.freeze([".dat", ".raw", ".bin", ".memmap"]);

function optBoolean(
	opts: Readonly<Record<string, unknown>>,
	key: string,
	target: string,
): boolean | undefined {
	const v = opts[key];
	if (v === undefined || typeof v === "boolean") return v;
	throw new UnsupportedError(`adapterOptions.${key} must be a boolean`, {
		target,
		adapter: "raw",
	});
}

function optCount(
	opts: Readonly<Record<string, unknown>>,
	key: string,
	target: string,
): number | undefined {
	const v = opts[key];
	if (v === undefined || (Number.isSafeInteger(v) && (v as number) > 0))
		return v as number | undefined;
	throw new UnsupportedError(
		`adapterOptions.${key} must be a positive integer`,
		{ target, adapter: "raw" },
	);
}

// Whether a fill value is all zero bytes, the only fill a freshly truncated file has.
function isZeroFill(v: Scalar | undefined): boolean {
	if (v === undefined || v === false || v === 0n || v === "") return true;
	if (typeof v === "number") return v === 0 && !Object.is(v, -0);
	if (v instanceof Uint8Array) return v.every((b) => b === 0);
	if (Array.isArray(v)) return v.every((x) => isZeroFill(x as Scalar));
	if (typeof v === "object" && v !== null)
		return Object.values(v as Record<string, Scalar>).every(isZeroFill);
	return false;
}

function checkPath(target: string, path: string): void {
	if (path !== "" && path !== "/") {
		throw new NotFoundError(
			`a raw file holds one array at path "", not ${JSON.stringify(path)}`,
			{ target, adapter: "raw" },
		);
	}
}

/** Keeps `<file>.json` in step with a resize when the file has one. */
function sidecarHooks(target: string): RegionHooks {
	return {
		onResize: async (layout: RawLayout) => {
			const previous = await readSidecar(target).catch(() => null);
			if (previous !== null) await writeSidecar(target, layout, previous.extra);
		},
	};
}

/**
 * Builds a raw adapter. `rawAdapter` is `createRawAdapter()`; pass `{ mmap: false }` for an
 * adapter that never memory-maps.
 */
export function createRawAdapter(defaults: RawAdapterOptions = {}): RawAdapter {
	const regionOptions = (
		target: string,
		opts: Readonly<Record<string, unknown>>,
	): Omit<
		RawRegionOptions,
		"mode" | "dtype" | "shape" | "order" | "offset"
	> => ({
		mmap: optBoolean(opts, "mmap", target) ?? defaults.mmap,
		windowBytes: optCount(opts, "windowBytes", target) ?? defaults.windowBytes,
		maxWindows: optCount(opts, "maxWindows", target) ?? defaults.maxWindows,
		maxPrivateBytes:
			optCount(opts, "maxPrivateBytes", target) ?? defaults.maxPrivateBytes,
		directWrites:
			optBoolean(opts, "directWrites", target) ?? defaults.directWrites,
	});

	return {
		name: "raw",
		extensions: EXTENSIONS,
		createExtensions: EXTENSIONS,
		nativeCopyOnWrite: true,

		get capabilities(): Capabilities {
			return {
				modes: ["r", "r+", "w+", "c"],
				orders: ["C", "F"],
				byteOrders: ["<", ">"],
				chunked: false,
				codecs: [],
				attributes: "none",
				hierarchy: "none",
				needsLayout: true,
				resize: true,
				// Known only once mmap-io has been tried; it is a dependency built at install time.
				zeroCopy: defaults.mmap !== false && !mmapKnownUnavailable(),
			};
		},

		sniff(probe: Probe): boolean {
			// No magic bytes: only a sidecar marks a raw file (extensions are the registry's business).
			return probe.hasSidecar && !probe.isDirectory;
		},

		checkDType(dtype: DType): DTypeSupport {
			return checkRawDType(dtype);
		},

		async open(
			target: string,
			options: DriverOpenOptions,
		): Promise<ArrayDriver> {
			checkPath(target, options.path);
			const mode = options.mode;
			if (mode !== "r" && mode !== "r+" && mode !== "c") {
				throw new UnsupportedError(
					`open takes mode r, r+ or c, got ${String(mode)}`,
					{ target, adapter: "raw" },
				);
			}
			const region = regionOptions(target, options.adapterOptions);
			options.signal?.throwIfAborted();
			let size: number;
			try {
				const st = await stat(target);
				if (!st.isFile())
					throw new UnsupportedError(`${target} is not a regular file`, {
						target,
						adapter: "raw",
					});
				size = st.size;
			} catch (err) {
				throw fromNodeError(err, { target, adapter: "raw" });
			}
			const given = {
				dtype: options.dtype,
				shape: options.shape,
				order: options.order,
				offset: options.offset,
			};
			// The caller's dtype means the caller's layout (numpy.memmap); only without one is the sidecar read.
			const sidecar =
				given.dtype !== undefined ? null : await readSidecar(target);
			const layout = resolveLayout(target, size, given, sidecar);
			return openRawRegion(
				target,
				{ ...region, ...layout, mode, signal: options.signal },
				sidecarHooks(target),
			);
		},

		async create(
			target: string,
			options: DriverCreateOptions,
		): Promise<ArrayDriver> {
			const details = { target, adapter: "raw" };
			checkPath(target, options.path);
			const support = checkRawDType(options.dtype);
			if (!support.ok) {
				throw new UnsupportedDTypeError(
					`raw cannot store ${options.dtype.str}: ${support.reason}`,
					{
						...details,
						dtype: options.dtype.str,
						format: "raw",
					},
				);
			}
			if (options.chunks != null)
				throw new UnsupportedError("raw files are not chunked", details);
			if ((options.codecs?.length ?? 0) > 0)
				throw new UnsupportedError("raw files have no codecs", details);
			if (options.attrs !== undefined && Object.keys(options.attrs).length > 0)
				throw new UnsupportedError("raw files have no attributes", details);
			if (!isZeroFill(options.fillValue))
				throw new UnsupportedError(
					"raw files start zero-filled; fillValue must be 0",
					details,
				);
			const region = regionOptions(target, options.adapterOptions);
			const writeSide =
				optBoolean(options.adapterOptions, "sidecar", target) !== false;
			options.signal?.throwIfAborted();
			const layout: RawLayout = {
				dtype: options.dtype,
				shape: [...options.shape],
				order: options.order,
				offset: options.offset,
			};
			const flags =
				fsc.O_RDWR |
				fsc.O_CREAT |
				fsc.O_TRUNC |
				(options.exclusive ? fsc.O_EXCL : 0);
			let fh: FileHandle;
			try {
				fh = await open(target, flags, 0o666);
			} catch (err) {
				throw fromNodeError(err, details);
			}
			// The handle was truncated to 0; the driver extends it sparsely to offset + nbytes.
			const driver = await driverOnHandle(
				fh,
				target,
				layout,
				{ ...region, mode: "w+", signal: options.signal },
				sidecarHooks(target),
			);
			if (writeSide) {
				try {
					await writeSidecar(target, layout);
				} catch (err) {
					await driver.close();
					throw err;
				}
			}
			return driver;
		},
	};
}

/** The raw adapter (memory-mapped when mmap-io loads). */
export const rawAdapter: RawAdapter = createRawAdapter();
