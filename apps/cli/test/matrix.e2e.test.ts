import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { sha256, tempDir } from "@arraystore/conformance";
import {
	copyArray,
	isVString,
	parseDType,
	type ReadableArrayStore,
	sameLayout,
	swapInPlace,
} from "@arraystore/core";
import { describe, expect, it } from "vitest";
import { builtinRegistry } from "../src/adapters.js";
import { convert, events, pool } from "./e2e-helpers.js";
import { plainAttr } from "./helpers.js";
import {
	type FixtureArray,
	type FixtureFile,
	fixtureFiles,
	hdf5TooWide,
	supports,
	TARGETS,
	type Target,
} from "./matrix-fixtures.js";

const registry = builtinRegistry();
const FILES = fixtureFiles();
// Sources per CLI process (several sources into one directory, like cp).
const BATCH = 40;

interface NotCarried {
	readonly path: string;
	readonly what: string;
}

/** What one target's runs produced. */
interface TargetRun {
	readonly target: Target;
	readonly out: string;
	/** notCarried by output file. */
	readonly notCarried: Map<string, NotCarried[]>;
	/** Source files converted array by array (--dataset), whose groups are not copied. */
	readonly subset: Set<string>;
	readonly failures: string[];
}

function targetArgs(t: Target): string[] {
	return t.name === "zarr2"
		? ["--to", "zarr", "--zarr-version", "2"]
		: t.name === "zarr3"
			? ["--to", "zarr", "--zarr-version", "3"]
			: ["--to", t.to];
}

// The output file (and the array inside it) where `a` lands for target `t` under `dir`.
function locate(
	t: Target,
	dir: string,
	a: FixtureArray,
): { file: string; inner: string } | null {
	if (t.single) {
		const candidates =
			a.path === ""
				? [
						join(dir, `${a.stem}${t.ext}`),
						join(dir, a.stem, `${a.stem}${t.ext}`),
					]
				: [join(dir, a.stem, `${a.path}${t.ext}`)];
		const file = candidates.find((c) => existsSync(c));
		return file ? { file, inner: "" } : null;
	}
	const file = join(dir, `${a.stem}${t.ext}`);
	if (!existsSync(file)) return null;
	return {
		file,
		inner: a.path !== "" ? a.path : t.name.startsWith("zarr") ? "" : a.stem,
	};
}

async function runTarget(t: Target, root: string): Promise<TargetRun> {
	const out = join(root, "out", t.name);
	const failDir = join(root, "refused", t.name);
	const run: TargetRun = {
		target: t,
		out,
		notCarried: new Map(),
		subset: new Set(),
		failures: [],
	};
	const record = (stdout: string) => {
		const done = events(stdout).find((e) => e.event === "done") as
			| { outputs: { output: string; notCarried: NotCarried[] }[] }
			| undefined;
		for (const o of done?.outputs ?? [])
			run.notCarried.set(o.output, o.notCarried);
	};
	const tasks: (() => Promise<void>)[] = [];
	const groups = new Map<string, FixtureFile[]>();
	for (const f of FILES)
		groups.set(f.group, [...(groups.get(f.group) ?? []), f]);
	for (const [group, files] of groups) {
		const dir = join(out, group);
		const whole = files.filter(
			(f) =>
				f.arrays.every((a) => supports(t.name, a)) &&
				(f.arrays.length > 0 || !t.single),
		);
		for (let i = 0; i < whole.length; i += BATCH) {
			const batch = whole.slice(i, i + BATCH);
			// One source alone gets its own directory, so array files are named as in a batch.
			const dst =
				batch.length === 1 && t.single
					? `${join(dir, batch[0]?.stem ?? "")}/`
					: `${dir}/`;
			tasks.push(async () => {
				const r = await convert([
					...batch.map((f) => f.file),
					dst,
					...targetArgs(t),
					"--json",
				]);
				if (r.code !== 0)
					run.failures.push(
						`${t.name}: batch ${group} failed (${r.code}): ${r.stderr.trim()}`,
					);
				record(r.stdout);
			});
		}
		// Records HDF5 cannot describe have their own test below.
		const gap = (x: FixtureFile) =>
			t.name === "hdf5" && x.arrays.some(hdf5TooWide);
		for (const f of files.filter(
			(x) => !whole.includes(x) && x.arrays.length > 0 && !gap(x),
		)) {
			const ok = f.arrays.filter((a) => supports(t.name, a));
			const refused = join(
				failDir,
				group,
				t.single ? `${f.stem}/` : `${f.stem}${t.ext}`,
			);
			tasks.push(async () => {
				// The whole file cannot be expressed: refused before any output exists.
				const r = await convert([f.file, refused, ...targetArgs(t)]);
				const where = `${t.name}: ${f.file}`;
				if (r.code !== 1 || !/^convert: UNSUPPORTED_DTYPE: /.test(r.stderr))
					run.failures.push(
						`${where}: expected UNSUPPORTED_DTYPE, got ${r.code}: ${r.stderr.trim()}`,
					);
				const left = existsSync(join(failDir, group))
					? await readdir(join(failDir, group), { recursive: true })
					: [];
				if (left.some((p) => String(p).startsWith(f.stem)))
					run.failures.push(
						`${where}: a refused conversion left ${left.join(", ")}`,
					);
				if (ok.length === 0) return;
				run.subset.add(f.file);
				// The arrays it can hold, picked with --dataset.
				const picks = ok.flatMap((a) => ["--dataset", a.dataset]);
				const dst = t.single
					? `${join(out, group, f.stem)}/`
					: join(out, group, `${f.stem}${t.ext}`);
				const s = await convert([
					f.file,
					dst,
					...targetArgs(t),
					...picks,
					"--json",
				]);
				if (s.code !== 0)
					run.failures.push(
						`${where}: --dataset subset failed (${s.code}): ${s.stderr.trim()}`,
					);
				record(s.stdout);
			});
		}
	}
	await pool(2, tasks);
	return run;
}

