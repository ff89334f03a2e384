/**
 * The contract between the VM's run loop and its opcode handlers: what a handler sees of the
 * run, and the dispatch table the groups of handlers are assembled into.
 */
import type { ArgReader } from "./arg-reader.js";
import type { ByteReader } from "./byte-reader.js";
import type { PyValue } from "./values.js";
import type { VmState } from "./vm-state.js";

/** One run as a handler sees it. */
export interface OpContext {
	readonly reader: ByteReader;
	readonly args: ArgReader;
	readonly state: VmState;
	/** Reports that the handler of global `name` is applied (`VmOptions.onApply`). */
	report(name: string): void;
	/**
	 * Runs a complete pickle nested at the reader's position (joblib object arrays), within
	 * the nesting limit.
	 */
	nested(): Promise<PyValue>;
}

/**
 * Executes one opcode whose byte was read at `at`. Handlers that read no argument are
 * synchronous, so the loop only awaits the ones that do.
 */
export type OpHandler = (
	vm: OpContext,
	op: number,
	at: number,
) => void | Promise<void>;

/** Handlers of one group of opcodes, by opcode byte. */
export type OpHandlers = ReadonlyMap<number, OpHandler>;

/** Merges the groups (each opcode belongs to one) into a 256-entry table. */
export function dispatchTable(
	...groups: readonly OpHandlers[]
): readonly (OpHandler | undefined)[] {
	const table: (OpHandler | undefined)[] = new Array(256).fill(undefined);
	for (const group of groups)
		for (const [op, handler] of group) table[op] = handler;
	return table;
}
