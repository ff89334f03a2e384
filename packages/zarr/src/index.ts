/**
 * @module @arraystore/zarr — Zarr v2 and v3 arrays and groups: every common codec, sharding,
 * safe concurrent writes, chunk codecs on worker threads.
 */
export type { ZarrAdapterOptions } from "./adapter.js";
export { createZarrAdapter, zarrAdapter } from "./adapter.js";
export type { ZarrDriverOptions } from "./array-driver.js";
export type { ZarrCreateOptions } from "./create.js";