// Native bytes → the bytes the manifest hashed.
function hashOf(a: FixtureArray, bytes: Uint8Array, dtype: string): string {
	if (a.hashOf === "listed" && a.dtype.startsWith(">")) {
		const copy = bytes.slice();
		swapInPlace(parseDType(dtype), copy);
		return sha256(copy);
	}
	return sha256(bytes);
}

function vlenHash(values: readonly string[]): string {
	const parts = values.map((s) => Buffer.from(s, "utf8"));
	const out = Buffer.alloc(parts.reduce((n, p) => n + 4 + p.length, 0));
	let at = 0;
	for (const p of parts) {
		out.writeUInt32LE(p.length, at);
		p.copy(out, at + 4);
		at += 4 + p.length;
	}
	return sha256(out);
}

// Reads an output array back through a .npy written by the engine, and checks it.
async function checkArray(
	t: Target,
	a: FixtureArray,
	store: ReadableArrayStore,
	scratch: string,
	failures: string[],
): Promise<void> {
	const where = `${t.name}: ${a.id}`;
	const info = store.info;
	if (JSON.stringify(info.shape) !== JSON.stringify(a.shape))
		failures.push(`${where}: shape [${info.shape}] ≠ [${a.shape}]`);
	if (isVString(info.dtype)) {
		const got = vlenHash((await store.read()).data as unknown as string[]);
		if (got !== a.sha256) failures.push(`${where}: values differ (vlen)`);
		return;
	}
	// Records: the manifest's dtype.str has no fields; the layout is checked by the hash.
	const dtypeOk = a.structured
		? info.dtype.fields !== undefined &&
			info.dtype.itemsize === parseDType(a.dtype).itemsize
		: sameLayout(info.dtype, parseDType(a.dtype));
	if (!dtypeOk) failures.push(`${where}: dtype ${info.dtype.str} ≠ ${a.dtype}`);
	// Back to .npy.
	const npy = `${scratch}.npy`;
	const back = await registry.create(npy, {
		dtype: info.dtype,
		shape: info.shape,
		order: "C",
	});
	await copyArray(store, back);
	await back.close();
	await using again = await registry.open(npy);
	const got = hashOf(a, (await again.read()).bytes, a.dtype);
	if (got !== a.sha256)
		failures.push(
			`${where}: values differ after the round trip through ${t.name} and back to .npy`,
		);
}

function sameAttr(got: unknown, want: unknown): boolean {
	return JSON.stringify(plainAttr(got)) === JSON.stringify(want);
}

