/**
 * numpy.memmap's layout parameters (dtype, shape, order, offset) for a headerless file: from the
 * caller, or from the sidecar `<file>.json` (the fixtures' format:
 * `{dtype, shape, order, offset, byte_length}`), with the caller's fields winning.
 */
import { readFile, rename, stat, writeFile } from "node:fs/promises";
import type {
	Descr,
	DType,
	DTypeSupport,
	NumpyDictDescr,
	Order,
} from "@arraystore/core";
import {
	fromNodeError,
	hasListDescr,
	isArrayStoreError,
	LayoutRequiredError,
	LimitExceededError,
	MalformedError,
	OutOfBoundsError,
	parseDType,
	ShapeMismatchError,
	SizeMismatchError,
	toDescr,
	toDictDescr,
} from "@arraystore/core";

/** Where element 0 is and how elements are laid out. */
export interface RawLayout {
	readonly dtype: DType;
	readonly shape: readonly number[];
	readonly order: Order;
	/** File offset of element 0 in bytes. */
	readonly offset: number;
}

/** The caller's (possibly partial) layout. */
export interface PartialLayout {
	readonly dtype?: DType;
	readonly shape?: readonly number[];
	readonly order?: Order;
	readonly offset?: number;
}

/** A parsed sidecar: its layout fields plus every other key it had (kept on rewrite). */
export interface Sidecar extends PartialLayout {
	readonly path: string;
	readonly extra: Readonly<Record<string, unknown>>;
}

/** Sidecars are small JSON documents; anything larger is refused before reading. */
export const MAX_SIDECAR_BYTES: number = 1024 * 1024;

const details = (target: string, cause?: unknown) => ({
	target,
	adapter: "raw",
	cause,
});

/** `<file>.json`. */
export function sidecarPath(path: string): string {
	return `${path}.json`;
}

/** Whether the raw adapter can store a dtype: every fixed-size dtype, none of kind O. */
export function checkRawDType(dtype: DType): DTypeSupport {
	if (dtype.kind === "O")
		return {
			ok: false,
			reason:
				"raw files hold fixed-size elements only (no object or vlen strings)",
		};
	if (!(dtype.itemsize > 0))
		return {
			ok: false,
			reason: `itemsize ${dtype.itemsize}: raw elements need at least one byte`,
		};
	return { ok: true };
}

/** Validates a shape: non-negative safe integers. */
export function checkShape(shape: unknown, target: string): number[] {
	if (
		!Array.isArray(shape) ||
		!shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)
	) {
		throw new ShapeMismatchError(
			`shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`,
			details(target),
		);
	}
	return [...(shape as number[])];
}

/** Validates a byte offset: a non-negative safe integer. */
export function checkOffset(offset: unknown, target: string): number {
	if (!Number.isSafeInteger(offset) || (offset as number) < 0) {
		throw new OutOfBoundsError(
			`offset must be a non-negative integer, got ${String(offset)}`,
			details(target),
		);
	}
	return offset as number;
}

/** prod(shape) × itemsize, refusing sizes past 2^53. */
export function byteLength(
	dtype: DType,
	shape: readonly number[],
	target: string,
): number {
	let n = dtype.itemsize;
	for (const d of shape) n *= d;
	if (!Number.isSafeInteger(n))
		throw new LimitExceededError(
			`array of shape [${shape}] × ${dtype.itemsize} bytes is too large`,
			details(target),
		);
	return n;
}

function parseSidecarDType(value: unknown, path: string): DType {
	if (
		typeof value !== "string" &&
		(value === null || typeof value !== "object")
	) {
		throw new MalformedError(
			`sidecar ${path}: dtype ${JSON.stringify(value)} is not a numpy descriptor`,
			details(path),
		);
	}
	try {
		return parseDType(value as Descr | NumpyDictDescr);
	} catch (err) {
		if (isArrayStoreError(err)) throw err;
		throw new MalformedError(
			`sidecar ${path}: dtype ${JSON.stringify(value)} is not a numpy descriptor`,
			details(path, err),
		);
	}
}

/**
 * Reads and validates `<file>.json`; null when it does not exist. `byte_length`, when present,
 * must equal prod(shape) × itemsize.
 * @throws {MalformedError} not JSON, or fields of the wrong type.
 * @throws {SizeMismatchError} `byte_length` disagrees with dtype and shape.
 */
