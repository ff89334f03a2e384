/**
 * @module @arraystore/core/node — Node-only helpers: file probes for detection, a registry
 * wired to the file system, atomic file writes.
 */
import type { ArrayAdapter } from "../driver.js";
import { AdapterRegistry } from "../registry.js";
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
