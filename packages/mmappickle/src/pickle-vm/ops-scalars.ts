/**
 * Opcodes that push one scalar: None and the booleans, integers (BININT*, LONG1/LONG4 and the
 * protocol-0 INT/LONG text), floats, str (BINUNICODE*, UNICODE) and bytes (BINBYTES*,
 * BINSTRING*, BYTEARRAY8, STRING). Large byte payloads stay in the file as `ByteRange`s.
 */
import { MalformedError } from "@arraystore/core";
import {
	decodeLong,
	pyStringLiteral,
	rawUnicodeEscape,
	textFloat,
	textInt,
} from "./literals.js";
import type { OpContext, OpHandler, OpHandlers } from "./op-handler.js";
import { OP } from "./opcodes.js";
import { PyBytes, PyFloat } from "./values.js";

/** Number, string and bytes handlers. */
export const SCALAR_OPS: OpHandlers = new Map<number, OpHandler>([
	// --- numbers ---
	[OP.NONE, (vm) => vm.state.push(null)],
	[OP.NEWTRUE, (vm) => vm.state.push(true)],
	[OP.NEWFALSE, (vm) => vm.state.push(false)],
	[
		OP.BININT,
		async (vm) => {
			vm.state.push(await vm.args.i32());
		},
	],
	[
		OP.BININT1,
		async (vm) => {
			vm.state.push(await vm.args.u8());
		},
	],
	[
		OP.BININT2,
		async (vm) => {
			const b = await vm.reader.take(2);
			vm.state.push((b[0] as number) | ((b[1] as number) << 8));
		},
	],
	[
		OP.LONG1,
		async (vm) => {
			const n = await vm.args.u8();
			vm.state.push(decodeLong(await vm.args.inline(n, "LONG1")));
		},
	],
	[
		OP.LONG4,
		async (vm, _op, at) => {
			const n = await vm.args.i32();
			if (n < 0)
				throw new MalformedError(`pickle: LONG4 with negative length at ${at}`);
			vm.state.push(decodeLong(await vm.args.inline(n, "LONG4")));
		},
	],
	[
		OP.INT,
		async (vm) => {
			vm.state.push(textInt(await vm.args.line()));
		},
	],
	[
		OP.LONG,
		async (vm) => {
			vm.state.push(textInt((await vm.args.line()).replace(/L$/, "")));
		},
	],
	[
		OP.FLOAT,
		async (vm) => {
			vm.state.push(new PyFloat(textFloat(await vm.args.line())));
		},
	],
	[
		OP.BINFLOAT,
		async (vm) => {
			vm.state.push(new PyFloat(await vm.args.f64be()));
		},
	],
	// --- strings and bytes ---
	[
		OP.SHORT_BINUNICODE,
		async (vm) => {
			vm.state.push(await vm.args.text(await vm.args.u8()));
		},
	],
	[
		OP.BINUNICODE,
		async (vm) => {
			vm.state.push(await vm.args.text(await vm.args.u32()));
		},
	],
	[
		OP.BINUNICODE8,
		async (vm) => {
			vm.state.push(await vm.args.text(await vm.args.u64()));
		},
	],
	[
		OP.UNICODE,
		async (vm) => {
			vm.state.push(rawUnicodeEscape(await vm.args.lineBytes()));
		},
	],
	[OP.SHORT_BINBYTES, shortBytes],
	[OP.SHORT_BINSTRING, shortBytes],
	[
		OP.BINBYTES,
		async (vm) => {
			vm.state.push(await vm.args.payload(await vm.args.u32(), false));
		},
	],
	[
		OP.BINSTRING,
		async (vm, _op, at) => {
			const n = await vm.args.i32();
			if (n < 0)
				throw new MalformedError(
					`pickle: BINSTRING with negative length at ${at}`,
				);
			vm.state.push(await vm.args.payload(n, false));
		},
	],
	[
		OP.BINBYTES8,
		async (vm) => {
			vm.state.push(await vm.args.payload(await vm.args.u64(), false));
		},
	],
	[
		OP.BYTEARRAY8,
		async (vm) => {
			vm.state.push(await vm.args.payload(await vm.args.u64(), true));
		},
	],
	[
		OP.STRING,
		async (vm) => {
			vm.state.push(new PyBytes(pyStringLiteral(await vm.args.lineBytes())));
		},
	],
]);

/** SHORT_BINBYTES and SHORT_BINSTRING: a one-byte length, then the bytes. */
async function shortBytes(vm: OpContext): Promise<void> {
	vm.state.push(await vm.args.payload(await vm.args.u8(), false));
}
