/**
 * Array metadata of both Zarr versions parsed into one {@link ArrayMeta}, and written back
 * (`.zarray` / `zarr.json`) as zarr-python writes it. Every number from the file is checked
 * before anything is sized from it.
 */
import {
	type DType,
	isVString,
	MalformedError,
	type Order,
	UnsupportedError,
	UnsupportedVersionError,
} from "@arraystore/core";
import { type CodecPlan, planV2, planV3 } from "./codec-plan.js";
import { dtypeFromV2, dtypeFromV3 } from "./dtypes.js";
import { fillFromJson } from "./fill-value.js";
import { isJsonObject, type JsonObject, type JsonValue } from "./json.js";

/** One array, either version. */
export interface ArrayMeta {
	readonly zarrFormat: 2 | 3;
	readonly shape: readonly number[];
	/** Chunk shape of the outer grid: the chunk, or the shard when sharded. */
	readonly chunkShape: readonly number[];
	/** Stored dtype (v3: byte order from the `bytes` codec). */
	readonly dtype: DType;
	/** Storage order reported to core (F when chunks are stored fully transposed). */
	readonly order: Order;
	/** One element in stored byte order; null = v2 `fill_value: null` (reads as zeros). */
	readonly fill: Uint8Array | null;
	/** vlen string arrays: the fill string (their `fill` is null). */
	readonly fillString?: string;
	readonly plan: CodecPlan;
	/** Chunk key (relative to the array node) of grid coordinates. */
	readonly chunkKey: (coords: readonly number[]) => string;
	/** The metadata document as read, for rewriting with a new shape. */
	readonly doc: JsonObject;
}

// A chunk larger than this is refused before anything is allocated for it.
const MAX_CHUNK_BYTES = 2 ** 31 - 1;

function shapeOf(
	v: JsonValue | undefined,
	what: string,
	positive: boolean,
): number[] {
	if (!Array.isArray(v))
		throw new MalformedError(`${what} must be a list of integers`);
	return v.map((n) => {
		if (
			typeof n !== "number" ||
			!Number.isSafeInteger(n) ||
			n < (positive ? 1 : 0)
		)
			throw new MalformedError(
				`${what} must hold ${positive ? "positive" : "non-negative"} integers, got ${JSON.stringify(v)}`,
			);
		return n;
	});
}

// vlen strings have no itemsize: cap the element count of a chunk instead.
const MAX_STRING_CHUNK_ELEMENTS = 2 ** 26;

function checkChunkBytes(chunks: readonly number[], itemsize: number): void {
	if (itemsize === 0) {
		const n = chunks.reduce((a, b) => a * b, 1);
		if (n > MAX_STRING_CHUNK_ELEMENTS)
			throw new MalformedError(
				`string chunks of ${n} elements exceed the ${MAX_STRING_CHUNK_ELEMENTS}-element limit`,
			);
		return;
	}
	let n = itemsize;
	for (const c of chunks) n *= c;
	if (n > MAX_CHUNK_BYTES)
		throw new MalformedError(
			`chunks of ${n} bytes exceed the ${MAX_CHUNK_BYTES}-byte limit`,
		);
}

function orderFromPerm(perm: readonly number[]): Order {
	const n = perm.length;
	return n >= 2 && perm.every((d, i) => d === n - 1 - i) ? "F" : "C";
}

// The fill of fixed-size types as bytes; of vlen strings as a string (zarr-python 2 may write 0 or null).
function fillOf(
	dtype: DType,
	plan: CodecPlan,
	value: JsonValue | undefined,
	zarrFormat: 2 | 3,
): { fill: Uint8Array | null; fillString?: string } {
	const strings = isVString(dtype);
	if (strings !== (plan.chunk.vlen === true))
		throw new MalformedError(
			strings
				? "string arrays need the vlen-utf8 codec"
				: "vlen-utf8 on a fixed-size dtype",
		);
	if (strings)
		return { fill: null, fillString: typeof value === "string" ? value : "" };
	return { fill: fillFromJson(dtype, value, zarrFormat) };
}

/** Chunk keys of a v2 array (also the v3 `v2` encoding): `i.j` / `i/j`, `0` for 0-d. */
export function v2KeyEncoder(
	separator: string,
): (c: readonly number[]) => string {
	return (c) => (c.length === 0 ? "0" : c.join(separator));
}

/** v3 `default` encoding: `c/i/j` (or `c.i.j`), `c` for 0-d. */
export function v3DefaultKeyEncoder(
	separator: string,
): (c: readonly number[]) => string {
	return (c) => (c.length === 0 ? "c" : `c${separator}${c.join(separator)}`);
}

