/**
 * A bounded pickle virtual machine (protocols 0–5) that never executes anything. Globals are
 * resolved against the exact allowlist when they are pushed; REDUCE, NEWOBJ and BUILD dispatch
 * to data-only handlers. Every length is checked before anything is allocated, and every limit
 * (operations, memo, stack, marks, inline bytes, nesting) raises `LimitExceededError`.
 */
import {
	ForbiddenGlobalError,
	LimitExceededError,
	MalformedError,
	TruncatedError,
	UnsupportedError,
	UnsupportedVersionError,
} from "@arraystore/core";
import { resolveGlobal } from "./allowlist.js";
import type { ByteReader } from "./byte-reader.js";
import {
	applyBuild,
	applyNewObj,
	applyReduce,
	wrapperState,
} from "./handlers.js";
import { HIGHEST_PROTOCOL, OP } from "./opcodes.js";
import {
	ArrayRef,
	ByteRange,
	type DataRef,
	ObjectArrayRef,
	Pending,
	PyBytes,
	PyDict,
	PyFloat,
	PyGlobal,
	PySet,
	PyTuple,
	type PyValue,
} from "./values.js";

/** Hard limits of one VM run (nested joblib pickles share them). */
export interface VmLimits {
	/** Opcodes executed. */
	readonly maxOps: number;
	/** Memo entries. */
	readonly maxMemo: number;
	/** Values on the stack, all MARK regions together. */
	readonly maxStack: number;
	/** Open MARKs (nesting depth of containers being built). */
	readonly maxMarks: number;
	/** Bytes copied into memory (strings, small bytes, big ints), all together. */
	readonly maxInlineBytes: number;
	/** Bytes payloads larger than this stay in the file as a `ByteRange`. */
	readonly inlineThreshold: number;
	/** Nested pickles (joblib object arrays). */
	readonly maxNesting: number;
}

/** Defaults: generous for real files, small enough that hostile input fails fast. */
export const DEFAULT_VM_LIMITS: VmLimits = Object.freeze({
	maxOps: 50_000_000,
	maxMemo: 1_000_000,
	maxStack: 1_000_000,
	maxMarks: 10_000,
	maxInlineBytes: 256 * 1024 * 1024,
	inlineThreshold: 4096,
	maxNesting: 2,
});

/** How to run the VM. */
export interface VmOptions {
	readonly limits?: Partial<VmLimits>;
	/** An mmappickle value fragment: no PROTO/STOP; runs to the end of the input and yields one value. */
	readonly fragment?: boolean;
	/** Called with the global's name each time a handler is applied (tests spy on this). */
	readonly onApply?: (name: string) => void;
}

interface Shared {
	readonly limits: VmLimits;
	inline: number;
	ops: number;
	readonly onApply: ((name: string) => void) | undefined;
}

/**
 * Runs one pickle from the reader's position to its STOP (or, for fragments, to the end of the
 * input) and returns the value.
 * @throws {ForbiddenGlobalError} a global or call shape outside the allowlist.
 * @throws {TruncatedError} EOF inside an opcode or payload.
 * @throws {MalformedError} stack/mark misuse, unknown opcodes, bad states.
 * @throws {SizeMismatchError} payload length ≠ shape × itemsize.
 * @throws {LimitExceededError} a VM limit.
 */
