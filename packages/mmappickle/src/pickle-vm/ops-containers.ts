/**
 * Opcodes that build containers from stack values: tuples (EMPTY_TUPLE, TUPLE1–3, TUPLE),
 * lists (EMPTY_LIST, LIST, APPEND, APPENDS), dicts (EMPTY_DICT, DICT, SETITEM, SETITEMS) and
 * sets (EMPTY_SET, ADDITEMS, FROZENSET).
 */
import { MalformedError } from "@arraystore/core";
import type { OpContext, OpHandler, OpHandlers } from "./op-handler.js";
import { OP } from "./opcodes.js";
import { PyDict, PySet, PyTuple, type PyValue } from "./values.js";

/** Tuple, list, dict and set handlers. */
export const CONTAINER_OPS: OpHandlers = new Map<number, OpHandler>([
	[OP.EMPTY_TUPLE, (vm) => vm.state.push(new PyTuple([]))],
	[OP.TUPLE1, smallTuple],
	[OP.TUPLE2, smallTuple],
	[OP.TUPLE3, smallTuple],
	[OP.TUPLE, (vm) => vm.state.push(new PyTuple(vm.state.popMark()))],
	[OP.EMPTY_LIST, (vm) => vm.state.push([])],
	[OP.LIST, (vm) => vm.state.push(vm.state.popMark())],
	[
		OP.APPEND,
		(vm, _op, at) => {
			const v = vm.state.pop();
			vm.state.list(at).push(v);
		},
	],
	[
		OP.APPENDS,
		(vm, _op, at) => {
			const items = vm.state.popMark();
			const list = vm.state.list(at);
			for (const v of items) list.push(v);
		},
	],
	[OP.EMPTY_DICT, (vm) => vm.state.push(new PyDict())],
	[
		OP.DICT,
		(vm, _op, at) => {
			const items = vm.state.popMark();
			const d = new PyDict();
			vm.state.setItems(d, items, at);
			vm.state.push(d);
		},
	],
	[
		OP.SETITEM,
		(vm, _op, at) => {
			const v = vm.state.pop();
			const k = vm.state.pop();
			vm.state.setItems(vm.state.dict(at), [k, v], at);
		},
	],
	[
		OP.SETITEMS,
		(vm, _op, at) => {
			const items = vm.state.popMark();
			vm.state.setItems(vm.state.dict(at), items, at);
		},
	],
	[OP.EMPTY_SET, (vm) => vm.state.push(new PySet())],
	[
		OP.ADDITEMS,
		(vm, _op, at) => {
			const items = vm.state.popMark();
			const s = vm.state.top();
			if (!(s instanceof PySet) || s.frozen)
				throw new MalformedError(`pickle: ADDITEMS on a non-set at ${at}`);
			for (const v of items) vm.state.add(s, v, at);
		},
	],
	[
		OP.FROZENSET,
		(vm, _op, at) => {
			const s = new PySet(true);
			for (const v of vm.state.popMark()) vm.state.add(s, v, at);
			vm.state.push(s);
		},
	],
]);

/** TUPLE1, TUPLE2, TUPLE3: the top one, two or three values. */
function smallTuple(vm: OpContext, op: number): void {
	const n = op - OP.TUPLE1 + 1;
	const items: PyValue[] = [];
	for (let i = 0; i < n; i++) items.unshift(vm.state.pop());
	vm.state.push(new PyTuple(items));
}
