/**
 * A bounded pickle virtual machine (protocols 0–5) that never executes anything. Globals are
 * resolved against the exact allowlist when they are pushed; REDUCE, NEWOBJ and BUILD dispatch
 * to data-only handlers. Every length is checked before anything is allocated, and every limit
 * (operations, memo, stack, marks, inline bytes, nesting) raises `LimitExceededError`.
 *
 * This file is the run loop; the opcodes live in groups (ops-stack, ops-scalars,
 * ops-containers, ops-calls), the machine state in vm-state, argument reading in arg-reader.
 */
import { LimitExceededError, MalformedError } from "@arraystore/core";
import { ArgReader } from "./arg-reader.js";
import type { ByteReader } from "./byte-reader.js";
import {
	DEFAULT_VM_LIMITS,
	type VmBudget,
	type VmLimits,
	type VmOptions,
} from "./limits.js";
import { dispatchTable, type OpContext } from "./op-handler.js";
import { OP } from "./opcodes.js";
import { CALL_OPS } from "./ops-calls.js";
import { CONTAINER_OPS } from "./ops-containers.js";
import { SCALAR_OPS } from "./ops-scalars.js";
import { STACK_OPS } from "./ops-stack.js";
import type { PyValue } from "./values.js";
import { VmState } from "./vm-state.js";

export { DEFAULT_VM_LIMITS, type VmLimits, type VmOptions };

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
	const budget: VmBudget = {
		limits: { ...DEFAULT_VM_LIMITS, ...options.limits },
		inline: 0,
		ops: 0,
		onApply: options.onApply,
	};
	return new Vm(reader, budget, 0, options.fragment === true).run();
}

const HANDLERS = dispatchTable(STACK_OPS, SCALAR_OPS, CONTAINER_OPS, CALL_OPS);

class Vm implements OpContext {
	readonly reader: ByteReader;
	readonly args: ArgReader;
	readonly state: VmState;
	readonly #budget: VmBudget;
	readonly #depth: number;
	readonly #fragment: boolean;

	constructor(
		reader: ByteReader,
		budget: VmBudget,
		depth: number,
		fragment: boolean,
	) {
		this.reader = reader;
		this.args = new ArgReader(reader, budget);
		this.state = new VmState(reader, budget.limits);
		this.#budget = budget;
		this.#depth = depth;
		this.#fragment = fragment;
	}

	async run(): Promise<PyValue> {
		const r = this.reader;
		const lim = this.#budget.limits;
		for (;;) {
			if (this.#fragment && r.remaining <= 0) return this.state.endFragment();
			if (++this.#budget.ops > lim.maxOps)
				throw new LimitExceededError(`pickle: more than ${lim.maxOps} opcodes`);
			const at = r.pos;
			const op = await r.u8();
			if (op === OP.STOP) {
				if (this.#fragment)
					throw new MalformedError(
						`pickle: STOP inside an mmappickle value (at ${at})`,
					);
				return this.state.pop();
			}
			const handle = HANDLERS[op];
			if (handle === undefined)
				throw new MalformedError(
					`pickle: unknown opcode 0x${op.toString(16).padStart(2, "0")} at ${at}`,
				);
			const pending = handle(this, op, at);
			if (pending instanceof Promise) await pending;
		}
	}

	report(name: string): void {
		this.#budget.onApply?.(name);
	}

	nested(): Promise<PyValue> {
		if (this.#depth + 1 > this.#budget.limits.maxNesting)
			throw new LimitExceededError(
				"pickle: nested pickles deeper than the limit",
			);
		return new Vm(this.reader, this.#budget, this.#depth + 1, false).run();
	}
}
