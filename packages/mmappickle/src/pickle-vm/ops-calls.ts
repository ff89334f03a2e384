/**
 * Opcodes that name or call globals — the allowlist's business: GLOBAL, STACK_GLOBAL, REDUCE,
 * NEWOBJ, NEWOBJ_EX, INST, OBJ and BUILD (including joblib's NumpyArrayWrapper, whose array
 * bytes follow the BUILD in the stream), and the refusals: copyreg extensions, persistent IDs
 * and out-of-band buffers.
 */
import {
	ForbiddenGlobalError,
	MalformedError,
	shapeSize,
	UnsupportedError,
} from "@arraystore/core";
import { resolveGlobal } from "./allowlist.js";
import { arrayRef } from "./call-checks.js";
import { applyBuild, applyNewObj, applyReduce } from "./handlers.js";
import type { OpContext, OpHandler, OpHandlers } from "./op-handler.js";
import { OP } from "./opcodes.js";
import {
	ArrayRef,
	ObjectArrayRef,
	Pending,
	PyDict,
	PyGlobal,
	PyTuple,
	type PyValue,
} from "./values.js";
import { wrapperState } from "./wrapper-state.js";

/** Global, call, BUILD and refused-opcode handlers. */
export const CALL_OPS: OpHandlers = new Map<number, OpHandler>([
	[
		OP.GLOBAL,
		async (vm) => {
			const module = await vm.args.line();
			const name = await vm.args.line();
			vm.state.push(global(module, name));
		},
	],
	[
		OP.STACK_GLOBAL,
		(vm, _op, at) => {
			const name = vm.state.pop();
			const module = vm.state.pop();
			if (typeof module !== "string" || typeof name !== "string")
				throw new MalformedError(
					`pickle: STACK_GLOBAL of non-strings at ${at}`,
				);
			vm.state.push(global(module, name));
		},
	],
	[
		OP.REDUCE,
		(vm) => {
			const args = vm.state.pop();
			const fn = vm.state.pop();
			vm.state.push(apply(vm, fn, () => applyReduce(fn, args)));
		},
	],
	[
		OP.NEWOBJ,
		(vm) => {
			const args = vm.state.pop();
			const cls = vm.state.pop();
			vm.state.push(apply(vm, cls, () => applyNewObj(cls, args)));
		},
	],
	[
		OP.NEWOBJ_EX,
		(vm, _op, at) => {
			const kwargs = vm.state.pop();
			const args = vm.state.pop();
			const cls = vm.state.pop();
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
			vm.state.push(apply(vm, cls, () => applyNewObj(cls, args)));
		},
	],
	[
		OP.INST,
		async (vm) => {
			const module = await vm.args.line();
			const name = await vm.args.line();
			const g = global(module, name);
			const args = new PyTuple(vm.state.popMark());
			vm.state.push(apply(vm, g, () => applyReduce(g, args)));
		},
	],
	[
		OP.OBJ,
		(vm) => {
			const items = vm.state.popMark();
			const cls = items[0] ?? null;
			vm.state.push(
				apply(vm, cls, () => applyReduce(cls, new PyTuple(items.slice(1)))),
			);
		},
	],
	[
		OP.BUILD,
		async (vm) => {
			const state = vm.state.pop();
			const obj = vm.state.pop();
			if (obj instanceof Pending && obj.kind === "wrapper")
				vm.state.push(await wrappedArray(vm, state));
			else vm.state.push(applyBuild(obj, state));
		},
	],
	[OP.EXT1, extension],
	[OP.EXT2, extension],
	[OP.EXT4, extension],
	[OP.PERSID, persistentId],
	[OP.BINPERSID, persistentId],
	[OP.NEXT_BUFFER, outOfBand],
	[OP.READONLY_BUFFER, outOfBand],
]);

/** Runs a data-only handler, reporting the global it belongs to. */
function apply(vm: OpContext, target: PyValue, fn: () => PyValue): PyValue {
	if (target instanceof PyGlobal) vm.report(target.name);
	return fn();
}

function global(module: string, name: string): PyGlobal {
	return new PyGlobal(`${module}.${name}`, resolveGlobal(module, name));
}

/**
 * BUILD of joblib's NumpyArrayWrapper: the array's bytes follow in the stream (after an
 * optional pad), or, for object arrays, a complete nested pickle.
 */
async function wrappedArray(vm: OpContext, state: PyValue): Promise<PyValue> {
	const r = vm.reader;
	vm.report("joblib.numpy_pickle.NumpyArrayWrapper");
	const ws = wrapperState(state);
	if (ws.dtype === null) {
		// Object arrays: the "raw bytes" are a complete nested pickle (protocol 5).
		const nested = await vm.nested();
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
	const n = shapeSize(ws.shape) * ws.dtype.itemsize;
	if (!Number.isSafeInteger(n))
		throw new MalformedError("joblib: array too large");
	const data = await vm.args.payload(n, false);
	return arrayRef(ws.dtype, ws.shape, ws.order === "F", data);
}

/** EXT1/EXT2/EXT4: copyreg's extension registry could name any callable. */
async function extension(vm: OpContext, op: number): Promise<void> {
	const n =
		op === OP.EXT1
			? await vm.reader.u8()
			: op === OP.EXT2
				? (await vm.reader.take(2)).reduce((a, b, i) => a | (b << (8 * i)), 0)
				: await vm.args.u32();
	throw new ForbiddenGlobalError(
		`pickle extension code ${n} (copyreg registry) is not allowed`,
		{ global: `<extension ${n}>` },
	);
}

function persistentId(_vm: OpContext, _op: number, at: number): never {
	throw new UnsupportedError(
		`pickle persistent IDs (at ${at}) refer to objects outside the file`,
	);
}

function outOfBand(_vm: OpContext, _op: number, at: number): never {
	throw new UnsupportedError(
		`pickle out-of-band buffers (at ${at}) cannot be resolved from a file`,
	);
}
