/**
 * `describeArrayStore`: the conformance suite every adapter runs in a few lines. Cases the
 * adapter cannot support are skipped from its capabilities and `checkDType`, never by hand.
 */
import type {
	AdapterRegistry,
	ArrayAdapter,
	ArrayStore,
	DType,
} from "@arraystore/core";
import { parseDType, withByteOrder } from "@arraystore/core";
import { createRegistry } from "@arraystore/core/node";
import { describe } from "vitest";
import { createCases } from "./cases-create.js";
import { lifecycleCases } from "./cases-lifecycle.js";
import { modeCases } from "./cases-modes.js";
import { selectionCases } from "./cases-selection.js";
import type { SuiteContext } from "./suite-context.js";

/** Options of {@link describeArrayStore}. */
export interface ConformanceOptions {
	readonly adapter: ArrayAdapter;
	/**
	 * A target for a new array called `name` inside the temp dir `dir`: `join(dir, name + ".npy")`,
	 * or `join(dir, "f.h5") + "#/" + name` for containers.
	 */
	readonly makeTarget: (dir: string, name: string) => string;
	/** Registry to open through (default: one holding only `adapter`). */
	readonly registry?: AdapterRegistry;
	/** Adapter options passed on create and open. */
	readonly adapterOptions?: Readonly<Record<string, unknown>>;
	/** Chunks to create chunked stores with (default: about a third of each dimension). */
	readonly chunked?: boolean;
	/** Also test an array of more than 2^31 elements (formats that create sparse files cheaply). */
	readonly huge?: boolean;
	/** Extra `it`s inside the suite's describe. */
	readonly additionalTests?: () => void;
}

/** Every dtype the suite tries; each runs where `checkDType` accepts it. */
export const CONFORMANCE_DTYPES: readonly string[] = [
	"|b1",
	"|i1",
	"<i2",
	"<i4",
	"<i8",
	"|u1",
	"<u2",
	"<u4",
	"<u8",
	"<f2",
	"<f4",
	"<f8",
	"<c8",
	"<c16",
	"|S5",
	"<U3",
	"<M8[ns]",
	"<m8[s]",
	"|V6",
];
const STRUCTURED: unknown = [
	["a", "<i4"],
	["b", "<f8", [2]],
	["c", "|S3"],
];

/** Registers the whole suite for one adapter. */
export function describeArrayStore(options: ConformanceOptions): void {
	const { adapter } = options;
	const caps = adapter.capabilities;
	const registry = options.registry ?? createRegistry([adapter]);
	const adapterOptions = options.adapterOptions ?? {};
	const writable = caps.modes.includes("w+");
	const dtypes = [
		...CONFORMANCE_DTYPES.map((s) => parseDType(s)),
		parseDType(STRUCTURED as never),
	];
	const big = caps.byteOrders.includes(">")
		? dtypes
				.filter((d) => d.itemsize > 1 && d.kind !== "S" && d.kind !== "V")
				.map((d) => withByteOrder(d, ">"))
		: [];
	const accepted = (d: DType) => adapter.checkDType(d).ok;
	const chunksFor = (shape: readonly number[]) =>
		caps.chunked && options.chunked !== false
			? shape.map((n) => Math.max(1, Math.ceil(n / 3)))
			: undefined;

	async function create(
		target: string,
		dtype: DType | string,
		shape: readonly number[],
		extra: Record<string, unknown> = {},
	): Promise<ArrayStore> {
		const chunks = chunksFor(shape);
		return registry.create(target, {
			format: adapter.name,
			dtype: typeof dtype === "string" ? parseDType(dtype) : dtype,
			shape,
			adapterOptions,
			...(chunks ? { chunks } : {}),
			...extra,
		});
	}
	async function reopen(
		target: string,
		mode: "r" | "r+" | "c" = "r",
		extra: Record<string, unknown> = {},
	): Promise<ArrayStore> {
		return (await registry.open(target, {
			format: adapter.name,
			mode,
			adapterOptions,
			...extra,
		})) as ArrayStore;
	}
	const fileOf = (target: string) => target.split("#")[0] as string;
	const ctx: SuiteContext = {
		options,
		adapter,
		caps,
		registry,
		adapterOptions,
		writable,
		dtypes,
		big,
		accepted,
		create,
		reopen,
		fileOf,
	};

	describe(`conformance: ${adapter.name}`, () => {
		createCases(ctx);
		selectionCases(ctx);
		modeCases(ctx);
		lifecycleCases(ctx);
		options.additionalTests?.();
	});
}
