/**
 * A strict parser of the Python literals an `.npy` header may contain: dicts, lists, tuples,
 * strings, ints, `True`/`False`/`None`. It never evaluates anything; it is a tokenizer and a
 * recursive-descent parser with a nesting-depth limit, so hostile headers cost at most linear
 * time and memory in the header length.
 */
import { LimitExceededError, MalformedError } from "@arraystore/core";

/** A Python tuple (kept apart from lists: the npy header distinguishes them). */
export interface PyTuple {
	readonly kind: "tuple";
	readonly items: readonly PyValue[];
}

/** A Python dict with string keys (the only dicts an npy header holds). */
export interface PyDict {
	readonly kind: "dict";
	readonly entries: ReadonlyMap<string, PyValue>;
}

/** Any value the parser produces. Ints are bigints so nothing is rounded. Lists are arrays. */
export type PyValue =
	| string
	| bigint
	| boolean
	| null
	| PyTuple
	| PyDict
	| readonly PyValue[];

/** Options of {@link parsePyLiteral}. */
export interface PyLiteralOptions {
	/** Deepest nesting of containers; default 64. */
	readonly maxDepth?: number;
}

/** Default nesting limit: nested records need two levels each, so 64 is far beyond real files. */
export const DEFAULT_MAX_DEPTH = 64;

/**
 * Parses one Python literal (with surrounding whitespace). Accepts single- and double-quoted
 * strings with escapes, `u`/`r` prefixes (Python 2 headers), adjacent-string concatenation,
 * decimal ints with an optional sign and the Python 2 `L` suffix, trailing commas, and
 * parenthesised grouping.
 * @throws {MalformedError} anything else (floats, bytes, names, expressions, bad escapes).
 * @throws {LimitExceededError} nesting deeper than `maxDepth`.
 */
export function parsePyLiteral(
	text: string,
	options: PyLiteralOptions = {},
): PyValue {
	const p = new Parser(text, options.maxDepth ?? DEFAULT_MAX_DEPTH);
	const value = p.value(0);
	p.end();
	return value;
}

/** True for a {@link PyTuple}. */
export function isPyTuple(v: PyValue): v is PyTuple {
	return (
		typeof v === "object" &&
		v !== null &&
		!Array.isArray(v) &&
		(v as PyTuple).kind === "tuple"
	);
}

/** True for a {@link PyDict}. */
export function isPyDict(v: PyValue): v is PyDict {
	return (
		typeof v === "object" &&
		v !== null &&
		!Array.isArray(v) &&
		(v as PyDict).kind === "dict"
	);
}

// --- internal ---

type Token =
	| { readonly t: "punct"; readonly v: string; readonly at: number }
	| { readonly t: "str"; readonly v: string; readonly at: number }
	| { readonly t: "int"; readonly v: bigint; readonly at: number }
	| { readonly t: "name"; readonly v: string; readonly at: number }
	| { readonly t: "end"; readonly at: number };

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
	"\\": "\\",
	"'": "'",
	'"': '"',
	a: "\x07",
	b: "\b",
	f: "\f",
	n: "\n",
	r: "\r",
	t: "\t",
	v: "\v",
};

class Parser {
	readonly #s: string;
	readonly #maxDepth: number;
	#pos = 0;
	#peeked: Token | undefined;

	constructor(s: string, maxDepth: number) {
		this.#s = s;
		this.#maxDepth = maxDepth;
	}

	value(depth: number): PyValue {
		const tok = this.#next();
		switch (tok.t) {
			case "str": {
				let s = tok.v;
				// Python joins adjacent string literals: 'a' 'b' == 'ab'.
				for (let n = this.#peek(); n.t === "str"; n = this.#peek()) {
					this.#next();
					s += n.v;
				}
				return s;
			}
			case "int":
				return tok.v;
			case "name":
				if (tok.v === "True") return true;
				if (tok.v === "False") return false;
				if (tok.v === "None") return null;
				return this.#fail(`unexpected name '${tok.v.slice(0, 40)}'`, tok.at);
			case "end":
				return this.#fail("unexpected end of header", tok.at);
			case "punct":
				if (tok.v === "{") return this.#dict(depth + 1, tok.at);
				if (tok.v === "[") return this.#sequence(depth + 1, "]", tok.at).items;
				if (tok.v === "(") return this.#paren(depth + 1, tok.at);
				return this.#fail(`unexpected '${tok.v}'`, tok.at);
		}
	}

