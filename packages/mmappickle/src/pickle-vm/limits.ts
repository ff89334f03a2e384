/**
 * The hard limits of a pickle VM run and the budget that nested runs share: every counter a
 * hostile file could inflate (opcodes, memo, stack, marks, inline bytes, nesting) is capped here.
 */

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

/** What one run and all the pickles nested in it spend together. */
export interface VmBudget {
	readonly limits: VmLimits;
	/** Bytes copied into memory so far. */
	inline: number;
	/** Opcodes executed so far. */
	ops: number;
	readonly onApply: ((name: string) => void) | undefined;
}
