/**
 * Validation of create options, shared by single-array and container creation: every refusal
 * happens before any output exists.
 */
import type { ArrayAdapter, DriverCreateOptions } from "./driver.js";
import { isVString } from "./dtype/model.js";
import { parseDType } from "./dtype/parse.js";
import {
	ShapeMismatchError,
	UnsupportedDTypeError,
	UnsupportedError,
} from "./errors.js";
import type { CreateOptions } from "./types.js";

/**
 * Parses and checks create options against an adapter's capabilities and dtype support.
 * @throws {UnsupportedDTypeError} the format cannot express the dtype.
 * @throws {UnsupportedError} an order or byte order the adapter cannot create.
 */
export function checkCreate(
	adapter: ArrayAdapter,
	options: Omit<CreateOptions, "mode" | "format"> & { readonly path: string },
	inherited?: Readonly<Record<string, unknown>>,
): DriverCreateOptions {
	const dtype =
		typeof options.dtype === "object" &&
		!Array.isArray(options.dtype) &&
		"itemsize" in options.dtype
			? options.dtype
			: parseDType(options.dtype);
	const shape = options.shape;
	if (
		!Array.isArray(shape) ||
		!shape.every((n) => Number.isSafeInteger(n) && n >= 0)
	) {
		throw new ShapeMismatchError(
			`shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`,
		);
	}
	const adapterOptions = { ...inherited, ...options.adapterOptions };
	const support = adapter.checkDType(dtype, { adapterOptions });
	if (!support.ok) {
		throw new UnsupportedDTypeError(
			`${adapter.name} cannot store ${dtype.str}: ${support.reason}`,
			{ dtype: dtype.str, format: adapter.name },
		);
	}
	const order = options.order ?? "C";
	if (!adapter.capabilities.orders.includes(order))
		throw new UnsupportedError(
			`${adapter.name} cannot create ${order}-order arrays`,
		);
	if (
		options.chunks &&
		(options.chunks.length !== shape.length ||
			!options.chunks.every((c) => Number.isSafeInteger(c) && c > 0))
	) {
		throw new ShapeMismatchError(
			`chunks must have ${shape.length} positive integers`,
		);
	}
	if (
		options.offset !== undefined &&
		!(Number.isSafeInteger(options.offset) && options.offset >= 0)
	) {
		throw new ShapeMismatchError("offset must be a non-negative integer");
	}
	if (isVString(dtype) && options.order === "F")
		throw new UnsupportedError("variable-length strings are stored in C order");
	return {
		path: options.path,
		dtype,
		shape: [...shape],
		order,
		offset: options.offset ?? 0,
		exclusive: options.exclusive ?? false,
		adapterOptions,
		...(options.chunks ? { chunks: options.chunks } : {}),
		...(options.codecs ? { codecs: options.codecs } : {}),
		...(options.fillValue !== undefined
			? { fillValue: options.fillValue }
			: {}),
		...(options.attrs ? { attrs: options.attrs } : {}),
		...(options.maxshape ? { maxshape: options.maxshape } : {}),
		...(options.signal ? { signal: options.signal } : {}),
	};
}
