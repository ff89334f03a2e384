/**
 * `zarrAdapter`: Zarr v2 and v3 arrays and groups. Importing it is cheap; the implementation
 * (and, on first chunk, the codec kernel) loads on the first open.
 */
import type {
	ArrayAdapter,
	ArrayDriver,
	Capabilities,
	ContainerDriver,
	DTypeSupport,
	Probe,
} from "@arraystore/core";
import { WRITABLE_CODECS } from "./codec-create.js";
import { zarrRefusal, zarrV3Refusal } from "./dtypes.js";

const MARKERS = ["zarr.json", ".zarray", ".zgroup", ".zmetadata"];

const CAPABILITIES: Capabilities = Object.freeze({
	modes: Object.freeze(["r", "r+", "w+", "c"] as const),
	orders: Object.freeze(["C", "F"] as const),
	byteOrders: Object.freeze(["<", ">"] as const),
	chunked: true,
	codecs: WRITABLE_CODECS,
	attributes: "readwrite",
	hierarchy: "tree",
	needsLayout: false,
	resize: true,
	zeroCopy: false,
});

/** Defaults of a configured adapter (see {@link createZarrAdapter}). */
export interface ZarrAdapterOptions {
	/** Version of created arrays and containers (default 3). With 3, `checkDType` refuses what v3 cannot store. */
	readonly zarrFormat?: 2 | 3;
	/** Codec worker threads, and chunks native codecs code at once (default: the core count; 0 = inline). */
	readonly workers?: number;
	/** Store chunks equal to the fill value (default false). */
	readonly writeEmptyChunks?: boolean;
	/** Native zstd/lz4 codecs where they load (default true; false: WebAssembly codecs). */
	readonly nativeCodecs?: boolean;
}

/**
 * A Zarr adapter with defaults. Per-call `adapterOptions` still win. `checkDType` answers for
 * the configured version: v2 holds every fixed-size numpy dtype; v3 (this adapter) writes the
 * spec's core types only.
 * @example const zarr2 = createZarrAdapter({ zarrFormat: 2 });
 */
export function createZarrAdapter(
	defaults: ZarrAdapterOptions = {},
): ArrayAdapter {
	const withDefaults = <
		T extends { readonly adapterOptions?: Readonly<Record<string, unknown>> },
	>(
		o: T,
	): T => ({ ...o, adapterOptions: { ...defaults, ...o.adapterOptions } });
	const refusal = defaults.zarrFormat === 3 ? zarrV3Refusal : zarrRefusal;
	return {
		name: "zarr",
		extensions: [".zarr"],
		createExtensions: [".zarr"],
		capabilities: CAPABILITIES,
		sniff(probe: Probe): boolean {
			return (
				probe.isDirectory && probe.entries.some((e) => MARKERS.includes(e))
			);
		},
		checkDType(dtype, options): DTypeSupport {
			// At creation the version is known: answer for it (v3 by default).
			const format =
				options?.adapterOptions?.zarrFormat ??
				(options ? (defaults.zarrFormat ?? 3) : defaults.zarrFormat);
			const why = (
				format === 3 ? zarrV3Refusal : format === 2 ? zarrRefusal : refusal
			)(dtype);
			return why === null ? { ok: true } : { ok: false, reason: why };
		},
		async open(target, options): Promise<ArrayDriver> {
			const { openArray } = await import("./open.js");
			return openArray(target, withDefaults(options));
		},
		async create(target, options): Promise<ArrayDriver> {
			const { createArray } = await import("./open.js");
			return createArray(target, withDefaults(options));
		},
		async openContainer(target, options): Promise<ContainerDriver> {
			const { openContainer } = await import("./open.js");
			return openContainer(target, withDefaults(options));
		},
	};
}

/**
 * The Zarr adapter (v2 and v3). `adapterOptions`: `zarrFormat` (2 | 3, creation; default 3),
 * `workers` (codec threads; default the core count, 0 = inline), `writeEmptyChunks`,
 * `nativeCodecs` (false: numcodecs.js WebAssembly codecs instead of napi zstd/lz4),
 * `dimensionSeparator` ("." | "/"), `chunkKeyEncoding` ("default" | "v2", v3). Its
 * `checkDType` accepts every dtype some Zarr version can hold; creating a v3 array of a type
 * only v2 can hold raises `UnsupportedDTypeError` before anything is written.
 * @example
 * const registry = createRegistry([zarrAdapter]);
 * await using a = await registry.create("out.zarr", { dtype: "<f4", shape: [100, 100], chunks: [10, 10] });
 */
export const zarrAdapter: ArrayAdapter = createZarrAdapter();