function separatorOf(v: JsonValue | undefined, dflt: string): string {
	if (v === undefined || v === null) return dflt;
	if (v !== "." && v !== "/")
		throw new MalformedError(`bad dimension separator ${JSON.stringify(v)}`);
	return v;
}

/** Parses a `.zarray` document. */
export function parseV2Array(doc: JsonObject): ArrayMeta {
	if (doc.zarr_format !== 2)
		throw new UnsupportedVersionError(
			`.zarray has zarr_format ${JSON.stringify(doc.zarr_format)}`,
		);
	const shape = shapeOf(doc.shape, ".zarray shape", false);
	const chunkShape = shapeOf(doc.chunks, ".zarray chunks", true);
	if (chunkShape.length !== shape.length)
		throw new MalformedError(".zarray chunks and shape differ in length");
	const dtype = dtypeFromV2(doc.dtype);
	checkChunkBytes(chunkShape, dtype.itemsize);
	const order = doc.order ?? "C";
	if (order !== "C" && order !== "F")
		throw new MalformedError(`.zarray order ${JSON.stringify(order)}`);
	const plan = planV2(doc, shape.length, order, dtype.itemsize);
	return {
		zarrFormat: 2,
		shape,
		chunkShape,
		dtype,
		order: shape.length >= 2 ? order : "C",
		...fillOf(dtype, plan, doc.fill_value, 2),
		plan,
		chunkKey: v2KeyEncoder(separatorOf(doc.dimension_separator, ".")),
		doc,
	};
}

/** Parses a v3 array `zarr.json` document. */
export function parseV3Array(doc: JsonObject): ArrayMeta {
	if (doc.zarr_format !== 3)
		throw new UnsupportedVersionError(
			`zarr.json has zarr_format ${JSON.stringify(doc.zarr_format)}`,
		);
	const shape = shapeOf(doc.shape, "zarr.json shape", false);
	const grid = doc.chunk_grid;
	if (!isJsonObject(grid) || grid.name !== "regular")
		throw new UnsupportedError(
			`chunk grid ${JSON.stringify(isJsonObject(grid) ? grid.name : grid)} is not supported (only regular)`,
		);
	const gridCfg = isJsonObject(grid.configuration) ? grid.configuration : {};
	const chunkShape = shapeOf(
		gridCfg.chunk_shape,
		"zarr.json chunk_shape",
		true,
	);
	if (chunkShape.length !== shape.length)
		throw new MalformedError(
			"zarr.json chunk_shape and shape differ in length",
		);
	if (
		Array.isArray(doc.storage_transformers) &&
		doc.storage_transformers.length > 0
	)
		throw new UnsupportedError(
			"zarr.json storage_transformers are not supported",
		);
	// The element type decides the default codec checks; parse the pipeline with its itemsize.
	const probe = dtypeFromV3(doc.data_type, "little");
	const plan = planV3(doc.codecs, shape.length, probe.itemsize);
	const dtype = dtypeFromV3(doc.data_type, plan.endian);
	checkChunkBytes(chunkShape, dtype.itemsize);
	if (plan.shard) {
		const inner = plan.shard.innerShape;
		if (!chunkShape.every((s, i) => s % (inner[i] as number) === 0))
			throw new MalformedError(
				"sharding_indexed chunk_shape must divide the shard shape",
			);
	}
	if (doc.fill_value === undefined || doc.fill_value === null)
		throw new MalformedError("zarr.json fill_value is required");
	const enc = doc.chunk_key_encoding;
	let chunkKey = v3DefaultKeyEncoder("/");
	if (isJsonObject(enc)) {
		const cfg = isJsonObject(enc.configuration) ? enc.configuration : {};
		if (enc.name === "default")
			chunkKey = v3DefaultKeyEncoder(separatorOf(cfg.separator, "/"));
		else if (enc.name === "v2")
			chunkKey = v2KeyEncoder(separatorOf(cfg.separator, "."));
		else
			throw new UnsupportedError(
				`chunk key encoding ${JSON.stringify(enc.name)} is not supported`,
			);
	}
	return {
		zarrFormat: 3,
		shape,
		chunkShape,
		dtype,
		order: orderFromPerm(plan.chunk.perm),
		...fillOf(dtype, plan, doc.fill_value, 3),
		plan,
		chunkKey,
		doc,
	};
}

/** Attributes of a v3 node document. */
export function v3Attributes(doc: JsonObject): JsonObject {
	return isJsonObject(doc.attributes) ? doc.attributes : {};
}
