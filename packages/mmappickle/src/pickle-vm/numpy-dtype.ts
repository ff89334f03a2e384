/**
 * Rebuilds a numpy dtype from its pickle: `dtype(typestr, align, copy)` followed by
 * `BUILD state` (formats.md §6.3). State layouts by length: 9 (v4, datetime metadata),
 * 8 (v3), 7, 6, and the 5-item version-0 form.
 */
import {
	type DType,
	type Field,
	MalformedError,
	parseDType,
	structured,
	subarrayOf,
	UnsupportedDTypeError,
} from "@arraystore/core";
import {
	DTypeValue,
	dictGet,
	isInt,
	PyBytes,
	PyDict,
	PyTuple,
	type PyValue,
	strOf,
} from "./values.js";

const TYPESTR = /^([biufcSUVMmO])(\d*)$/;

/** The dtype of `dtype(typestr, …)` before its BUILD: native byte order, default metadata. */
export function dtypeFromTypestr(typestr: string): DTypeValue {
	return build(typestr, null);
}

/**
 * Applies a dtype BUILD state.
 * @throws {MalformedError} a state of an unknown layout.
 * @throws {UnsupportedDTypeError} types the dtype model cannot hold.
 */
export function dtypeFromState(typestr: string, state: PyValue): DTypeValue {
	if (!(state instanceof PyTuple))
		throw new MalformedError("numpy dtype state is not a tuple");
	return build(typestr, state.items);
}

interface State {
	byteorder: string;
	subarray: PyValue;
	names: PyValue;
	fields: PyValue;
	elsize: number;
	metadata: PyValue;
}

function parseState(items: readonly PyValue[]): State {
	const int = (v: PyValue): number => {
		if (typeof v !== "number" || !Number.isSafeInteger(v))
			throw new MalformedError("numpy dtype state: bad integer");
		return v;
	};
	const str = (value: PyValue): string => {
		const v = strOf(value);
		if (v === null)
			throw new MalformedError("numpy dtype state: byte order is not a str");
		return v;
	};
	switch (items.length) {
		case 9:
		case 8:
		case 7:
			// (version, byteorder, subarray, names, fields, elsize, alignment[, flags[, metadata]])
			return {
				byteorder: str(items[1] ?? null),
				subarray: items[2] ?? null,
				names: items[3] ?? null,
				fields: items[4] ?? null,
				elsize: int(items[5] ?? null),
				metadata: items[8] ?? null,
			};
		case 6:
		case 5: {
			// Older states have no names: ([version,] byteorder, subarray, fields, elsize, alignment).
			const o = items.length - 5;
			return {
				byteorder: str(items[o] ?? null),
				subarray: items[o + 1] ?? null,
				names: null,
				fields: items[o + 2] ?? null,
				elsize: int(items[o + 3] ?? null),
				metadata: null,
			};
		}
		default:
			throw new MalformedError(`numpy dtype state of ${items.length} items`);
	}
}

function build(typestr: string, items: readonly PyValue[] | null): DTypeValue {
	const m = TYPESTR.exec(typestr);
	if (!m)
		throw new UnsupportedDTypeError(
			`unknown numpy typestr ${JSON.stringify(typestr.slice(0, 40))}`,
			{ dtype: typestr.slice(0, 40) },
		);
	const kind = m[1] as string;
	const size = m[2] === "" ? 0 : Number(m[2]);
	if (kind === "O") return new DTypeValue(null);
	const st = items === null ? null : parseState(items);
	let bo = st?.byteorder ?? "=";
	if (bo === "=" || bo === "") bo = "<";
	if (bo !== "<" && bo !== ">" && bo !== "|")
		throw new MalformedError(
			`numpy dtype state: byte order ${JSON.stringify(bo)}`,
		);

	if (st !== null && st.subarray !== null)
		return new DTypeValue(subarrayDType(st.subarray));
	if (st !== null && st.fields !== null && kind === "V")
		return new DTypeValue(structuredDType(st));

	let descr: string;
	if (kind === "S" || kind === "V")
		descr = `|${kind}${st !== null && st.elsize > 0 ? st.elsize : size}`;
	else if (kind === "U")
		descr = `${bo === "|" ? "<" : bo}U${st !== null && st.elsize > 0 ? st.elsize / 4 : size}`;
	else if (kind === "M" || kind === "m")
		descr = `${bo === "|" ? "<" : bo}${kind}8${datetimeUnit(st?.metadata ?? null)}`;
	else descr = `${bo}${kind}${size}`;
	if (kind === "U" && st !== null && st.elsize % 4 !== 0)
		throw new MalformedError(
			"numpy dtype state: U itemsize not a multiple of 4",
		);
	return new DTypeValue(parseDType(descr));
}