export async function runPickle(
	reader: ByteReader,
	options: VmOptions = {},
): Promise<PyValue> {
	const shared: Shared = {
		limits: { ...DEFAULT_VM_LIMITS, ...options.limits },
		inline: 0,
		ops: 0,
		onApply: options.onApply,
	};
	return new Vm(reader, shared, 0, options.fragment === true).run();
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const LINE_MAX = 64 * 1024;

class Vm {
	readonly #r: ByteReader;
	readonly #s: Shared;
	readonly #depth: number;
	readonly #fragment: boolean;
	readonly #stack: PyValue[] = [];
	readonly #marks: number[] = [];
	readonly #memo = new Map<number, PyValue>();

	constructor(
		reader: ByteReader,
		shared: Shared,
		depth: number,
		fragment: boolean,
	) {
		this.#r = reader;
		this.#s = shared;
		this.#depth = depth;
		this.#fragment = fragment;
	}

	async run(): Promise<PyValue> {
		const r = this.#r;
		const lim = this.#s.limits;
		for (;;) {
			if (this.#fragment && r.remaining <= 0) return this.#endFragment();
			if (++this.#s.ops > lim.maxOps)
				throw new LimitExceededError(`pickle: more than ${lim.maxOps} opcodes`);
			const at = r.pos;
			const op = await r.u8();
			switch (op) {
				case OP.PROTO: {
					const v = await r.u8();
					if (v > HIGHEST_PROTOCOL)
						throw new UnsupportedVersionError(
							`pickle protocol ${v} (at ${at}) is newer than ${HIGHEST_PROTOCOL}`,
						);
					break;
				}
				case OP.FRAME: {
					const n = await this.#u64();
					if (n > r.remaining)
						throw new TruncatedError(
							`pickle: FRAME of ${n} bytes at ${at} runs past the end`,
						);
					break;
				}
				case OP.STOP:
					if (this.#fragment)
						throw new MalformedError(
							`pickle: STOP inside an mmappickle value (at ${at})`,
						);
					return this.#pop();
				case OP.MARK:
					if (this.#marks.length >= lim.maxMarks)
						throw new LimitExceededError(
							`pickle: more than ${lim.maxMarks} nested MARKs`,
						);
					this.#marks.push(this.#stack.length);
					break;
				case OP.POP:
					// CPython pops the MARK itself when the current region is empty (mmappickle relies on it).
					if (this.#stack.length === this.#base() && this.#marks.length > 0)
						this.#marks.pop();
					else this.#pop();
					break;
				case OP.POP_MARK:
					this.#popMark();
					break;
				case OP.DUP:
					this.#push(this.#top());
					break;
				// --- numbers ---
				case OP.NONE:
					this.#push(null);
					break;
				case OP.NEWTRUE:
					this.#push(true);
					break;
				case OP.NEWFALSE:
					this.#push(false);
					break;
				case OP.BININT:
					this.#push(
						new DataView(copy(await r.take(4)).buffer).getInt32(0, true),
					);
					break;
				case OP.BININT1:
					this.#push(await r.u8());
					break;
				case OP.BININT2: {
					const b = await r.take(2);
					this.#push((b[0] as number) | ((b[1] as number) << 8));
					break;
				}
				case OP.LONG1:
					this.#push(this.#long(await this.#inline(await r.u8(), "LONG1")));
					break;
				case OP.LONG4: {
					const n = new DataView(copy(await r.take(4)).buffer).getInt32(
						0,
						true,
					);
					if (n < 0)
						throw new MalformedError(
							`pickle: LONG4 with negative length at ${at}`,
						);
					this.#push(this.#long(await this.#inline(n, "LONG4")));
					break;
				}
				case OP.INT:
					this.#push(this.#textInt(await this.#line()));
					break;
				case OP.LONG:
					this.#push(this.#textInt((await this.#line()).replace(/L$/, "")));
					break;
				case OP.FLOAT:
					this.#push(new PyFloat(textFloat(await this.#line())));
					break;
				case OP.BINFLOAT:
					this.#push(
						new PyFloat(
							new DataView(copy(await r.take(8)).buffer).getFloat64(0, false),
						),
					);
					break;
				// --- strings and bytes ---
				case OP.SHORT_BINUNICODE:
					this.#push(await this.#text(await r.u8()));
					break;
				case OP.BINUNICODE:
					this.#push(await this.#text(await this.#u32()));
					break;
				case OP.BINUNICODE8:
					this.#push(await this.#text(await this.#u64()));
					break;
				case OP.UNICODE:
					this.#push(rawUnicodeEscape(await this.#lineBytes()));
					break;
				case OP.SHORT_BINBYTES:
				case OP.SHORT_BINSTRING:
					this.#push(await this.#payload(await r.u8(), false));
					break;
				case OP.BINBYTES:
					this.#push(await this.#payload(await this.#u32(), false));
					break;
				case OP.BINSTRING: {
					const n = new DataView(copy(await r.take(4)).buffer).getInt32(
						0,
						true,
					);
					if (n < 0)
						throw new MalformedError(
							`pickle: BINSTRING with negative length at ${at}`,
						);
					this.#push(await this.#payload(n, false));
					break;
				}
				case OP.BINBYTES8:
					this.#push(await this.#payload(await this.#u64(), false));
					break;
				case OP.BYTEARRAY8:
					this.#push(await this.#payload(await this.#u64(), true));
					break;
				case OP.STRING:
					this.#push(new PyBytes(pyStringLiteral(await this.#lineBytes())));
					break;
				// --- containers ---
				case OP.EMPTY_TUPLE:
					this.#push(new PyTuple([]));
					break;
				case OP.TUPLE1:
				case OP.TUPLE2:
				case OP.TUPLE3: {
					const n = op - OP.TUPLE1 + 1;
					const items: PyValue[] = [];
					for (let i = 0; i < n; i++) items.unshift(this.#pop());
					this.#push(new PyTuple(items));
					break;
				}
				case OP.TUPLE:
					this.#push(new PyTuple(this.#popMark()));
					break;
				case OP.EMPTY_LIST:
					this.#push([]);
					break;
				case OP.LIST:
					this.#push(this.#popMark());
					break;
				case OP.APPEND: {
					const v = this.#pop();
					this.#list(at).push(v);
					break;
				}
				case OP.APPENDS: {
					const items = this.#popMark();
					const list = this.#list(at);
					for (const v of items) list.push(v);
					break;
				}
				case OP.EMPTY_DICT:
					this.#push(new PyDict());
					break;
				case OP.DICT: {
					const items = this.#popMark();
					const d = new PyDict();
					this.#setItems(d, items, at);
					this.#push(d);
					break;
				}
				case OP.SETITEM: {
					const v = this.#pop();
					const k = this.#pop();
					this.#setItems(this.#dict(at), [k, v], at);
					break;
				}
				case OP.SETITEMS: {
					const items = this.#popMark();
					this.#setItems(this.#dict(at), items, at);
					break;
				}
				case OP.EMPTY_SET:
					this.#push(new PySet());
					break;
				case OP.ADDITEMS: {
					const items = this.#popMark();
					const s = this.#top();
					if (!(s instanceof PySet) || s.frozen)
						throw new MalformedError(`pickle: ADDITEMS on a non-set at ${at}`);
					for (const v of items) this.#add(s, v, at);
					break;
				}
				case OP.FROZENSET: {
					const s = new PySet(true);
					for (const v of this.#popMark()) this.#add(s, v, at);
					this.#push(s);
					break;
				}
				// --- memo ---
				case OP.MEMOIZE:
					this.#put(this.#memo.size);
					break;
				case OP.BINPUT:
					this.#put(await r.u8());
					break;
				case OP.LONG_BINPUT:
					this.#put(await this.#u32());
					break;
				case OP.PUT:
					this.#put(this.#decimal(await this.#line()));
					break;
				case OP.BINGET:
					this.#get(await r.u8(), at);
					break;
				case OP.LONG_BINGET:
					this.#get(await this.#u32(), at);
					break;
				case OP.GET:
					this.#get(this.#decimal(await this.#line()), at);
					break;
				// --- globals and calls (the allowlist's business) ---
				case OP.GLOBAL: {
					const module = await this.#line();
					const name = await this.#line();
					this.#push(
						new PyGlobal(`${module}.${name}`, resolveGlobal(module, name)),
					);
					break;
				}
				case OP.STACK_GLOBAL: {
					const name = this.#pop();
					const module = this.#pop();
					if (typeof module !== "string" || typeof name !== "string")
						throw new MalformedError(
							`pickle: STACK_GLOBAL of non-strings at ${at}`,
						);
					this.#push(
						new PyGlobal(`${module}.${name}`, resolveGlobal(module, name)),
					);
					break;
				}
				case OP.REDUCE: {
					const args = this.#pop();
					const fn = this.#pop();
					this.#push(this.#apply(fn, () => applyReduce(fn, args)));
					break;
				}
				case OP.NEWOBJ: {
					const args = this.#pop();
					const cls = this.#pop();
					this.#push(this.#apply(cls, () => applyNewObj(cls, args)));
					break;
				}
				case OP.NEWOBJ_EX: {
					const kwargs = this.#pop();
					const args = this.#pop();
					const cls = this.#pop();
					if (!(kwargs instanceof PyDict) || kwargs.entries.size !== 0) {
						if (cls instanceof PyGlobal)
							throw new ForbiddenGlobalError(
								`pickle global ${cls.name}: keyword arguments are not allowed`,
								{ global: cls.name },
							);
						throw new MalformedError(
							`pickle: NEWOBJ_EX with keyword arguments at ${at}`,
						);
					}
					this.#push(this.#apply(cls, () => applyNewObj(cls, args)));
					break;
				}
				case OP.INST: {
					const module = await this.#line();
					const name = await this.#line();
					const g = new PyGlobal(
						`${module}.${name}`,
						resolveGlobal(module, name),
					);
					const args = new PyTuple(this.#popMark());
					this.#push(this.#apply(g, () => applyReduce(g, args)));
					break;
				}
				case OP.OBJ: {
					const items = this.#popMark();
					const cls = items[0] ?? null;
					this.#push(
						this.#apply(cls, () =>
							applyReduce(cls, new PyTuple(items.slice(1))),
						),
					);
					break;
				}
				case OP.BUILD: {
					const state = this.#pop();
					const obj = this.#pop();
					if (obj instanceof Pending && obj.kind === "wrapper")
						this.#push(await this.#wrapper(state));
					else this.#push(applyBuild(obj, state));
					break;
				}
				case OP.EXT1:
				case OP.EXT2:
				case OP.EXT4: {
					const n =
						op === OP.EXT1
							? await r.u8()
							: op === OP.EXT2
								? (await r.take(2)).reduce((a, b, i) => a | (b << (8 * i)), 0)
								: await this.#u32();
					throw new ForbiddenGlobalError(
						`pickle extension code ${n} (copyreg registry) is not allowed`,
						{ global: `<extension ${n}>` },
					);
				}
				case OP.PERSID:
				case OP.BINPERSID:
					throw new UnsupportedError(
						`pickle persistent IDs (at ${at}) refer to objects outside the file`,
					);
				case OP.NEXT_BUFFER:
				case OP.READONLY_BUFFER:
					throw new UnsupportedError(
						`pickle out-of-band buffers (at ${at}) cannot be resolved from a file`,
					);
				default:
					throw new MalformedError(
						`pickle: unknown opcode 0x${op.toString(16).padStart(2, "0")} at ${at}`,
					);
			}
		}
	}

	#endFragment(): PyValue {
		if (this.#marks.length !== 0 || this.#stack.length !== 1) {
			throw new MalformedError(
				`mmappickle value leaves ${this.#stack.length} values and ${this.#marks.length} marks (expected one value)`,
			);
		}
		return this.#stack[0] as PyValue;
	}

	#apply(target: PyValue, fn: () => PyValue): PyValue {
		if (target instanceof PyGlobal) this.#s.onApply?.(target.name);
		return fn();
	}

	async #wrapper(state: PyValue): Promise<PyValue> {
		const r = this.#r;
		this.#s.onApply?.("joblib.numpy_pickle.NumpyArrayWrapper");
		const ws = wrapperState(state);
		if (ws.dtype === null) {
			// Object arrays: the "raw bytes" are a complete nested pickle (protocol 5).
			if (this.#depth + 1 > this.#s.limits.maxNesting)
				throw new LimitExceededError(
					"pickle: nested pickles deeper than the limit",
				);
			const nested = await new Vm(r, this.#s, this.#depth + 1, false).run();
			if (!(nested instanceof ObjectArrayRef || nested instanceof ArrayRef))
				throw new MalformedError(
					"joblib object array: the nested pickle is not an array",
				);
			return nested;
		}
		if (ws.alignment !== undefined && ws.alignment !== null) {
			const padAt = r.pos;
			const pad = await r.u8();
			if (pad < 1 || pad > ws.alignment)
				throw new MalformedError(
					`joblib: pad byte ${pad} at ${padAt} is not 1…${ws.alignment}`,
				);
			const fill = await r.take(pad);
			if (fill.some((b) => b !== 0xff))
				throw new MalformedError(`joblib: padding after ${padAt} is not 0xFF`);
		}
		const dims = ws.shape;
		const n = dims.reduce((a, b) => a * b, 1) * ws.dtype.itemsize;
		if (!Number.isSafeInteger(n))
			throw new MalformedError("joblib: array too large");
		const data = await this.#payload(n, false);
		const f = ws.order === "F" && dims.length > 1;
		const perm = dims.map((_, i) => (f ? dims.length - 1 - i : i));
		return new ArrayRef(
			ws.dtype,
			f ? [...dims].reverse() : [...dims],
			perm,
			data,
		);
	}

	// --- stack ---

	#base(): number {
		return this.#marks.length > 0
			? (this.#marks[this.#marks.length - 1] as number)
			: 0;
	}

	#push(v: PyValue): void {
		if (this.#stack.length >= this.#s.limits.maxStack)
			throw new LimitExceededError(
				`pickle: stack deeper than ${this.#s.limits.maxStack}`,
			);
		this.#stack.push(v);
	}

	#pop(): PyValue {
		if (this.#stack.length <= this.#base())
			throw new MalformedError(`pickle: stack underflow at ${this.#r.pos - 1}`);
		return this.#stack.pop() as PyValue;
	}

	#top(): PyValue {
		if (this.#stack.length <= this.#base())
			throw new MalformedError(`pickle: stack underflow at ${this.#r.pos - 1}`);
		return this.#stack[this.#stack.length - 1] as PyValue;
	}

	#popMark(): PyValue[] {
		if (this.#marks.length === 0)
			throw new MalformedError(`pickle: no MARK at ${this.#r.pos - 1}`);
		const base = this.#marks.pop() as number;
		return this.#stack.splice(base);
	}

	#list(at: number): PyValue[] {
		const l = this.#top();
		if (!Array.isArray(l))
			throw new MalformedError(`pickle: APPEND to a non-list at ${at}`);
		return l;
	}

	#dict(at: number): PyDict {
		const d = this.#top();
		if (!(d instanceof PyDict))
			throw new MalformedError(`pickle: SETITEM on a non-dict at ${at}`);
		return d;
	}

	#setItems(d: PyDict, items: readonly PyValue[], at: number): void {
		if (items.length % 2 !== 0)
			throw new MalformedError(`pickle: odd number of dict items at ${at}`);
		for (let i = 0; i < items.length; i += 2) {
			try {
				d.set(items[i] as PyValue, items[i + 1] as PyValue);
			} catch (err) {
				throw new MalformedError(`pickle: unhashable dict key at ${at}`, {
					cause: err,
				});
			}
		}
	}

	#add(s: PySet, v: PyValue, at: number): void {
		try {
			s.add(v);
		} catch (err) {
			throw new MalformedError(`pickle: unhashable set item at ${at}`, {
				cause: err,
			});
		}
	}

	#put(i: number): void {
		if (!this.#memo.has(i) && this.#memo.size >= this.#s.limits.maxMemo)
			throw new LimitExceededError(
				`pickle: memo larger than ${this.#s.limits.maxMemo}`,
			);
		this.#memo.set(i, this.#top());
	}

	#get(i: number, at: number): void {
		const v = this.#memo.get(i);
		if (v === undefined)
			throw new MalformedError(
				`pickle: memo ${i} read before it was written (at ${at})`,
			);
		this.#push(v);
	}

	// --- arguments ---

	async #u32(): Promise<number> {
		return new DataView(copy(await this.#r.take(4)).buffer).getUint32(0, true);
	}

	async #u64(): Promise<number> {
		const n = new DataView(copy(await this.#r.take(8)).buffer).getBigUint64(
			0,
			true,
		);
		if (n > BigInt(Number.MAX_SAFE_INTEGER))
			throw new TruncatedError(
				`pickle: length ${n} at ${this.#r.pos - 8} runs past the end`,
			);
		return Number(n);
	}

	async #lineBytes(): Promise<Uint8Array> {
		const b = await this.#r.line(LINE_MAX);
		this.#charge(b.length);
		return b;
	}

	async #line(): Promise<string> {
		const b = await this.#lineBytes();
		try {
			return utf8.decode(b);
		} catch (err) {
			throw new MalformedError("pickle: text argument is not UTF-8", {
				cause: err,
			});
		}
	}

	#charge(n: number): void {
		this.#s.inline += n;
		if (this.#s.inline > this.#s.limits.maxInlineBytes)
			throw new LimitExceededError(
				`pickle: more than ${this.#s.limits.maxInlineBytes} bytes of inline data`,
			);
	}

	async #inline(n: number, what: string): Promise<Uint8Array> {
		if (n > this.#r.remaining)
			throw new TruncatedError(
				`pickle: ${what} of ${n} bytes at ${this.#r.pos} runs past the end`,
			);
		this.#charge(n);
		return copy(await this.#r.take(n));
	}

	async #text(n: number): Promise<string> {
		const b = await this.#inline(n, "string");
		try {
			return utf8.decode(b);
		} catch (err) {
			throw new MalformedError(
				`pickle: string at ${this.#r.pos - n} is not UTF-8`,
				{ cause: err },
			);
		}
	}

	async #payload(n: number, bytearray: boolean): Promise<DataRef> {
		const r = this.#r;
		if (n > r.remaining)
			throw new TruncatedError(
				`pickle: ${n}-byte payload at ${r.pos} runs past the end (${r.remaining} bytes left)`,
			);
		const space = r.input.space;
		if (n > this.#s.limits.inlineThreshold)
			return new ByteRange(await r.skip(n), n, space, bytearray);
		const offset = r.pos;
		this.#charge(n);
		return new PyBytes(copy(await r.take(n)), bytearray, { offset, space });
	}

	#long(b: Uint8Array): number | bigint {
		if (b.length === 0) return 0;
		let v = 0n;
		for (let i = b.length - 1; i >= 0; i--)
			v = (v << 8n) | BigInt(b[i] as number);
		if (((b[b.length - 1] as number) & 0x80) !== 0)
			v -= 1n << BigInt(8 * b.length);
		return normInt(v);
	}

	#textInt(s: string): number | bigint | boolean {
		if (s === "01") return true;
		if (s === "00") return false;
		if (!/^[+-]?\d{1,4300}$/.test(s))
			throw new MalformedError(
				`pickle: bad integer text ${JSON.stringify(s.slice(0, 40))}`,
			);
		return normInt(BigInt(s));
	}

	#decimal(s: string): number {
		if (!/^\d{1,10}$/.test(s))
			throw new MalformedError(
				`pickle: bad memo index ${JSON.stringify(s.slice(0, 40))}`,
			);
		return Number(s);
	}
}

