/**
 * mmappickle's dtype strings: `str(dtype)` ("float64", ">f8", "|S5", "datetime64[D]") and, for
 * structured dtypes, the Python repr of the descr list ("[('a', '<i4'), ('b', '<f8')]"), which
 * numpy itself cannot parse back. A tiny literal parser reads the latter.
 */
import {
	type DescrField,
	type DType,
	parseDType,
	UnsupportedDTypeError,
} from "@arraystore/core";

/** Python literal subset: str, int, list, tuple. */
type Literal = string | number | Literal[];

/**
 * Parses a dtype string as mmappickle stores it.
 * @throws {UnsupportedDTypeError} unknown names, object dtypes, malformed reprs.
 */
export function parseMmappickleDType(text: string): DType {
	const s = text.trim();
	if (s.startsWith("[")) {
		let lit: Literal;
		try {
			lit = parseLiteral(s);
		} catch (err) {
			throw new UnsupportedDTypeError(
				`unreadable structured dtype ${JSON.stringify(s.slice(0, 200))}`,
				{ dtype: s, cause: err },
			);
		}
		return parseDType(toDescrList(lit, s));
	}
	return parseDType(s);
}

function toDescrList(lit: Literal, src: string): DescrField[] {
	if (!Array.isArray(lit))
		throw new UnsupportedDTypeError(`structured dtype is not a list: ${src}`, {
			dtype: src,
		});
	return lit.map((entry): DescrField => {
		if (!Array.isArray(entry) || entry.length < 2 || entry.length > 3)
			throw new UnsupportedDTypeError(`bad field in ${src}`, { dtype: src });
		const [name, type, shape] = entry;
		let fieldName: string | readonly [string, string];
		if (typeof name === "string") fieldName = name;
		else if (
			Array.isArray(name) &&
			name.length === 2 &&
			typeof name[0] === "string" &&
			typeof name[1] === "string"
		)
			fieldName = [name[0], name[1]];
		else
			throw new UnsupportedDTypeError(`bad field name in ${src}`, {
				dtype: src,
			});
		const fieldType =
			typeof type === "string" ? type : toDescrList(type as Literal, src);
		if (shape === undefined) return [fieldName, fieldType];
		const dims = typeof shape === "number" ? [shape] : shape;
		if (!Array.isArray(dims) || !dims.every((d) => typeof d === "number"))
			throw new UnsupportedDTypeError(`bad field shape in ${src}`, {
				dtype: src,
			});
		return [fieldName, fieldType, dims as number[]];
	});
}

/** Parses one Python literal (list/tuple/str/int) covering the whole input. */
function parseLiteral(s: string): Literal {
	let i = 0;
	let depth = 0;
	const ws = () => {
		while (i < s.length && /\s/.test(s[i] as string)) i++;
	};
	const value = (): Literal => {
		ws();
		const c = s[i];
		if (c === "[" || c === "(") {
			if (++depth > 32) throw new Error("nesting too deep");
			const close = c === "[" ? "]" : ")";
			i++;
			const items: Literal[] = [];
			ws();
			while (s[i] !== close) {
				items.push(value());
				ws();
				if (s[i] === ",") {
					i++;
					ws();
				} else if (s[i] !== close)
					throw new Error(`expected , or ${close} at ${i}`);
			}
			i++;
			depth--;
			return items;
		}
		if (c === "'" || c === '"') return str(c);
		const m = /^-?\d+/.exec(s.slice(i, i + 24));
		if (m) {
			i += m[0].length;
			return Number(m[0]);
		}
		throw new Error(`unexpected ${JSON.stringify(c)} at ${i}`);
	};
	const str = (quote: string): string => {
		i++;
		let out = "";
		while (i < s.length && s[i] !== quote) {
			if (s[i] === "\\") {
				const n = s[i + 1];
				if (n === "x") {
					out += String.fromCharCode(
						Number.parseInt(s.slice(i + 2, i + 4), 16),
					);
					i += 4;
					continue;
				}
				out +=
					n === "n" ? "\n" : n === "t" ? "\t" : n === "r" ? "\r" : (n ?? "");
				i += 2;
				continue;
			}
			out += s[i];
			i++;
		}
		if (s[i] !== quote) throw new Error("unterminated string");
		i++;
		return out;
	};
	const v = value();
	ws();
	if (i !== s.length) throw new Error(`trailing text at ${i}`);
	return v;
}
