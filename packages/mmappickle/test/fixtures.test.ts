import { sha256 } from "@arraystore/conformance";
import { type AttrValue, isArrayStoreError } from "@arraystore/core";
import { describe, expect, it } from "vitest";
import {
	type ArrayEntry,
	hashAs,
	type KeyEntry,
	manifestFiles,
	openContainer,
} from "./helpers.js";

const files = manifestFiles();
const ok = files.filter((f) => f.expected.result === "ok");
const failing = files.filter((f) => f.expected.result === "error");

const code = (kind: string) => kind.toUpperCase();

async function errorCode(fn: () => Promise<unknown>): Promise<string> {
	try {
		await fn();
	} catch (err) {
		if (isArrayStoreError(err)) return err.code;
		throw err;
	}
	return "none";
}

/** The member path of a manifest key and the array entries to check there. */
function arraysOf(key: string, e: KeyEntry): [string, ArrayEntry][] {
	if (e.kind === "ndarray" && typeof e.sha256 === "string")
		return [[key, e as unknown as ArrayEntry]];
	if (e.kind === "masked_array")
		return [
			[key, e.data as ArrayEntry],
			[key === "" ? "mask" : `${key}.mask`, e.mask as ArrayEntry],
		];
	return [];
}

async function checkArray(
	c: Awaited<ReturnType<typeof openContainer>>,
	path: string,
	e: ArrayEntry,
): Promise<void> {
	await using a = await c.openArray(path);
	expect(a.info.shape).toEqual(e.shape);
	expect(a.info.dtype.str).toBe(e.dtype);
	const data = await a.read();
	expect(hashAs(data, e.dtype), path).toBe(e.sha256);
	const offset = e.data_offset ?? e.decompressed_data_offset;
	if (typeof offset === "number")
		expect(a.info.byteOffset, `${path} byteOffset`).toBe(offset);
}

function parentOf(key: string): [string, string] {
	const i = key.lastIndexOf("/");
	return i < 0 ? ["", key] : [key.slice(0, i), key.slice(i + 1)];
}

function plain(v: AttrValue): unknown {
	if (typeof v === "bigint")
		return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
	if (Array.isArray(v)) return v.map(plain);
	if (v !== null && typeof v === "object" && !("bytes" in v))
		return Object.fromEntries(
			Object.entries(v).map(([k, x]) => [k, plain(x as AttrValue)]),
		);
	return v;
}

describe("fixtures: every array of the pickle manifest", () => {
	let arrays = 0;
	for (const f of ok) {
		it(`reads ${f.path}`, async () => {
			await using c = await openContainer(f.path);
			const mayReject = {
				...f.expected.may_reject_keys,
				...f.expected.key_errors,
			};
			for (const [key, e] of Object.entries(f.keys ?? {})) {
				for (const [path, a] of arraysOf(key, e)) {
					const allowed = mayReject[key];
					if (allowed) {
						const got = await errorCode(() => checkArray(c, path, a));
						expect(["none", code(allowed)], path).toContain(got);
					} else await checkArray(c, path, a);
					if (key === "structured") await checkArray(c, path, a); // key_errors is a floor: we read it
					arrays++;
				}
				if (e.kind === "numpy_scalar") {
					await using s = await c.openArray(key);
					expect(s.info.shape).toEqual([]);
					expect(hashAs(await s.read(), e.dtype as string)).toBe(
						sha256(Buffer.from(e.item_hex as string, "hex")),
					);
				}
				if (e.kind === "python" && "value" in e) {
					const [parent, name] = parentOf(key);
					const attrs = await c.attrs(parent);
					expect(plain(attrs[name] as AttrValue), key).toEqual(e.value);
				}
				if (e.kind === "object_array") {
					const [parent, name] = parentOf(key);
					const allowed = mayReject[key];
					const got = await errorCode(async () => {
						const v = (await c.attrs(parent))[name];
						expect(
							Array.isArray(v) && v.length === (e.shape as number[])[0],
						).toBe(true);
					});
					expect(["none", ...(allowed ? [code(allowed)] : [])]).toContain(got);
				}
			}
		});
	}
	it("counted the manifest's arrays", () => {
		expect(arrays).toBeGreaterThanOrEqual(329);
	});
});

describe("fixtures: expected errors", () => {
	for (const f of failing) {
		it(`${f.path} fails with ${f.expected.error}`, async () => {
			const want = code(f.expected.error as string);
			if (f.expected.error_key) {
				const key = f.expected.error_key;
				const got = await errorCode(async () => {
					await using c = await openContainer(f.path);
					await using a = await c.openArray(key);
					await a.read();
				});
				expect(got).toBe(want);
				// Keys listed beside the error still read.
				await using c = await openContainer(f.path);
				for (const [k, e] of Object.entries(f.keys ?? {}))
					for (const [p, a] of arraysOf(k, e)) await checkArray(c, p, a);
				return;
			}
			const got = await errorCode(async () => {
				await using c = await openContainer(f.path);
				for (const entry of await c.list("", { recursive: true })) {
					if (entry.kind === "array") {
						await using a = await c.openArray(entry.path);
						await a.read();
					} else await c.attrs(entry.path);
				}
				await c.attrs("");
			});
			expect(got).toBe(want);
		});
	}
});
