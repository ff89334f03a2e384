/**
 * Fixture manifests: paths and entries of `fixtures/formats/MANIFEST.json` and
 * `fixtures/pickle/MANIFEST.json`, written by the reference libraries.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root (holds `fixtures/`). */
export const REPO_ROOT: string = resolve(
	dirname(fileURLToPath(import.meta.url)),
	"../../..",
);
/** `fixtures/formats`. */
export const FORMATS_DIR: string = join(REPO_ROOT, "fixtures", "formats");
/** `fixtures/pickle`. */
export const PICKLE_DIR: string = join(REPO_ROOT, "fixtures", "pickle");

/** One `arrays[]` entry of the formats manifest (the fields tests use). */
export interface FormatsArrayEntry {
	readonly id: string;
	readonly format: "npy" | "raw" | "hdf5" | "zarr2" | "zarr3";
	readonly file: string;
	readonly dataset: string | null;
	readonly dtype: string;
	readonly itemsize: number;
	readonly descr?: unknown;
	readonly shape: readonly number[];
	readonly order: "C" | "F";
	readonly chunks: readonly number[] | null;
	readonly codecs: unknown;
	readonly fill_value: unknown;
	readonly attributes: Readonly<Record<string, unknown>>;
	readonly sha256: string;
	readonly sha256_kind: string;
	readonly sha256_le: string;
	readonly first_values: readonly unknown[];
	readonly details?: Readonly<Record<string, unknown>>;
	readonly expected?: Readonly<Record<string, unknown>>;
	readonly [key: string]: unknown;
}

/** The formats manifest. */
export interface FormatsManifest {
	readonly arrays: readonly FormatsArrayEntry[];
	readonly groups: readonly Readonly<Record<string, unknown>>[];
	readonly links: readonly Readonly<Record<string, unknown>>[];
	readonly [key: string]: unknown;
}

let formats: FormatsManifest | undefined;
let pickle: unknown;

/** `fixtures/formats/MANIFEST.json`, parsed once. */
export function formatsManifest(): FormatsManifest {
	formats ??= JSON.parse(
		readFileSync(join(FORMATS_DIR, "MANIFEST.json"), "utf8"),
	) as FormatsManifest;
	return formats;
}

/** `fixtures/pickle/MANIFEST.json`, parsed once. */
export function pickleManifest<T = Readonly<Record<string, unknown>>>(): T {
	pickle ??= JSON.parse(
		readFileSync(join(PICKLE_DIR, "MANIFEST.json"), "utf8"),
	);
	return pickle as T;
}

/** Hex sha256 of bytes. */
export function sha256(bytes: Uint8Array): string {
	return createHash("sha256").update(bytes).digest("hex");
}
