/** Types of wasm-binary.mjs (plain JavaScript shared with worker threads). */
export declare function uleb(n: number): number[];
export declare function sleb(n: number): number[];
export declare const vec: (
	items: readonly (number | readonly number[])[],
) => number[];
export declare const section: (id: number, body: readonly number[]) => number[];
export declare const name: (s: string) => number[];
export declare function wasmModule(
	sections: readonly (readonly number[])[],
): Uint8Array;