/** A fresh copy on its own buffer (views from the reader are reused). */
function copy(b: Uint8Array): Uint8Array {
	return b.slice();
}

function normInt(v: bigint): number | bigint {
	return v >= BigInt(Number.MIN_SAFE_INTEGER) &&
		v <= BigInt(Number.MAX_SAFE_INTEGER)
		? Number(v)
		: v;
}

function textFloat(s: string): number {
	const t = s.trim().toLowerCase();
	if (t === "nan" || t === "-nan") return Number.NaN;
	if (t === "inf" || t === "+inf") return Number.POSITIVE_INFINITY;
	if (t === "-inf") return Number.NEGATIVE_INFINITY;
	const v = Number(t);
	if (t === "" || Number.isNaN(v))
		throw new MalformedError(
			`pickle: bad float text ${JSON.stringify(s.slice(0, 40))}`,
		);
	return v;
}

/** Protocol-0 UNICODE: raw-unicode-escape (latin-1 bytes with \uXXXX and \UXXXXXXXX). */
function rawUnicodeEscape(b: Uint8Array): string {
	let out = "";
	for (let i = 0; i < b.length; i++) {
		const c = b[i] as number;
		if (c === 0x5c && (b[i + 1] === 0x75 || b[i + 1] === 0x55)) {
			const n = b[i + 1] === 0x75 ? 4 : 8;
			const hex = String.fromCharCode(...b.subarray(i + 2, i + 2 + n));
			if (hex.length === n && /^[0-9a-fA-F]+$/.test(hex)) {
				const cp = Number.parseInt(hex, 16);
				if (cp > 0x10ffff)
					throw new MalformedError("pickle: UNICODE escape above U+10FFFF");
				out += String.fromCodePoint(cp);
				i += 1 + n;
				continue;
			}
		}
		out += String.fromCharCode(c);
	}
	return out;
}

