/**
 * The adapters the CLI knows. Adapters do not self-register (architecture.md §2.1): this is
 * the one place that lists them, in sniffing order (npy, npz, HDF5, mmappickle, pickle, raw, Zarr).
 */
import type { AdapterRegistry, ArrayAdapter } from "@arraystore/core";
import { createRegistry } from "@arraystore/core/node";
import { hdf5Adapter } from "@arraystore/hdf5";
import { mmappickleAdapter, pickleAdapter } from "@arraystore/mmappickle";
import { npyAdapter, npzAdapter } from "@arraystore/npy";
import { rawAdapter } from "@arraystore/raw";
import { createZarrAdapter } from "@arraystore/zarr";

/** Options of the built-in set. */
export interface BuiltinOptions {
	/** Version of Zarr output (default 3); its `checkDType` answers for that version. */
	readonly zarrFormat?: 2 | 3;
	/** Zarr codec worker threads (default: the zarr adapter's, one per core; 0 = inline). */
	readonly zarrWorkers?: number;
	/** HDF5 read worker threads, each its own h5wasm heap (default: the adapter's; 0 = inline). */
	readonly hdf5ReadWorkers?: number;
}

// An adapter whose calls get default adapterOptions (the caller's own options still win).
function withAdapterDefaults(
	adapter: ArrayAdapter,
	defaults: Readonly<Record<string, unknown>>,
): ArrayAdapter {
	const merge = <
		T extends { readonly adapterOptions?: Readonly<Record<string, unknown>> },
	>(
		o: T,
	): T => ({
		...o,
		adapterOptions: { ...defaults, ...o.adapterOptions },
	});
	const { open, create, openContainer } = adapter;
	return {
		...adapter,
		open: (target, options) => open.call(adapter, target, merge(options)),
		...(create
			? {
					create: (target, options) =>
						create.call(adapter, target, merge(options)),
				}
			: {}),
		...(openContainer
			? {
					openContainer: (target, options) =>
						openContainer.call(adapter, target, merge(options)),
				}
			: {}),
	};
}

/** Registers every adapter the CLI ships with. */
export function registerBuiltinAdapters(
	registry: AdapterRegistry,
	options: BuiltinOptions = {},
): AdapterRegistry {
	registry.register(npyAdapter);
	registry.register(npzAdapter);
	registry.register(
		options.hdf5ReadWorkers !== undefined
			? withAdapterDefaults(hdf5Adapter, {
					readWorkers: options.hdf5ReadWorkers,
				})
			: hdf5Adapter,
	);
	registry.register(mmappickleAdapter);
	registry.register(pickleAdapter);
	registry.register(rawAdapter);
	registry.register(
		createZarrAdapter({
			zarrFormat: options.zarrFormat ?? 3,
			...(options.zarrWorkers !== undefined
				? { workers: options.zarrWorkers }
				: {}),
		}),
	);
	return registry;
}

/** A file-system registry with every built-in adapter. */
export function builtinRegistry(options: BuiltinOptions = {}): AdapterRegistry {
	return registerBuiltinAdapters(createRegistry(), options);
}

/** Accepted spellings of `--from` / `--to`, mapped to adapter names (and a Zarr version). */
export const FORMAT_ALIASES: Readonly<
	Record<string, { readonly format: string; readonly zarrFormat?: 2 | 3 }>
> = {
	raw: { format: "raw" },
	dat: { format: "raw" },
	bin: { format: "raw" },
	npy: { format: "npy" },
	npz: { format: "npz" },
	mmappickle: { format: "mmappickle" },
	mmdpickle: { format: "mmappickle" },
	pickle: { format: "pickle" },
	pkl: { format: "pickle" },
	joblib: { format: "pickle" },
	hdf5: { format: "hdf5" },
	h5: { format: "hdf5" },
	zarr: { format: "zarr" },
	zarr2: { format: "zarr", zarrFormat: 2 },
	zarr3: { format: "zarr", zarrFormat: 3 },
};

/** File extension written for each output format (split outputs, messages). */
export const OUTPUT_EXTENSIONS: Readonly<Record<string, string>> = {
	raw: ".dat",
	npy: ".npy",
	npz: ".npz",
	mmappickle: ".mmdpickle",
	hdf5: ".h5",
	zarr: ".zarr",
};
