/**
 * Creating Zarr arrays and groups: metadata as zarr-python writes it (v2 `.zarray`, v3
 * `zarr.json`), intermediate groups, and the replace rules of mode w+ (a node is replaced
 * whole; a directory that is not a Zarr node is never deleted).
 */
import {
	AlreadyExistsError,
	type DriverCreateOptions,
	type DType,
	DTypeMismatchError,
	InvalidSelectionError,
	isVString,
	UnsupportedDTypeError,
	UnsupportedError,
} from "@arraystore/core";
import { attrsToJson } from "./attrs.js";
import { v2CodecsFor, v3CodecsFor } from "./codec-create.js";
import { dtypeToV2, dtypeToV3, zarrV3Refusal } from "./dtypes.js";
import { fillFromScalar, fillToJson } from "./fill-value.js";
import type { Hierarchy } from "./hierarchy.js";
import type { JsonObject } from "./json.js";
import { joinKey } from "./store.js";

/** Options of creation that live in `adapterOptions`. */
export interface ZarrCreateOptions {
	/** 2 or 3 (default: the existing hierarchy's version, else 3). */
	readonly zarrFormat?: 2 | 3;
	/** v2 `dimension_separator` / v3 key separator: "." or "/". */
	readonly dimensionSeparator?: "." | "/";
	/** v3 `chunk_key_encoding` name: "default" (c/i/j) or "v2" (i.j). */
	readonly chunkKeyEncoding?: "default" | "v2";
}

/** Reads creation options from `adapterOptions`. */
export function createOptions(
	o: Readonly<Record<string, unknown>>,
): ZarrCreateOptions {
	const f = o.zarrFormat;
	if (f !== undefined && f !== 2 && f !== 3)
		throw new UnsupportedError(
			`zarrFormat must be 2 or 3, got ${JSON.stringify(f)}`,
		);
	const sep = o.dimensionSeparator;
	if (sep !== undefined && sep !== "." && sep !== "/")
		throw new UnsupportedError(`dimensionSeparator must be "." or "/"`);
	const enc = o.chunkKeyEncoding;
	if (enc !== undefined && enc !== "default" && enc !== "v2")
		throw new UnsupportedError(`chunkKeyEncoding must be "default" or "v2"`);
	return {
		...(f !== undefined ? { zarrFormat: f } : {}),
		...(sep !== undefined ? { dimensionSeparator: sep } : {}),
		...(enc !== undefined ? { chunkKeyEncoding: enc } : {}),
	};
}

// Default chunks: halve the largest dimension until a chunk is at most about 1 MiB.
const TARGET_CHUNK_BYTES = 1024 * 1024;

/** Default chunk shape for an array. */
export function defaultChunks(
	shape: readonly number[],
	itemsize: number,
): number[] {
	const c = shape.map((s) => Math.max(1, s));
	const bytes = () => c.reduce((a, b) => a * b, itemsize);
	while (bytes() > TARGET_CHUNK_BYTES) {
		let d = 0;
		for (let k = 1; k < c.length; k++)
			if ((c[k] as number) > (c[d] as number)) d = k;
		if ((c[d] as number) <= 1) break;
		c[d] = Math.ceil((c[d] as number) / 2);
	}
	return c;
}

/** The array metadata document for a create request. */
export function arrayDoc(
	spec: DriverCreateOptions,
	zarrFormat: 2 | 3,
	opts: ZarrCreateOptions,
): JsonObject {
	const { dtype, shape } = spec;
	const strings = isVString(dtype);
	// Strings have no itemsize: size default chunks for about 32 bytes each.
	const chunks = spec.chunks
		? [...spec.chunks]
		: defaultChunks(shape, strings ? 32 : dtype.itemsize);
	if (
		strings &&
		spec.fillValue !== undefined &&
		typeof spec.fillValue !== "string"
	)
		throw new DTypeMismatchError(
			"the fill value of a string array must be a string",
		);
	const fill = strings
		? ((spec.fillValue as string | undefined) ?? "")
		: fillToJson(dtype, fillFromScalar(dtype, spec.fillValue));
	if (zarrFormat === 2) {
		const { compressor, filters } = v2CodecsFor(
			spec.codecs,
			dtype.itemsize,
			strings,
		);
		return {
			zarr_format: 2,
			shape: [...shape],
			chunks,
			dtype: dtypeToV2(dtype) as JsonObject[keyof JsonObject],
			compressor,
			filters,
			fill_value: fill,
			order: spec.order,
			dimension_separator: opts.dimensionSeparator ?? ".",
		};
	}
	const { name, endian } = dtypeToV3(dtype);
	const n = shape.length;
	const perm =
		spec.order === "F" && n >= 2 ? [...Array(n).keys()].reverse() : null;
	const codecs = v3CodecsFor(spec.codecs, {
		itemsize: dtype.itemsize,
		endian,
		perm,
		ndim: n,
	});
	const encName = opts.chunkKeyEncoding ?? "default";
	return {
		zarr_format: 3,
		node_type: "array",
		shape: [...shape],
		data_type: name,
		chunk_grid: { name: "regular", configuration: { chunk_shape: chunks } },
		chunk_key_encoding: {
			name: encName,
			configuration: {
				separator: opts.dimensionSeparator ?? (encName === "v2" ? "." : "/"),
			},
		},
		fill_value: fill,
		codecs,
		attributes: {},
	};
}