function datetimeUnit(metadata: PyValue): string {
	// (metadata_dict_or_None, (unit, num, den, events))
	if (!(metadata instanceof PyTuple) || metadata.items.length !== 2) return "";
	const info = metadata.items[1];
	if (!(info instanceof PyTuple) || info.items.length < 2) return "";
	const unitValue = info.items[0];
	const unit =
		unitValue instanceof PyBytes
			? Buffer.from(unitValue.bytes).toString("latin1")
			: typeof unitValue === "string"
				? unitValue
				: null;
	const num = info.items[1];
	if (unit === null || !isInt(num ?? null))
		throw new MalformedError("numpy datetime dtype: bad unit metadata");
	if (unit === "generic") return "";
	return `[${Number(num) === 1 ? "" : Number(num)}${unit}]`;
}

function dtypeOf(v: PyValue): DType {
	if (!(v instanceof DTypeValue))
		throw new MalformedError("numpy dtype state: expected a dtype");
	if (v.dtype === null)
		throw new UnsupportedDTypeError("object fields hold Python objects", {
			dtype: "O",
		});
	return v.dtype;
}

function subarrayDType(sub: PyValue): DType {
	if (!(sub instanceof PyTuple) || sub.items.length !== 2)
		throw new MalformedError("numpy dtype state: bad subarray");
	const base = dtypeOf(sub.items[0] ?? null);
	const shapeValue = sub.items[1] ?? null;
	const dims = shapeValue instanceof PyTuple ? shapeValue.items : [shapeValue];
	if (
		!dims.every(
			(d) => typeof d === "number" && Number.isSafeInteger(d) && d >= 0,
		)
	)
		throw new MalformedError("numpy dtype state: bad subarray shape");
	return subarrayOf(base, dims as number[]);
}

function structuredDType(st: State): DType {
	if (!(st.names instanceof PyTuple) || !(st.fields instanceof PyDict))
		throw new MalformedError(
			"numpy dtype state: structured dtype without names/fields",
		);
	const fields: Field[] = [];
	for (const item of st.names.items) {
		const nameValue = strOf(item);
		if (nameValue === null)
			throw new MalformedError("numpy dtype state: field name is not a str");
		const entry = dictGet(st.fields, nameValue);
		if (!(entry instanceof PyTuple) || entry.items.length < 2)
			throw new MalformedError(
				`numpy dtype state: bad field ${JSON.stringify(nameValue)}`,
			);
		const dtype = dtypeOf(entry.items[0] ?? null);
		const offset = entry.items[1];
		if (
			typeof offset !== "number" ||
			!Number.isSafeInteger(offset) ||
			offset < 0
		)
			throw new MalformedError("numpy dtype state: bad field offset");
		const title = entry.items[2];
		fields.push({
			name: nameValue,
			offset,
			dtype,
			...(typeof title === "string" ? { title } : {}),
		});
	}
	if (st.elsize < 0)
		throw new MalformedError("numpy dtype state: negative itemsize");
	return structured(fields, st.elsize);
}
