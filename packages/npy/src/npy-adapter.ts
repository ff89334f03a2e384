/**
 * The npy adapter: `.npy` files with `np.lib.format.open_memmap` semantics (modes r, r+, w+, c;
 * C and F order; either byte order), resizable along the growth axis.
 */
import {
	type ArrayAdapter,
	type ArrayDriver,
	type Capabilities,
	type DriverCreateOptions,
	type DriverOpenOptions,
	type DType,
	DTypeMismatchError,
	type DTypeSupport,
	dtypeKey,
	NotFoundError,
	type Probe,
	ShapeMismatchError,
	sameLayout,
	UnsupportedDTypeError,
	UnsupportedError,
} from "@arraystore/core";
import { NPY_MAGIC } from "./header.js";
import {
	createNpy,
	NPY_ADAPTER,
	type NpyDriver,
	openNpy,
} from "./npy-driver.js";
import { checkNpyDType, readTuning } from "./options.js";

const CAPABILITIES: Capabilities = Object.freeze({
	modes: Object.freeze(["r", "r+", "w+", "c"] as const),
	orders: Object.freeze(["C", "F"] as const),
	byteOrders: Object.freeze(["<", ">"] as const),
	chunked: false,
	codecs: Object.freeze([]),
	attributes: "none",
	hierarchy: "none",
	needsLayout: false,
	resize: true,
	zeroCopy: false,
});

/** True when `head` starts with `\x93NUMPY`. */
export function hasNpyMagic(head: Uint8Array): boolean {
	if (head.length < NPY_MAGIC.length) return false;
	for (let i = 0; i < NPY_MAGIC.length; i++)
		if (head[i] !== NPY_MAGIC[i]) return false;
	return true;
}

/**
 * The `.npy` adapter. Mode c is raw's private mapping (numpy's own mechanism), so
 * `nativeCopyOnWrite` is true. `resize` changes axis 0 of C-order files and the last axis of
 * F-order files (the axis numpy's growth padding is for); the data never moves unless the new
 * shape outgrows the header.
 * @example
 * ```ts
 * const registry = new AdapterRegistry([npyAdapter]);
 * const store = await registry.open("a.npy");
 * ```
 */
export const npyAdapter: ArrayAdapter = {
	name: NPY_ADAPTER,
	extensions: Object.freeze([".npy"]),
	createExtensions: Object.freeze([".npy"]),
	capabilities: CAPABILITIES,
	nativeCopyOnWrite: true,

	sniff(probe: Probe): boolean {
		return !probe.isDirectory && hasNpyMagic(probe.head);
	},

	checkDType(dtype: DType): DTypeSupport {
		return checkNpyDType(dtype);
	},

	async open(target: string, options: DriverOpenOptions): Promise<ArrayDriver> {
		checkPath(target, options.path);
		const mode = options.mode;
		if (mode !== "r" && mode !== "r+" && mode !== "c")
			throw new UnsupportedError(
				`open takes mode r, r+ or c, got ${String(mode)}`,
				details(target),
			);
		const tuning = readTuning(options.adapterOptions, target, NPY_ADAPTER);
		const driver = await openNpy(target, {
			...tuning,
			mode,
			signal: options.signal,
		});
		try {
			checkGivenLayout(target, driver, options);
		} catch (err) {
			await driver.close();
			throw err;
		}
		return driver;
	},

	async create(
		target: string,
		options: DriverCreateOptions,
	): Promise<ArrayDriver> {
		checkPath(target, options.path);
		const support = checkNpyDType(options.dtype);
		if (!support.ok) {
			throw new UnsupportedDTypeError(
				`npy cannot store ${options.dtype.str}: ${support.reason}`,
				{
					...details(target),
					dtype: options.dtype.str,
					format: NPY_ADAPTER,
				},
			);
		}
		if (options.chunks != null)
			throw new UnsupportedError("npy files are not chunked", details(target));
		if ((options.codecs?.length ?? 0) > 0)
			throw new UnsupportedError("npy files have no codecs", details(target));
		if (options.attrs !== undefined && Object.keys(options.attrs).length > 0)
			throw new UnsupportedError(
				"npy files have no attributes",
				details(target),
			);
		if (options.offset !== 0)
			throw new UnsupportedError(
				"the npy header decides the data offset; offset must be 0",
				details(target),
			);
		const tuning = readTuning(options.adapterOptions, target, NPY_ADAPTER);
		return createNpy(target, {
			...tuning,
			dtype: options.dtype,
			shape: options.shape,
			order: options.order,
			exclusive: options.exclusive,
			fillValue: options.fillValue,
			signal: options.signal,
		});
	},
};

// --- internal ---

function details(target: string): { target: string; adapter: string } {
	return { target, adapter: NPY_ADAPTER };
}

function checkPath(target: string, path: string): void {
	if (path !== "" && path !== "/")
		throw new NotFoundError(
			`npy files hold one array at path "" (asked for ${JSON.stringify(path)})`,
			details(target),
		);
}

/** A caller's dtype/shape/order/offset must agree with the header (numpy's open_memmap ignores them; we check). */
function checkGivenLayout(
	target: string,
	driver: NpyDriver,
	given: DriverOpenOptions,
): void {
	const h = driver.header;
	if (
		given.dtype !== undefined &&
		dtypeKey(given.dtype) !== dtypeKey(h.dtype) &&
		!sameLayout(given.dtype, h.dtype)
	) {
		throw new DTypeMismatchError(
			`the file holds ${h.dtype.str}, not ${given.dtype.str}`,
			details(target),
		);
	}
	if (
		given.shape !== undefined &&
		(given.shape.length !== h.shape.length ||
			given.shape.some((d, i) => d !== h.shape[i]))
	) {
		throw new ShapeMismatchError(
			`the file holds shape [${h.shape}], not [${given.shape}]`,
			details(target),
		);
	}
	if (
		given.order !== undefined &&
		given.order !== (h.fortranOrder ? "F" : "C")
	) {
		throw new ShapeMismatchError(
			`the file is stored in ${h.fortranOrder ? "F" : "C"} order, not ${given.order}`,
			details(target),
		);
	}
	if (given.offset !== undefined && given.offset !== h.dataOffset) {
		throw new ShapeMismatchError(
			`the file's data starts at ${h.dataOffset}, not ${given.offset}`,
			details(target),
		);
	}
}