export async function readSidecar(path: string): Promise<Sidecar | null> {
	const sc = sidecarPath(path);
	let text: string;
	try {
		const st = await stat(sc);
		if (!st.isFile()) return null;
		if (st.size > MAX_SIDECAR_BYTES)
			throw new MalformedError(
				`sidecar ${sc} is ${st.size} bytes (at most ${MAX_SIDECAR_BYTES})`,
				details(sc),
			);
		text = await readFile(sc, "utf8");
	} catch (err) {
		if ((err as { code?: unknown }).code === "ENOENT") return null;
		throw fromNodeError(err, details(sc));
	}
	let json: unknown;
	try {
		json = JSON.parse(text);
	} catch (err) {
		throw new MalformedError(
			`sidecar ${sc} is not valid JSON`,
			details(sc, err),
		);
	}
	if (json === null || typeof json !== "object" || Array.isArray(json))
		throw new MalformedError(`sidecar ${sc} is not a JSON object`, details(sc));
	const {
		dtype: d,
		shape: s,
		order: o,
		offset: off,
		byte_length: len,
		...extra
	} = json as Record<string, unknown>;
	if (d === undefined)
		throw new MalformedError(`sidecar ${sc} has no dtype`, details(sc));
	const dtype = parseSidecarDType(d, sc);
	const shape = s === undefined ? undefined : checkShapeIn(s, sc);
	if (o !== undefined && o !== "C" && o !== "F")
		throw new MalformedError(
			`sidecar ${sc}: order must be "C" or "F", got ${JSON.stringify(o)}`,
			details(sc),
		);
	if (
		off !== undefined &&
		(!Number.isSafeInteger(off) || (off as number) < 0)
	) {
		throw new MalformedError(
			`sidecar ${sc}: offset must be a non-negative integer, got ${JSON.stringify(off)}`,
			details(sc),
		);
	}
	if (len !== undefined) {
		if (!Number.isSafeInteger(len) || (len as number) < 0)
			throw new MalformedError(
				`sidecar ${sc}: byte_length must be a non-negative integer`,
				details(sc),
			);
		if (shape === undefined)
			throw new MalformedError(
				`sidecar ${sc}: byte_length without shape`,
				details(sc),
			);
		const expected = byteLength(dtype, shape, sc);
		if (len !== expected) {
			throw new SizeMismatchError(
				`sidecar ${sc}: byte_length ${len} ≠ prod([${shape}]) × ${dtype.itemsize} = ${expected}`,
				details(sc),
			);
		}
	}
	return {
		path: sc,
		dtype,
		shape,
		order: o as Order | undefined,
		offset: off as number | undefined,
		extra,
	};
}

function checkShapeIn(shape: unknown, sc: string): number[] {
	try {
		return checkShape(shape, sc);
	} catch (err) {
		throw new MalformedError(
			`sidecar ${sc}: shape must be a list of non-negative integers`,
			details(sc, err),
		);
	}
}

/**
 * The layout of a raw file. When the caller gives a dtype, the layout is the caller's alone,
 * as in `numpy.memmap` (offset 0, order C and a 1-d shape derived from the file size unless
 * given). Otherwise the sidecar supplies it, and any shape, order or offset the caller gives
 * wins over the sidecar's.
 * @throws {LayoutRequiredError} no dtype from either.
 * @throws {SizeMismatchError} derived shape: (fileSize − offset) is not a whole number of elements.
 * @throws {OutOfBoundsError} offset past the end of the file (derived shape).
 */
export function resolveLayout(
	target: string,
	fileSize: number,
	given: PartialLayout,
	sidecar: Sidecar | null,
): RawLayout {
	const base = given.dtype !== undefined ? null : sidecar;
	const dtype = given.dtype ?? base?.dtype;
	if (dtype === undefined) {
		throw new LayoutRequiredError(
			`${target} is a headerless file: pass dtype (and shape, offset, order) or write ${sidecarPath(target)}`,
			details(target),
		);
	}
	const offset = checkOffset(given.offset ?? base?.offset ?? 0, target);
	const order = given.order ?? base?.order ?? "C";
	if (order !== "C" && order !== "F")
		throw new MalformedError(
			`order must be "C" or "F", got ${JSON.stringify(order)}`,
			details(target),
		);
	let shape = given.shape ?? base?.shape;
	if (shape === undefined) {
		if (fileSize < offset)
			throw new OutOfBoundsError(
				`offset ${offset} is past the end of the file (${fileSize} bytes)`,
				details(target),
			);
		const avail = fileSize - offset;
		if (avail % dtype.itemsize !== 0) {
			throw new SizeMismatchError(
				`${avail} bytes after offset ${offset} are not a whole number of ${dtype.str} elements (${dtype.itemsize} bytes)`,
				details(target),
			);
		}
		shape = [avail / dtype.itemsize];
	}
	return { dtype, shape: checkShape(shape, target), order, offset };
}

/**
 * Writes `<file>.json` for `layout` (through a temporary file and a rename), keeping `extra`
 * keys of an earlier sidecar.
 */
export async function writeSidecar(
	path: string,
	layout: RawLayout,
	extra: Readonly<Record<string, unknown>> = {},
): Promise<void> {
	const sc = sidecarPath(path);
	const { dtype, shape, order, offset } = layout;
	const doc = {
		dtype: hasListDescr(dtype) ? toDescr(dtype) : toDictDescr(dtype),
		shape,
		order,
		offset,
		byte_length: byteLength(dtype, shape, path),
		comment:
			"sidecar written by @arraystore/raw; numpy.memmap itself stores no metadata",
		...extra,
	};
	const tmp = `${sc}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
	try {
		await writeFile(tmp, `${JSON.stringify(doc, null, 2)}\n`);
		await rename(tmp, sc);
	} catch (err) {
		throw fromNodeError(err, details(sc));
	}
}
