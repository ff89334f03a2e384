/**
 * @module @arraystore/hdf5 — HDF5 files through h5wasm: whole hierarchies, every filter
 * h5wasm and h5wasm-plugins can run, multi-GB datasets read and written in bounded blocks.
 */
export { hasHdf5Signature, hdf5Adapter } from "./adapter.js";
export { WRITE_CODECS } from "./filters.js";