/** Refuses a dtype the chosen version cannot store, before anything is written. */
export function checkVersionDType(dtype: DType, zarrFormat: 2 | 3): void {
	if (zarrFormat === 3) {
		const why = zarrV3Refusal(dtype);
		if (why)
			throw new UnsupportedDTypeError(
				`zarr v3 cannot store ${dtype.str}: ${why}`,
				{ dtype: dtype.str, format: "zarr" },
			);
	}
}

/** The version a store already uses (root node), or undefined for an empty store. */
export async function storeFormat(h: Hierarchy): Promise<2 | 3 | undefined> {
	const root = await h.node("");
	return root?.zarrFormat;
}

/**
 * Makes sure every ancestor of `path` is a group (creating missing ones, zarr-python style).
 * @throws {InvalidSelectionError} when an ancestor is an array.
 */
export async function ensureParents(
	h: Hierarchy,
	path: string,
	zarrFormat: 2 | 3,
): Promise<void> {
	const parts = path === "" ? [] : path.split("/");
	for (let i = 0; i < parts.length; i++) {
		const p = parts.slice(0, i).join("/");
		const node = await h.node(p);
		if (!node)
			await h.writeNode(
				p,
				"group",
				zarrFormat,
				groupDoc(zarrFormat),
				zarrFormat === 2 ? {} : undefined,
			);
		else if (node.kind === "array")
			throw new InvalidSelectionError(
				`${p === "" ? "the store root" : p} is an array, not a group`,
			);
		else if (node.zarrFormat !== zarrFormat)
			throw new UnsupportedError(
				`cannot mix Zarr v${zarrFormat} nodes into a v${node.zarrFormat} hierarchy`,
			);
	}
}

/** A group document. */
export function groupDoc(zarrFormat: 2 | 3): JsonObject {
	return zarrFormat === 2
		? { zarr_format: 2 }
		: { zarr_format: 3, node_type: "group", attributes: {} };
}

const MARKERS = new Set([
	"zarr.json",
	".zarray",
	".zgroup",
	".zattrs",
	".zmetadata",
]);

/**
 * Clears the node at `path` for replacement. The root directory is emptied only when it is a
 * Zarr node or already empty: mode w+ never deletes an unrelated directory.
 * @throws {AlreadyExistsError} with `exclusive`, or when the directory is not a Zarr node.
 */
export async function clearForCreate(
	h: Hierarchy,
	path: string,
	exclusive: boolean,
): Promise<void> {
	const node = await h.node(path);
	if (node && exclusive)
		throw new AlreadyExistsError(
			`a Zarr ${node.kind} already exists at ${JSON.stringify(path)}`,
		);
	const entries = await h.store.list(path);
	if (!node) {
		if (entries.length > 0 && !entries.some((e) => MARKERS.has(e.name))) {
			throw new AlreadyExistsError(
				`${h.store.path(path)} exists and is not a Zarr node; refusing to replace it`,
			);
		}
		if (entries.length === 0) return;
	}
	if (path !== "") {
		if (node) await h.delete(path);
		else await h.store.deleteTree(path);
		return;
	}
	for (const e of entries) {
		const key = joinKey(path, e.name);
		if (e.isDirectory) await h.store.deleteTree(key);
		else await h.store.delete(key);
	}
}

/** Attributes of a create request as JSON. */
export function createAttrs(spec: DriverCreateOptions): JsonObject {
	return spec.attrs ? attrsToJson(spec.attrs) : {};
}
