/**
 * Opcodes that move values rather than make them: framing (PROTO, FRAME), the stack and its
 * MARKs (MARK, POP, POP_MARK, DUP) and the memo (MEMOIZE, PUT/BINPUT/LONG_BINPUT,
 * GET/BINGET/LONG_BINGET). STOP ends the run loop itself.
 */
import { TruncatedError, UnsupportedVersionError } from "@arraystore/core";
import { memoIndex } from "./literals.js";
import type { OpHandler, OpHandlers } from "./op-handler.js";
import { HIGHEST_PROTOCOL, OP } from "./opcodes.js";

/** Framing, stack and memo handlers. */
export const STACK_OPS: OpHandlers = new Map<number, OpHandler>([
	[
		OP.PROTO,
		async (vm, _op, at) => {
			const v = await vm.args.u8();
			if (v > HIGHEST_PROTOCOL)
				throw new UnsupportedVersionError(
					`pickle protocol ${v} (at ${at}) is newer than ${HIGHEST_PROTOCOL}`,
				);
		},
	],
	[
		OP.FRAME,
		async (vm, _op, at) => {
			// Frames only group opcodes; their length is checked, then the contents run as usual.
			const n = await vm.args.u64();
			if (n > vm.reader.remaining)
				throw new TruncatedError(
					`pickle: FRAME of ${n} bytes at ${at} runs past the end`,
				);
		},
	],
	[OP.MARK, (vm) => vm.state.mark()],
	[OP.POP, (vm) => vm.state.popValueOrMark()],
	[
		OP.POP_MARK,
		(vm) => {
			vm.state.popMark();
		},
	],
	[OP.DUP, (vm) => vm.state.push(vm.state.top())],
	[OP.MEMOIZE, (vm) => vm.state.put(vm.state.memoSize)],
	[
		OP.BINPUT,
		async (vm) => {
			vm.state.put(await vm.args.u8());
		},
	],
	[
		OP.LONG_BINPUT,
		async (vm) => {
			vm.state.put(await vm.args.u32());
		},
	],
	[
		OP.PUT,
		async (vm) => {
			vm.state.put(memoIndex(await vm.args.line()));
		},
	],
	[
		OP.BINGET,
		async (vm, _op, at) => {
			vm.state.get(await vm.args.u8(), at);
		},
	],
	[
		OP.LONG_BINGET,
		async (vm, _op, at) => {
			vm.state.get(await vm.args.u32(), at);
		},
	],
	[
		OP.GET,
		async (vm, _op, at) => {
			vm.state.get(memoIndex(await vm.args.line()), at);
		},
	],
]);
