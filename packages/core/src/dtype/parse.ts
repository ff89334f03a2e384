/**
 * Parses numpy descriptors into {@link DType}s: `dtype.str` ("<f4", "|S5", "<M8[ns]"), numpy
 * names and `str(dtype)` ("float32", "datetime64[D]"), npy / zarr-v2 field lists and numpy's
 * dict form. Every result is frozen; equal inputs give equal `str`s.
 */
import { UnsupportedDTypeError } from "../errors.js";
import type {
	ByteOrder,
	Descr,
	DescrField,
	DType,
	Field,
	Kind,
	NumpyDictDescr,
	TimeUnit,
} from "./model.js";

/** Every datetime64/timedelta64 unit numpy knows. */
export const TIME_UNITS: readonly TimeUnit[] = [
	"Y",
	"M",
	"W",
	"D",
	"h",
	"m",
	"s",
	"ms",
	"us",
	"ns",
	"ps",
	"fs",
	"as",
	"generic",
];

// numpy names (what str(dtype) prints for native types; mmappickle stores exactly these).
const NAMES: Readonly<Record<string, string>> = {
	bool: "|b1",
	bool_: "|b1",
	bool8: "|b1",
	int8: "|i1",
	int16: "<i2",
	int32: "<i4",
	int64: "<i8",
	uint8: "|u1",
	uint16: "<u2",
	uint32: "<u4",
	uint64: "<u8",
	float16: "<f2",
	float32: "<f4",
	float64: "<f8",
	float128: "<f16",
	longdouble: "<f16",
	half: "<f2",
	single: "<f4",
	double: "<f8",
	complex64: "<c8",
	complex128: "<c16",
	complex256: "<c32",
	clongdouble: "<c32",
	byte: "|i1",
	ubyte: "|u1",
	short: "<i2",
	ushort: "<u2",
	intc: "<i4",
	uintc: "<u4",
	int_: "<i8",
	uint: "<u8",
	longlong: "<i8",
	ulonglong: "<u8",
};
// numpy's one-character type codes (array-protocol chars).
const CHARS: Readonly<Record<string, string>> = {
	"?": "b1",
	b: "i1",
	B: "u1",
	h: "i2",
	H: "u2",
	i: "i4",
	I: "u4",
	l: "i8",
	L: "u8",
	q: "i8",
	Q: "u8",
	e: "f2",
	f: "f4",
	d: "f8",
	g: "f16",
	F: "c8",
	D: "c16",
	G: "c32",
};
const VALID_SIZES: Readonly<Record<string, readonly number[]>> = {
	b: [1],
	i: [1, 2, 4, 8],
	u: [1, 2, 4, 8],
	f: [2, 4, 8, 12, 16],
	c: [8, 16, 24, 32],
	M: [8],
	m: [8],
};

const cache = new Map<string, DType>();

/** The dtype code of a `dtype.str` literal at the type level: "<f4" → "f4", "<M8[ns]" → "M8". */
export type CodeOf<S extends string> =
	S extends `${"<" | ">" | "|" | "="}${infer R}`
		? R extends `${infer C}[${string}]`
			? C
			: R
		: string;

/**
 * Parses any numpy descriptor form into a frozen {@link DType}.
 * @throws {UnsupportedDTypeError} object (`O`), StringDType (`T`), variable-size or unknown types.
 * @example parseDType("<f4").itemsize // 4
 */
export function parseDType<S extends string>(descr: S): DType<CodeOf<S>>;
export function parseDType(descr: Descr | NumpyDictDescr | DType): DType;
export function parseDType(descr: Descr | NumpyDictDescr | DType): DType {
	if (typeof descr === "string") {
		let hit = cache.get(descr);
		if (hit === undefined) {
			hit = parseString(descr);
			if (cache.size < 4096) cache.set(descr, hit);
		}
		return hit;
	}
	if (Array.isArray(descr))
		return parseFieldList(descr as readonly DescrField[]);
	if (isDType(descr)) return descr;
	return parseDict(descr as NumpyDictDescr);
}

function isDType(x: unknown): x is DType {
	return (
		typeof x === "object" &&
		x !== null &&
		typeof (x as DType).str === "string" &&
		typeof (x as DType).itemsize === "number"
	);
}

