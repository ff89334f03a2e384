/**
 * Python `repr` of what numpy headers and names hold, exactly as CPython prints it: strings,
 * ints, booleans, shape tuples and `dtype.descr` lists. numpy writes npy headers and
 * mmappickle dtype names with `repr`, so byte-identical output needs CPython's rules,
 * including its choice of quotes and escapes.
 */
import type { Descr, DescrField } from "./model.js";

// CPython's str.isprintable() is false for these categories (space excepted).
const NON_PRINTABLE = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]$/u;

/**
 * `repr(s)` for a Python str: single quotes unless the text has `'` and no `"`; `\\`, the quote,
 * `\t \n \r` escaped; other non-printable characters as `\xhh`, `\uhhhh` or `\Uhhhhhhhh`.
 */
export function pyStr(s: string): string {
	const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
	let out = "";
	for (const ch of s) {
		const c = ch.codePointAt(0) as number;
		if (ch === "\\") out += "\\\\";
		else if (ch === quote) out += `\\${quote}`;
		else if (ch === "\t") out += "\\t";
		else if (ch === "\n") out += "\\n";
		else if (ch === "\r") out += "\\r";
		else if (c === 0x20 || !NON_PRINTABLE.test(ch)) out += ch;
		else if (c <= 0xff) out += `\\x${hex(c, 2)}`;
		else if (c <= 0xffff) out += `\\u${hex(c, 4)}`;
		else out += `\\U${hex(c, 8)}`;
	}
	return quote + out + quote;
}

/** `repr(t)` for a tuple of ints: `()`, `(5,)`, `(3, 4)`. */
export function pyTuple(items: readonly (number | bigint)[]): string {
	return items.length === 1 ? `(${items[0]},)` : `(${items.join(", ")})`;
}

/**
 * `repr(dtype.descr)` (or of `dtype.str` for simple types): a list of tuples, where a nested
 * record's type is again a list and a sub-array shape is a tuple.
 */
export function pyDescr(descr: Descr): string {
	if (typeof descr === "string") return pyStr(descr);
	return `[${descr.map(pyField).join(", ")}]`;
}

/** `repr` of a plain value: str, int, bool, None, a tuple of ints or a descr list. */
export function pyRepr(
	value: string | number | bigint | boolean | null | Descr,
): string {
	if (typeof value === "string") return pyStr(value);
	if (typeof value === "number" || typeof value === "bigint")
		return String(value);
	if (typeof value === "boolean") return value ? "True" : "False";
	if (value === null) return "None";
	return pyDescr(value);
}

// --- internal ---

function hex(n: number, width: number): string {
	return n.toString(16).padStart(width, "0");
}

function pyField(f: DescrField): string {
	const [name, type, shape] = f;
	const n =
		typeof name === "string"
			? pyStr(name)
			: `(${pyStr(name[0])}, ${pyStr(name[1])})`;
	const parts = [n, pyDescr(type)];
	if (shape !== undefined) parts.push(pyTuple(shape));
	return `(${parts.join(", ")})`;
}