	end(): void {
		const tok = this.#next();
		if (tok.t !== "end")
			this.#fail("unexpected text after the literal", tok.at);
	}

	#enter(depth: number, at: number): void {
		if (depth > this.#maxDepth) {
			throw new LimitExceededError(
				`npy header nests deeper than ${this.#maxDepth} levels (at offset ${at})`,
			);
		}
	}

	#dict(depth: number, at: number): PyDict {
		this.#enter(depth, at);
		const entries = new Map<string, PyValue>();
		for (;;) {
			const tok = this.#peek();
			if (tok.t === "punct" && tok.v === "}") {
				this.#next();
				return { kind: "dict", entries };
			}
			const key = this.value(depth);
			if (typeof key !== "string")
				this.#fail("dict keys must be strings", tok.at);
			if (entries.has(key))
				this.#fail(`duplicate key '${key.slice(0, 40)}'`, tok.at);
			this.#expect(":");
			entries.set(key, this.value(depth));
			const sep = this.#next();
			if (sep.t === "punct" && sep.v === "}") return { kind: "dict", entries };
			if (sep.t !== "punct" || sep.v !== ",")
				this.#fail("expected ',' or '}' in dict", sep.at);
		}
	}

	/** Items up to `close`, with optional trailing comma; also reports whether a comma was seen. */
	#sequence(
		depth: number,
		close: string,
		at: number,
	): { items: PyValue[]; comma: boolean } {
		this.#enter(depth, at);
		const items: PyValue[] = [];
		let comma = false;
		for (;;) {
			const tok = this.#peek();
			if (tok.t === "punct" && tok.v === close) {
				this.#next();
				return { items, comma };
			}
			items.push(this.value(depth));
			const sep = this.#next();
			if (sep.t === "punct" && sep.v === close) return { items, comma };
			if (sep.t !== "punct" || sep.v !== ",")
				this.#fail(`expected ',' or '${close}'`, sep.at);
			comma = true;
		}
	}

	#paren(depth: number, at: number): PyValue {
		const { items, comma } = this.#sequence(depth, ")", at);
		// (x) is just x; (x,) and () are tuples.
		if (items.length === 1 && !comma) return items[0] as PyValue;
		return { kind: "tuple", items };
	}

	#expect(v: string): void {
		const tok = this.#next();
		if (tok.t !== "punct" || tok.v !== v) this.#fail(`expected '${v}'`, tok.at);
	}

	#peek(): Token {
		this.#peeked ??= this.#lex();
		return this.#peeked;
	}

	#next(): Token {
		const tok = this.#peek();
		this.#peeked = undefined;
		return tok;
	}

	#fail(message: string, at: number): never {
		throw new MalformedError(`npy header: ${message} at offset ${at}`);
	}

	#lex(): Token {
		const s = this.#s;
		let i = this.#pos;
		while (i < s.length && isSpace(s.charCodeAt(i))) i++;
		this.#pos = i;
		if (i >= s.length) return { t: "end", at: i };
		const c = s[i] as string;
		if ("{}[](),:".includes(c)) {
			this.#pos = i + 1;
			return { t: "punct", v: c, at: i };
		}
		if (c === "'" || c === '"') return this.#string(i, i, false);
		if (isDigit(c) || ((c === "-" || c === "+") && isDigit(s[i + 1] ?? "")))
			return this.#int(i);
		if (isNameStart(c)) {
			let j = i + 1;
			while (j < s.length && isNameChar(s[j] as string)) j++;
			const name = s.slice(i, j);
			const q = s[j];
			if ((q === "'" || q === '"') && name.length <= 2) {
				const lower = name.toLowerCase();
				// u'' and r'' (and ur'' from Python 2) are text; b'' would be bytes, never a valid header value.
				if (lower === "u" || lower === "r" || lower === "ur")
					return this.#string(i, j, lower.includes("r"));
				this.#fail(`string prefix '${name}' not allowed`, i);
			}
			this.#pos = j;
			return { t: "name", v: name, at: i };
		}
		return this.#fail(`unexpected character ${JSON.stringify(c)}`, i);
	}

	#int(at: number): Token {
		const s = this.#s;
		let i = at;
		let negative = false;
		if (s[i] === "-" || s[i] === "+") {
			negative = s[i] === "-";
			i++;
		}
		const start = i;
		while (
			i < s.length &&
			(isDigit(s[i] as string) ||
				(s[i] === "_" && isDigit(s[i + 1] ?? "") && i > start))
		)
			i++;
		const digits = s.slice(start, i).replaceAll("_", "");
		if (digits.length > 1 && digits[0] === "0" && /[1-9]/.test(digits))
			this.#fail("ints with leading zeros are not Python 3 literals", at);
		// Python 2 long literals: 10L.
		if (s[i] === "L" || s[i] === "l") i++;
		const next = s[i] ?? "";
		if (
			next === "." ||
			next === "e" ||
			next === "E" ||
			next === "j" ||
			next === "J" ||
			isNameChar(next)
		) {
			this.#fail("only integer numbers may appear in an npy header", at);
		}
		this.#pos = i;
		const v = BigInt(digits);
		return { t: "int", v: negative ? -v : v, at };
	}

	#string(at: number, quoteAt: number, raw: boolean): Token {
		const s = this.#s;
		const q = s[quoteAt] as string;
		if (s[quoteAt + 1] === q && s[quoteAt + 2] === q)
			this.#fail("triple-quoted strings are not supported", at);
		let out = "";
		let i = quoteAt + 1;
		for (;;) {
			if (i >= s.length) this.#fail("unterminated string", at);
			const c = s[i] as string;
			if (c === q) break;
			if (c === "\n" || c === "\r") this.#fail("newline inside a string", at);
			if (c !== "\\") {
				// Copy the run up to the next special character at once.
				let j = i + 1;
				while (
					j < s.length &&
					s[j] !== q &&
					s[j] !== "\\" &&
					s[j] !== "\n" &&
					s[j] !== "\r"
				)
					j++;
				out += s.slice(i, j);
				i = j;
				continue;
			}
			const e = s[i + 1];
			if (e === undefined) this.#fail("unterminated string", at);
			if (raw) {
				// Raw strings keep the backslash; it still protects the quote from ending the string.
				out += c + e;
				i += 2;
				continue;
			}
			i += 2;
			const simple = SIMPLE_ESCAPES[e];
			if (simple !== undefined) out += simple;
			else if (e === "\n") {
				// Line continuation: backslash-newline vanishes.
			} else if (e === "x") {
				out += this.#hexEscape(i, 2, at);
				i += 2;
			} else if (e === "u") {
				out += this.#hexEscape(i, 4, at);
				i += 4;
			} else if (e === "U") {
				out += this.#hexEscape(i, 8, at);
				i += 8;
			} else if (e >= "0" && e <= "7") {
				let j = i;
				while (j < i + 2 && (s[j] ?? "") >= "0" && (s[j] ?? "") <= "7") j++;
				out += String.fromCodePoint(Number.parseInt(s.slice(i - 1, j), 8));
				i = j;
			} else if (e === "N") {
				this.#fail("\\N{...} escapes are not supported", at);
			} else {
				// Python keeps unknown escapes verbatim (with a warning).
				out += c + e;
			}
		}
		this.#pos = i + 1;
		return { t: "str", v: out, at };
	}

	#hexEscape(i: number, n: number, at: number): string {
		const hex = this.#s.slice(i, i + n);
		if (hex.length !== n || !/^[0-9a-fA-F]+$/.test(hex))
			this.#fail("truncated \\x, \\u or \\U escape", at);
		const cp = Number.parseInt(hex, 16);
		if (cp > 0x10ffff) this.#fail("escape beyond U+10FFFF", at);
		return String.fromCodePoint(cp);
	}
}

function isSpace(c: number): boolean {
	return (
		c === 0x20 ||
		c === 0x09 ||
		c === 0x0a ||
		c === 0x0d ||
		c === 0x0c ||
		c === 0x0b
	);
}

function isDigit(c: string): boolean {
	return c >= "0" && c <= "9";
}

function isNameStart(c: string): boolean {
	return (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "_";
}

function isNameChar(c: string): boolean {
	return isNameStart(c) || isDigit(c);
}