/** Protocol-0 STRING: a quoted Python 2 str literal, decoded to bytes. */
function pyStringLiteral(b: Uint8Array): Uint8Array {
	const q = b[0];
	if (b.length < 2 || (q !== 0x27 && q !== 0x22) || b[b.length - 1] !== q)
		throw new MalformedError("pickle: STRING argument is not quoted");
	const out: number[] = [];
	for (let i = 1; i < b.length - 1; i++) {
		const c = b[i] as number;
		if (c !== 0x5c) {
			out.push(c);
			continue;
		}
		const n = b[++i];
		const simple: Record<number, number> = {
			110: 10,
			116: 9,
			114: 13,
			92: 0x5c,
			39: 0x27,
			34: 0x22,
			97: 7,
			98: 8,
			102: 12,
			118: 11,
		};
		if (n !== undefined && n in simple) out.push(simple[n] as number);
		else if (n === 0x78) {
			const v = Number.parseInt(
				String.fromCharCode(b[i + 1] ?? 0, b[i + 2] ?? 0),
				16,
			);
			if (Number.isNaN(v))
				throw new MalformedError("pickle: bad \\x escape in STRING");
			out.push(v);
			i += 2;
		} else if (n !== undefined && n >= 0x30 && n <= 0x37) {
			let v = n - 0x30;
			for (
				let k = 0;
				k < 2 && (b[i + 1] ?? 0) >= 0x30 && (b[i + 1] ?? 0) <= 0x37;
				k++
			)
				v = v * 8 + ((b[++i] as number) - 0x30);
			out.push(v & 0xff);
		} else out.push(0x5c, n ?? 0);
	}
	return Uint8Array.from(out);
}
