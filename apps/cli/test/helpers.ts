// Shared helpers of the CLI's unit tests: the built-in registry and arrays with known values.

import { sha256 } from "@arraystore/conformance";
import {
	type ArrayData,
	type ArrayStore,
	decodeElement,
	makeArrayData,
	parseDType,
	type ReadableArrayStore,
	shapeSize,
	typedCtorFor,
	withByteOrder,
} from "@arraystore/core";
import { builtinRegistry } from "../src/adapters.js";

/** The CLI's registry (Zarr output v3). */
export const registry = builtinRegistry();

/** Creates an array whose element i holds f(i) (numeric dtypes), closed again. */
export async function makeArray(
	target: string,
	dtype: string,
	shape: number[],
	f: (i: number) => number = (i) => i,
	extra: { chunks?: number[]; format?: string } = {},
): Promise<void> {
	const store = await registry.create(target, {
		dtype,
		shape,
		...(extra.chunks ? { chunks: extra.chunks } : {}),
		...(extra.format ? { format: extra.format } : {}),
	});
	try {
		const native = withByteOrder(parseDType(dtype), "native");
		const entry = typedCtorFor(native);
		if (!entry) throw new Error(`makeArray: ${dtype} is not numeric`);
		const [Ctor, width] = entry;
		const bytes = new Uint8Array(
			new ArrayBuffer(shapeSize(shape) * native.itemsize),
		);
		const view = new Ctor(bytes.buffer, 0, bytes.length / width) as unknown as {
			length: number;
			[i: number]: number | bigint;
		};
		const big = view instanceof BigInt64Array || view instanceof BigUint64Array;
		for (let i = 0; i < view.length; i++) view[i] = big ? BigInt(f(i)) : f(i);
		await store.write([], makeArrayData(native, shape, bytes));
	} finally {
		await store.close();
	}
}

/** SHA-256 of a whole store's C-order native bytes. */
export async function storeHash(store: ReadableArrayStore): Promise<string> {
	return sha256((await store.read()).bytes);
}

/** A store whose writes are counted (and optionally altered) on the way to `inner`. */
export function spyStore(
	inner: ArrayStore,
	hooks: {
		corrupt?: (call: number, bytes: Uint8Array) => void;
		/** Sees the bytes of every write. */
		see?: (bytes: Uint8Array) => void;
	} = {},
): ArrayStore & { writes: number; maxInFlight: number } {
	let inFlight = 0;
	const state = { writes: 0, maxInFlight: 0 };
	return new Proxy(inner, {
		get(target, key) {
			if (key === "writes") return state.writes;
			if (key === "maxInFlight") return state.maxInFlight;
			if (key === "write")
				return async (
					sel: never,
					value: { bytes: Uint8Array },
					opts: never,
				) => {
					const call = state.writes++;
					hooks.see?.(value.bytes);
					inFlight++;
					state.maxInFlight = Math.max(state.maxInFlight, inFlight);
					try {
						if (hooks.corrupt) {
							const bytes = value.bytes.slice();
							hooks.corrupt(call, bytes);
							value = { ...value, bytes, data: bytes } as never;
						}
						// Let other writes start, so concurrency is visible.
						await new Promise((r) => setTimeout(r, 1));
						return await target.write(sel, value as never, opts);
					} finally {
						inFlight--;
					}
				};
			const v: unknown = Reflect.get(target, key, target);
			return typeof v === "function"
				? (v as (...a: unknown[]) => unknown).bind(target)
				: v;
		},
	}) as ArrayStore & { writes: number; maxInFlight: number };
}

/**
 * An attribute value in the manifests' JSON encoding: arrays as nested lists (0-d as the
 * scalar), bigints as numbers (strings beyond 2^53), NaN/±inf as strings, bytes as latin-1.
 */
export function plainAttr(v: unknown): unknown {
	if (v === null || v === undefined) return null;
	if (typeof v === "bigint")
		return v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : v.toString();
	if (typeof v === "number")
		return Number.isNaN(v)
			? "NaN"
			: v === Infinity
				? "Infinity"
				: v === -Infinity
					? "-Infinity"
					: v;
	if (typeof v === "boolean" || typeof v === "string") return v;
	if (Array.isArray(v)) return v.map(plainAttr);
	if (isArrayData(v)) {
		const n = shapeSize(v.shape);
		const items: unknown[] = [];
		if (v.dtype.kind === "O") items.push(...(v.data as unknown as string[]));
		else
			for (let i = 0; i < n; i++)
				items.push(
					plainAttr(
						decodeElement(
							v.dtype,
							v.bytes.subarray(
								i * v.dtype.itemsize,
								(i + 1) * v.dtype.itemsize,
							),
						),
					),
				);
		const nest = (shape: readonly number[], at: number): unknown => {
			if (shape.length === 0) return items[at];
			const [d = 0, ...rest] = shape;
			const stride = shapeSize(rest);
			return Array.from({ length: d }, (_, i) => nest(rest, at + i * stride));
		};
		return nest(v.shape, 0);
	}
	if (v instanceof Uint8Array) return String.fromCharCode(...v);
	if (typeof v === "object") {
		const out: Record<string, unknown> = {};
		for (const [k, x] of Object.entries(v as Record<string, unknown>))
			out[k] = plainAttr(x);
		return out;
	}
	return v;
}

/** All attributes of a group or array, each {@link plainAttr}-encoded. */
export function plainAttrs(
	attrs: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
	const out: Record<string, unknown> = {};
	for (const [k, v] of Object.entries(attrs)) out[k] = plainAttr(v);
	return out;
}

function isArrayData(v: unknown): v is ArrayData {
	return (
		typeof v === "object" &&
		v !== null &&
		(v as ArrayData).bytes instanceof Uint8Array &&
		Array.isArray((v as ArrayData).shape)
	);
}
