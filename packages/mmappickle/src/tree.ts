/**
 * The container view of a decoded pickle (architecture.md §4.7): arrays become members, dicts
 * (and lists or tuples) that contain arrays become groups with `outer/inner` paths, and every
 * other value becomes an attribute of its group. A masked array is two members: its data at
 * `key` and its boolean mask at `key.mask` (`mask` for a top-level masked array); the data
 * member's attributes hold `fill_value` and the mask's path.
 */
import {
	LimitExceededError,
	MalformedError,
	NotFoundError,
	type TreeEntry,
} from "@arraystore/core";
import {
	ArrayRef,
	MaskedArrayRef,
	PyBytes,
	PyDict,
	PyFloat,
	PyTuple,
	type PyValue,
} from "./pickle-vm/values.js";

/** One member of the tree. */
export type Member =
	| {
			readonly kind: "array";
			readonly ref: ArrayRef;
			readonly attrs: ReadonlyMap<string, PyValue>;
			readonly nested: boolean;
	  }
	| { readonly kind: "group"; readonly attrs: Map<string, PyValue> };

/** Members by path. */
export type Members = Map<string, Member>;

const MAX_DEPTH = 200;
const MAX_MEMBERS = 1_000_000;

/** The suffix of a masked array's mask member. */
export const MASK_SUFFIX = ".mask";

/** The mask member path of a masked array at `path`. */
export function maskPath(path: string): string {
	return path === "" ? "mask" : `${path}${MASK_SUFFIX}`;
}

/**
 * Adds `value` at `path`: an array member, a group (when it contains arrays) or, returned as
 * false, nothing (the caller stores it as an attribute of the parent).
 */
export function addValue(
	members: Members,
	path: string,
	value: PyValue,
	nested: boolean,
	depth = 0,
): boolean {
	if (depth > MAX_DEPTH)
		throw new MalformedError("pickle: containers nested too deeply");
	if (members.size > MAX_MEMBERS)
		throw new LimitExceededError(
			`pickle: more than ${MAX_MEMBERS} arrays and groups`,
		);
	if (value instanceof ArrayRef) {
		members.set(path, { kind: "array", ref: value, attrs: new Map(), nested });
		return true;
	}
	if (value instanceof MaskedArrayRef) {
		const mp = maskPath(path);
		members.set(path, {
			kind: "array",
			ref: value.data,
			attrs: new Map<string, PyValue>([
				["fill_value", value.fillValue],
				["mask", mp],
			]),
			nested,
		});
		if (!members.has(mp))
			members.set(mp, {
				kind: "array",
				ref: value.mask,
				attrs: new Map(),
				nested,
			});
		return true;
	}
	const children = childrenOf(value);
	if (children === null || !containsArray(value, depth)) return false;
	const group: Member = { kind: "group", attrs: new Map() };
	members.set(path, group);
	for (const [name, child] of children) {
		const p = path === "" ? name : `${path}/${name}`;
		if (!addValue(members, p, child, nested, depth + 1))
			group.attrs.set(name, child);
	}
	return true;
}

/** Entries under `path` (sorted), as `ContainerDriver.list` returns them. */
export function listMembers(
	members: Members,
	path: string,
	recursive: boolean,
): TreeEntry[] {
	const own = members.get(path);
	if (path !== "" && own === undefined)
		throw new NotFoundError(`no member ${JSON.stringify(path)}`);
	if (own?.kind === "array")
		return path === "" ? [{ path: "", kind: "array" }] : [];
	const prefix = path === "" ? "" : `${path}/`;
	const out: TreeEntry[] = [];
	for (const [p, m] of members) {
		if (p === path || !p.startsWith(prefix)) continue;
		if (!recursive && p.slice(prefix.length).includes("/")) continue;
		out.push({ path: p, kind: m.kind });
	}
	return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** A dict key as a path segment. */
export function keyName(k: PyValue): string {
	if (typeof k === "string") return k;
	if (typeof k === "number" || typeof k === "bigint") return String(k);
	if (typeof k === "boolean") return k ? "True" : "False";
	if (k === null) return "None";
	if (k instanceof PyFloat) return String(k.value);
	if (k instanceof PyBytes) return Buffer.from(k.bytes).toString("latin1");
	if (k instanceof PyTuple) return `(${k.items.map(keyName).join(", ")})`;
	return String(k);
}

// --- internal ---

function childrenOf(v: PyValue): [string, PyValue][] | null {
	if (v instanceof PyDict)
		return [...v.entries.values()].map(([k, val]) => [keyName(k), val]);
	if (Array.isArray(v)) return v.map((x, i) => [String(i), x]);
	if (v instanceof PyTuple) return v.items.map((x, i) => [String(i), x]);
	return null;
}

// Memoised per object: memo sharing can make a small pickle an exponentially large tree.
const hasArray = new WeakMap<object, boolean>();

function containsArray(v: PyValue, depth: number): boolean {
	if (depth > MAX_DEPTH)
		throw new MalformedError("pickle: containers nested too deeply");
	if (v instanceof ArrayRef || v instanceof MaskedArrayRef) return true;
	const items =
		v instanceof PyDict
			? [...v.entries.values()].map(([, x]) => x)
			: Array.isArray(v)
				? v
				: v instanceof PyTuple
					? v.items
					: null;
	if (items === null || v === null || typeof v !== "object") return false;
	const known = hasArray.get(v);
	if (known !== undefined) return known;
	hasArray.set(v, false); // cycles count as array-free
	const r = items.some((x) => containsArray(x, depth + 1));
	hasArray.set(v, r);
	return r;
}
