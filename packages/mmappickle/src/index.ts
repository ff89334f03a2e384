/**
 * @module @arraystore/mmappickle — mmappickle read/write, and safe (never executing) reading of
 * legacy pickle and joblib files through a bounded pickle VM with an exact allowlist.
 */
export {
	type MmappickleAdapterOptions,
	mmappickleAdapter,
	pickleAdapter,
} from "./adapters.js";
export { type VacuumResult, vacuumMmappickle } from "./mmappickle/vacuum.js";
export { allowedGlobals } from "./pickle-vm/allowlist.js";
export { DEFAULT_VM_LIMITS, type VmLimits } from "./pickle-vm/vm.js";