function refuse(descr: string, reason: string): never {
	throw new UnsupportedDTypeError(
		`unsupported dtype ${JSON.stringify(descr)}: ${reason}`,
		{ dtype: descr },
	);
}

function parseString(input: string): DType {
	const s = input.trim();
	if (s in NAMES) return parseString(NAMES[s] as string);
	const named = /^(datetime64|timedelta64)(\[.*\])?$/.exec(s);
	if (named)
		return parseString(
			`<${named[1] === "datetime64" ? "M8" : "m8"}${named[2] ?? ""}`,
		);
	const bytesName = /^(bytes|str|void)(\d+)$/.exec(s);
	if (bytesName) {
		const n = Number(bytesName[2]);
		if (bytesName[1] === "bytes") return parseString(`|S${n / 8}`);
		if (bytesName[1] === "str") return parseString(`<U${n / 32}`);
		return parseString(`|V${n / 8}`);
	}
	const m = /^([<>|=!]?)([a-zA-Z?])(\d*)(?:\[(\d*)([A-Za-z]+)\])?$/.exec(s);
	if (!m) return refuse(input, "not a numpy descriptor");
	const [, orderChar = "", kindChar = "", sizeText = "", stepText, unitText] =
		m;
	let kind = kindChar;
	let size = sizeText === "" ? Number.NaN : Number(sizeText);
	if (sizeText === "" && kindChar in CHARS) {
		const c = CHARS[kindChar] as string;
		kind = c[0] as string;
		size = Number(c.slice(1));
	} else if (kindChar === "?") {
		kind = "b";
	}
	if (kind === "O")
		return refuse(input, "object arrays hold Python objects and need pickle");
	if (kind === "T") return refuse(input, "numpy StringDType is variable-size");
	if (kind === "a") kind = "S";
	if (!"biufcSUVMm".includes(kind) || kind.length !== 1)
		return refuse(input, `unknown kind '${kindChar}'`);
	const k = kind as Kind;
	let order: ByteOrder =
		orderChar === ">" || orderChar === "!"
			? ">"
			: orderChar === "|"
				? "|"
				: "<";
	if (k === "M" || k === "m") {
		if (Number.isNaN(size)) size = 8;
		const unit = (unitText ?? "generic") as TimeUnit;
		if (!TIME_UNITS.includes(unit))
			return refuse(input, `unknown time unit '${unitText}'`);
		const step =
			stepText === undefined || stepText === "" ? 1 : Number(stepText);
		if (size !== 8 || !(step >= 1))
			return refuse(input, "datetime64/timedelta64 are 8 bytes");
		if (order === "|") order = "<";
		const unitPart =
			unit === "generic" ? "" : `[${step === 1 ? "" : step}${unit}]`;
		return freeze({
			str: `${order}${k}8${unitPart}`,
			code: `${k}8`,
			kind: k,
			byteOrder: order,
			itemsize: 8,
			alignment: 8,
			unit,
			step,
		});
	}
	if (unitText !== undefined)
		return refuse(input, "only datetime64/timedelta64 take a unit");
	if (k === "S" || k === "U" || k === "V") {
		if (Number.isNaN(size)) size = 0;
		if (!Number.isSafeInteger(size)) return refuse(input, "bad size");
		const itemsize = k === "U" ? size * 4 : size;
		const bo: ByteOrder = k === "U" ? (order === "|" ? "<" : order) : "|";
		return freeze({
			str: `${bo}${k}${size}`,
			code: `${k}${size}`,
			kind: k,
			byteOrder: bo,
			itemsize,
			alignment: k === "U" ? 4 : 1,
		});
	}
	const sizes = VALID_SIZES[k] as readonly number[];
	if (Number.isNaN(size) || !sizes.includes(size))
		return refuse(input, `no ${k}${sizeText} type`);
	const bo: ByteOrder = size === 1 ? "|" : order === "|" ? "<" : order;
	const opaque = (k === "f" && size > 8) || (k === "c" && size > 16);
	const alignment = k === "c" ? size / 2 : opaque ? 16 : size;
	return freeze({
		str: `${bo}${k}${size}`,
		code: `${k}${size}`,
		kind: k,
		byteOrder: bo,
		itemsize: size,
		alignment,
		...(opaque ? { opaque: true } : {}),
	});
}

