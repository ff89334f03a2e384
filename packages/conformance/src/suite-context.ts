/**
 * What every group of conformance cases gets: the adapter, its capabilities, and helpers to
 * create and reopen arrays through the registry.
 */
import type {
	AdapterRegistry,
	ArrayAdapter,
	ArrayStore,
	Capabilities,
	DType,
} from "@arraystore/core";
import type { ConformanceOptions } from "./suite.js";

/** Shared state of one adapter's suite. */
export interface SuiteContext {
	readonly options: ConformanceOptions;
	readonly adapter: ArrayAdapter;
	readonly caps: Capabilities;
	readonly registry: AdapterRegistry;
	readonly adapterOptions: Readonly<Record<string, unknown>>;
	readonly writable: boolean;
	readonly dtypes: readonly DType[];
	/** Big-endian variants, when the adapter creates them. */
	readonly big: readonly DType[];
	readonly accepted: (d: DType) => boolean;
	readonly create: (
		target: string,
		dtype: DType | string,
		shape: readonly number[],
		extra?: Record<string, unknown>,
	) => Promise<ArrayStore>;
	readonly reopen: (
		target: string,
		mode?: "r" | "r+" | "c",
		extra?: Record<string, unknown>,
	) => Promise<ArrayStore>;
	/** The file or directory part of a target. */
	readonly fileOf: (target: string) => string;
}
