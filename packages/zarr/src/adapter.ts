/**
 * `zarrAdapter`: Zarr v2 and v3 arrays and groups. Importing it is cheap; the implementation
 * (and, on first chunk, the codec kernel) loads on the first open.
 */
import type {
	ArrayAdapter,
	ArrayDriver,
	Capabilities,
	ContainerDriver,
	DType,
	DTypeSupport,
	Probe,
} from "@arraystore/core";
import { WRITABLE_CODECS } from "./codec-plan.js";
import { zarrRefusal } from "./dtypes.js";

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

/**
 * The Zarr adapter (v2 and v3). `adapterOptions`: `zarrFormat` (2 | 3, creation; default 3),
 * `workers` (codec threads; default the core count, 0 = inline), `writeEmptyChunks`,
 * `dimensionSeparator` ("." | "/"), `chunkKeyEncoding` ("default" | "v2", v3).
 * @example
 * const registry = createRegistry([zarrAdapter]);
 * await using a = await registry.create("out.zarr", { dtype: "<f4", shape: [100, 100], chunks: [10, 10] });
 */
export const zarrAdapter: ArrayAdapter = {
	name: "zarr",
	extensions: [".zarr"],
	createExtensions: [".zarr"],
	capabilities: CAPABILITIES,
	sniff(probe: Probe): boolean {
		return probe.isDirectory && probe.entries.some((e) => MARKERS.includes(e));
	},
	checkDType(dtype: DType): DTypeSupport {
		const why = zarrRefusal(dtype);
		return why === null ? { ok: true } : { ok: false, reason: why };
	},
	async open(target, options): Promise<ArrayDriver> {
		const { openArray } = await import("./open.js");
		return openArray(target, options);
	},
	async create(target, options): Promise<ArrayDriver> {
		const { createArray } = await import("./open.js");
		return createArray(target, options);
	},
	async openContainer(target, options): Promise<ContainerDriver> {
		const { openContainer } = await import("./open.js");
		return openContainer(target, options);
	},
};