function parseFieldList(list: readonly DescrField[]): DType {
	const fields: Field[] = [];
	let offset = 0;
	for (const entry of list) {
		if (!Array.isArray(entry) || entry.length < 2 || entry.length > 3)
			return refuse(JSON.stringify(list), "bad field entry");
		const [nameSpec, typeSpec, shape] = entry as DescrField;
		let name: string;
		let title: string | undefined;
		if (Array.isArray(nameSpec)) [title, name] = nameSpec as [string, string];
		else name = nameSpec as string;
		if (typeof name !== "string")
			return refuse(JSON.stringify(list), "field name must be a string");
		let dtype = parseDType(typeSpec as Descr);
		if (shape !== undefined && shape !== null)
			dtype = subarrayOf(dtype, toShape(shape));
		// npy writes padding as ('', '|V<n>') entries: they advance the offset only.
		if (name === "" && dtype.kind === "V" && dtype.fields === undefined) {
			offset += dtype.itemsize;
			continue;
		}
		fields.push(
			freeze({
				name,
				offset,
				dtype,
				...(title !== undefined ? { title } : {}),
			}) as Field,
		);
		offset += dtype.itemsize;
	}
	return structured(fields, offset);
}

function parseDict(d: NumpyDictDescr): DType {
	if (
		!Array.isArray(d.names) ||
		!Array.isArray(d.formats) ||
		d.names.length !== d.formats.length
	) {
		return refuse(
			JSON.stringify(d),
			"names and formats must be lists of one length",
		);
	}
	const fields: Field[] = [];
	let offset = 0;
	d.names.forEach((name, i) => {
		const dtype = parseDType(d.formats[i] as Descr);
		const at = d.offsets?.[i] ?? offset;
		const title = d.titles?.[i] ?? undefined;
		fields.push(
			freeze({ name, offset: at, dtype, ...(title ? { title } : {}) }) as Field,
		);
		offset = at + dtype.itemsize;
	});
	const end = Math.max(0, ...fields.map((f) => f.offset + f.dtype.itemsize));
	const itemsize = d.itemsize ?? end;
	if (itemsize < end)
		return refuse(JSON.stringify(d), "itemsize smaller than its fields");
	return structured(fields, itemsize);
}

function toShape(shape: unknown): number[] {
	const list = typeof shape === "number" ? [shape] : shape;
	if (
		!Array.isArray(list) ||
		!list.every((n) => Number.isSafeInteger(n) && n >= 0)
	)
		return refuse(JSON.stringify(shape), "bad sub-array shape");
	return list as number[];
}

/** A sub-array field type: `base` repeated `shape` times (numpy's `('<f8', (2,))`). */
export function subarrayOf(base: DType, shape: readonly number[]): DType {
	if (shape.length === 0) return base;
	const n = shape.reduce((a, b) => a * b, 1);
	const itemsize = base.itemsize * n;
	return freeze({
		str: `|V${itemsize}`,
		code: `V${itemsize}`,
		kind: "V",
		byteOrder: "|",
		itemsize,
		alignment: base.alignment,
		subarray: freeze({ base, shape: Object.freeze([...shape]) }),
	});
}

/** A structured dtype from fields (any offsets) and an itemsize. */
export function structured(fields: readonly Field[], itemsize: number): DType {
	const names = new Set<string>();
	for (const f of fields) {
		if (names.has(f.name)) return refuse(f.name, "duplicate field name");
		names.add(f.name);
		if (f.offset < 0 || f.offset + f.dtype.itemsize > itemsize)
			return refuse(f.name, "field outside the record");
	}
	const sorted = [...fields].sort((a, b) => a.offset - b.offset);
	return freeze({
		str: `|V${itemsize}`,
		code: `V${itemsize}`,
		kind: "V",
		byteOrder: "|",
		itemsize,
		alignment: 1,
		fields: Object.freeze(sorted),
	});
}

function freeze<T extends object>(o: T): T {
	return Object.freeze(o);
}
