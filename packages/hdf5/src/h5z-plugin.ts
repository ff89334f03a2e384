/**
 * The bytes of `plugin/libH5Zarraystore.so`: a hand-assembled Emscripten side module (a wasm
 * binary with a `dylink.0` section) that HDF5's plugin loader inside h5wasm can `dlopen`. It
 * holds no filter code: `H5PLget_plugin_info` asks JavaScript for the filter class, passing
 * the table slot of a trampoline that forwards every filter call to JavaScript
 * (js-filter.ts). Both imports resolve through the main module's import object, where
 * module.ts adds them. The file is committed; test/js-filter.test.ts checks it against this.
 *
 * ```wat
 * (module
 *   (import "env" "__table_base" (global $tb i32))
 *   (import "env" "__indirect_function_table" (table 0 funcref))
 *   (import "env" "arraystore_h5z_info" (func $info (param i32) (result i32)))
 *   (import "env" "arraystore_h5z_filter" (func $filter (param i32 i32 i32 i32 i32 i32) (result i32)))
 *   (func (export "H5PLget_plugin_type") (result i32) (i32.const 0))        ;; H5PL_TYPE_FILTER
 *   (func (export "H5PLget_plugin_info") (result i32) (call $info (global.get $tb)))
 *   (func $trampoline (param i32 i32 i32 i32 i32 i32) (result i32)
 *     (call $filter (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4) (local.get 5)))
 *   (elem (global.get $tb) func $trampoline))
 * ```
 */

/** File name HDF5's plugin search picks up (`lib*.so`). */
export const PLUGIN_FILE = "libH5Zarraystore.so";

function leb(n: number): number[] {
	const out: number[] = [];
	let v = n;
	do {
		let b = v & 0x7f;
		v >>>= 7;
		if (v !== 0) b |= 0x80;
		out.push(b);
	} while (v !== 0);
	return out;
}

function name(s: string): number[] {
	return [...leb(s.length), ...new TextEncoder().encode(s)];
}

function section(id: number, body: number[]): number[] {
	return [id, ...leb(body.length), ...body];
}

function vec(items: number[][]): number[] {
	return [...leb(items.length), ...items.flat()];
}

function body(code: number[]): number[] {
	const b = [0, ...code, 0x0b]; // no locals
	return [...leb(b.length), ...b];
}

const I32 = 0x7f;
const FUNC = 0x60;

/** The side module's bytes. */
export function pluginBytes(): Uint8Array {
	// dylink.0 / WASM_DYLINK_MEM_INFO: no memory, one table slot (the trampoline).
	const dylink = [...name("dylink.0"), 1, ...leb(4), 0, 0, 1, 0];
	const types = vec([
		[FUNC, 0, 1, I32],
		[FUNC, 1, I32, 1, I32],
		[FUNC, 6, I32, I32, I32, I32, I32, I32, 1, I32],
	]);
	const imports = vec([
		[...name("env"), ...name("__table_base"), 3, I32, 0],
		[...name("env"), ...name("__indirect_function_table"), 1, 0x70, 0, 0],
		[...name("env"), ...name("arraystore_h5z_info"), 0, 1],
		[...name("env"), ...name("arraystore_h5z_filter"), 0, 2],
	]);
	// Functions 0 and 1 are the imports; 2, 3 and 4 are defined here.
	const functions = vec([[0], [0], [2]]);
	const exports = vec([
		[...name("H5PLget_plugin_type"), 0, 2],
		[...name("H5PLget_plugin_info"), 0, 3],
	]);
	// Active segment in table 0 at __table_base (global 0): the trampoline.
	const elements = vec([[0, 0x23, 0, 0x0b, ...vec([[4]])]]);
	const code = vec([
		body([0x41, 0]),
		body([0x23, 0, 0x10, 0]),
		body([0x20, 0, 0x20, 1, 0x20, 2, 0x20, 3, 0x20, 4, 0x20, 5, 0x10, 1]),
	]);
	return new Uint8Array([
		0x00,
		0x61,
		0x73,
		0x6d,
		1,
		0,
		0,
		0,
		...section(0, dylink),
		...section(1, types),
		...section(2, imports),
		...section(3, functions),
		...section(7, exports),
		...section(9, elements),
		...section(10, code),
	]);
}