async function checkTarget(
	run: TargetRun,
	scratch: string,
): Promise<{ arrays: number; attrs: number }> {
	const t = run.target;
	let arrays = 0;
	let attrs = 0;
	const carried = (file: string, path: string, key: string) =>
		!(run.notCarried.get(file) ?? []).some(
			(n) =>
				n.path.replace(/^\/+/, "") === path &&
				(n.what.includes(JSON.stringify(key)) || /attributes/.test(n.what)),
		);
	for (const f of FILES) {
		for (const a of f.arrays) {
			if (!supports(t.name, a)) continue;
			const at = locate(t, join(run.out, a.group), a);
			if (!at) {
				run.failures.push(`${t.name}: ${a.id}: no output`);
				continue;
			}
			const store = await registry.open(
				at.inner ? `${at.file}#${at.inner}` : at.file,
			);
			try {
				await checkArray(
					t,
					a,
					store,
					join(scratch, `${t.name}-${arrays}`),
					run.failures,
				);
				arrays++;
				// Array attributes, where the target holds them.
				if (t.tree && a.attributes) {
					const got = await store.attrs();
					for (const [k, v] of Object.entries(a.attributes)) {
						if (!carried(at.file, a.path, k)) continue;
						attrs++;
						if (!sameAttr(got[k], v))
							run.failures.push(
								`${t.name}: ${a.id}: attribute ${k} = ${JSON.stringify(plainAttr(got[k]))}, want ${JSON.stringify(v)}`,
							);
					}
				}
			} catch (err) {
				run.failures.push(`${t.name}: ${a.id}: ${(err as Error).message}`);
			} finally {
				await store.close();
			}
		}
		// Groups and their attributes (tree targets), root attributes (mmappickle too).
		if (!t.attrs || f.groups.length === 0 || run.subset.has(f.file)) continue;
		const file = join(run.out, f.group, `${f.stem}${t.ext}`);
		if (!existsSync(file)) continue;
		await using c = await registry.openContainer(file);
		const groups = new Set(
			(await c.list("", { recursive: true }))
				.filter((e) => e.kind === "group")
				.map((e) => e.path.replace(/^\/+/, "")),
		);
		for (const g of f.groups) {
			if (g.path !== "" && !t.tree) continue;
			if (g.path !== "" && !groups.has(g.path)) {
				run.failures.push(`${t.name}: ${f.file}: group ${g.path} missing`);
				continue;
			}
			const got = await c.attrs(g.path);
			for (const [k, v] of Object.entries(g.attributes)) {
				if (!carried(file, g.path, k)) continue;
				attrs++;
				if (!sameAttr(got[k], v))
					run.failures.push(
						`${t.name}: ${f.file}: group ${g.path || "/"} attribute ${k} = ${JSON.stringify(plainAttr(got[k]))}, want ${JSON.stringify(v)}`,
					);
			}
		}
	}
	return { arrays, attrs };
}

describe("cli e2e: converter matrix", () => {
	it("every fixture array through every writable format and back to .npy", async () => {
		await using tmp = await tempDir();
		const total = FILES.reduce((n, f) => n + f.arrays.length, 0);
		expect(total).toBeGreaterThan(250);
		const summary: string[] = [];
		const failures: string[] = [];
		for (const t of TARGETS) {
			const run = await runTarget(t, tmp.path);
			const counts = await checkTarget(run, tmp.path);
			const refused = FILES.flatMap((f) => f.arrays).filter(
				(a) => !supports(t.name, a),
			).length;
			summary.push(
				`${t.name}: ${counts.arrays} arrays checked, ${counts.attrs} attributes, ${refused} refused as expected, ${run.failures.length} failures`,
			);
			failures.push(...run.failures);
		}
		console.log(summary.join("\n"));
		expect(failures).toEqual([]);
	});

	it("refuses a record HDF5 cannot describe (4000 fields) before creating any output", async () => {
		await using tmp = await tempDir();
		const f = FILES.find((x) => x.arrays.some(hdf5TooWide));
		expect(f).toBeDefined();
		const r = await convert([f?.file ?? "", tmp.join("wide.h5")]);
		expect(r.stderr).toMatch(/^convert: UNSUPPORTED_DTYPE: /);
		expect(r.code).toBe(1);
		expect(existsSync(tmp.join("wide.h5"))).toBe(false);
		expect(existsSync(tmp.join("wide.h5.partial"))).toBe(false);
	});
});
