/**
 * The machine state of one pickle VM run: the stack with its MARK regions and the memo. Every
 * push, mark and memo write is checked against the run's limits; misuse (underflow, a missing
 * MARK, a memo read before its write, unhashable keys) is a `MalformedError`.
 */
import { LimitExceededError, MalformedError } from "@arraystore/core";
import type { ByteReader } from "./byte-reader.js";
import type { VmLimits } from "./limits.js";
import { PyDict, type PySet, type PyValue } from "./values.js";

/** Stack, marks and memo of one run. */
export class VmState {
	readonly #r: ByteReader;
	readonly #limits: VmLimits;
	readonly #stack: PyValue[] = [];
	readonly #marks: number[] = [];
	readonly #memo = new Map<number, PyValue>();

	/** `reader` only locates errors; `limits` bounds the stack, marks and memo. */
	constructor(reader: ByteReader, limits: VmLimits) {
		this.#r = reader;
		this.#limits = limits;
	}

	/** Memo entries so far (MEMOIZE's next index). */
	get memoSize(): number {
		return this.#memo.size;
	}

	/** MARK: opens a region at the current stack height. */
	mark(): void {
		if (this.#marks.length >= this.#limits.maxMarks)
			throw new LimitExceededError(
				`pickle: more than ${this.#limits.maxMarks} nested MARKs`,
			);
		this.#marks.push(this.#stack.length);
	}

	/** POP: drops the top value, or the MARK itself when the current region is empty. */
	popValueOrMark(): void {
		// CPython pops the MARK itself when the current region is empty (mmappickle relies on it).
		if (this.#stack.length === this.#base() && this.#marks.length > 0)
			this.#marks.pop();
		else this.pop();
	}

	push(v: PyValue): void {
		if (this.#stack.length >= this.#limits.maxStack)
			throw new LimitExceededError(
				`pickle: stack deeper than ${this.#limits.maxStack}`,
			);
		this.#stack.push(v);
	}

	pop(): PyValue {
		if (this.#stack.length <= this.#base())
			throw new MalformedError(`pickle: stack underflow at ${this.#r.pos - 1}`);
		return this.#stack.pop() as PyValue;
	}

	top(): PyValue {
		if (this.#stack.length <= this.#base())
			throw new MalformedError(`pickle: stack underflow at ${this.#r.pos - 1}`);
		return this.#stack[this.#stack.length - 1] as PyValue;
	}

	/** Closes the innermost MARK region and returns its values. */
	popMark(): PyValue[] {
		if (this.#marks.length === 0)
			throw new MalformedError(`pickle: no MARK at ${this.#r.pos - 1}`);
		const base = this.#marks.pop() as number;
		return this.#stack.splice(base);
	}

	/** The list on top of the stack (APPEND, APPENDS). */
	list(at: number): PyValue[] {
		const l = this.top();
		if (!Array.isArray(l))
			throw new MalformedError(`pickle: APPEND to a non-list at ${at}`);
		return l;
	}

	/** The dict on top of the stack (SETITEM, SETITEMS). */
	dict(at: number): PyDict {
		const d = this.top();
		if (!(d instanceof PyDict))
			throw new MalformedError(`pickle: SETITEM on a non-dict at ${at}`);
		return d;
	}

	/** Sets alternating keys and values into `d`. */
	setItems(d: PyDict, items: readonly PyValue[], at: number): void {
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

	/** Adds one item to a set. */
	add(s: PySet, v: PyValue, at: number): void {
		try {
			s.add(v);
		} catch (err) {
			throw new MalformedError(`pickle: unhashable set item at ${at}`, {
				cause: err,
			});
		}
	}

	/** Memoizes the top of the stack at index `i`. */
	put(i: number): void {
		if (!this.#memo.has(i) && this.#memo.size >= this.#limits.maxMemo)
			throw new LimitExceededError(
				`pickle: memo larger than ${this.#limits.maxMemo}`,
			);
		this.#memo.set(i, this.top());
	}

	/** Pushes memo entry `i`. */
	get(i: number, at: number): void {
		const v = this.#memo.get(i);
		if (v === undefined)
			throw new MalformedError(
				`pickle: memo ${i} read before it was written (at ${at})`,
			);
		this.push(v);
	}

	/** The one value an mmappickle fragment must leave (no marks, nothing else). */
	endFragment(): PyValue {
		if (this.#marks.length !== 0 || this.#stack.length !== 1) {
			throw new MalformedError(
				`mmappickle value leaves ${this.#stack.length} values and ${this.#marks.length} marks (expected one value)`,
			);
		}
		return this.#stack[0] as PyValue;
	}

	#base(): number {
		return this.#marks.length > 0
			? (this.#marks[this.#marks.length - 1] as number)
			: 0;
	}
}
