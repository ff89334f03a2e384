/**
 * Our adapters, found by shape among each adapter package's exports (an object with a string
 * `name` and `sniff`/`open` functions), so the benchmark does not depend on export names that are
 * still moving. Packages that are not built yet are skipped and reported.
 */

const PACKAGES = [
	"@arraystore/raw",
	"@arraystore/npy",
	"@arraystore/mmappickle",
	"@arraystore/hdf5",
	"@arraystore/zarr",
];

function isAdapter(v) {
	return (
		typeof v === "object" &&
		v !== null &&
		typeof v.name === "string" &&
		typeof v.open === "function" &&
		typeof v.sniff === "function"
	);
}

/** @returns {Promise<{ adapters: object[], missing: string[] }>} */
export async function loadAdapters() {
	const adapters = [];
	const missing = [];
	for (const pkg of PACKAGES) {
		try {
			const mod = await import(pkg);
			const found = Object.values(mod).filter(isAdapter);
			if (found.length === 0) missing.push(`${pkg} (no adapter exported)`);
			for (const a of found)
				if (!adapters.some((b) => b.name === a.name)) adapters.push(a);
		} catch (err) {
			missing.push(`${pkg} (${err instanceof Error ? err.message : err})`);
		}
	}
	return { adapters, missing };
}

/** A registry with every adapter found. */
export async function createBenchRegistry() {
	const { createRegistry } = await import("@arraystore/core/node");
	const { adapters, missing } = await loadAdapters();
	return { registry: createRegistry(adapters), adapters, missing };
}
