/**
 * @module @arraystore/core — the dtype model, numpy selections, the ArrayStore contract, block
 * planning, the copy-on-write overlay, typed errors, the adapter registry and the copy engine.
 */
export * from "./errors.js";
export * from "./dtype/model.js";
export * from "./dtype/parse.js";
export * from "./dtype/format.js";
export * from "./dtype/typed.js";
export * from "./dtype/swap.js";
export * from "./dtype/half.js";
export * from "./selection.js";
export type * from "./types.js";
export type * from "./driver.js";
