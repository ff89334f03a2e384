/**
 * @module @arraystore/core/node — Node-only helpers: file probes for detection, a registry
 * wired to the file system, atomic file writes.
 */
import type { ArrayAdapter } from "../driver.js";
import { AdapterRegistry } from "../registry.js";
import type {
	ArrayStore,
	ContainerOptions,
	ContainerStore,
	CreateOptions,
	OpenExistingOptions,
	ReadableArrayStore,
} from "../types.js";
import { nodeProbeReader } from "./probe.js";

export { tempSibling, writeFileAtomic } from "./files.js";
export { nodeProbeReader, readProbe } from "./probe.js";

/**
 * A registry that detects formats from files on disk.
 * @example const registry = createRegistry([npyAdapter, hdf5Adapter]);
 */
export function createRegistry(
	adapters: readonly ArrayAdapter[] = [],
): AdapterRegistry {
	return new AdapterRegistry({ adapters, probe: nodeProbeReader });
}

/**
 * Opens `target` with one adapter, no detection: the shortest way to use a single adapter package.
 * @example await using a = await openWith(npyAdapter, "data.npy"); const first = await a.read([0]);
 */
export async function openWith(
	adapter: ArrayAdapter,
	target: string,
	options?: { readonly mode?: "r" } & Omit<
		OpenExistingOptions,
		"mode" | "format"
	>,
): Promise<ReadableArrayStore>;
export async function openWith(
	adapter: ArrayAdapter,
	target: string,
	options: Omit<OpenExistingOptions, "format"> | Omit<CreateOptions, "format">,
): Promise<ArrayStore>;
export async function openWith(
	adapter: ArrayAdapter,
	target: string,
	options:
		| Omit<OpenExistingOptions, "format">
		| Omit<CreateOptions, "format"> = {},
): Promise<ArrayStore> {
	return createRegistry([adapter]).open(target, {
		...options,
		format: adapter.name,
	} as OpenExistingOptions);
}

/** Opens `target` as a container with one adapter (HDF5 file, Zarr group, pickle dict, .npz). */
export async function openContainerWith(
	adapter: ArrayAdapter,
	target: string,
	options: Omit<ContainerOptions, "format"> = {},
): Promise<ContainerStore> {
	return createRegistry([adapter]).openContainer(target, {
		...options,
		format: adapter.name,
	});
}
