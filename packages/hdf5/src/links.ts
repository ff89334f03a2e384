/**
 * Link resolution with HDF5 kept from following anything on its own: soft links inside the
 * file are fine (HDF5 resolves them within the file), but external links read other files, so
 * every path is checked component by component before HDF5 sees it. Following an external
 * link is opt-in, and then only into files inside the source file's directory.
 */
import { realpathSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import {
	InvalidSelectionError,
	NotFoundError,
	UnsupportedError,
} from "@arraystore/core";
import { ADAPTER } from "./errors.js";
import type { H5File } from "./file-handle.js";

/** How the object at a path is reached. */
export type LinkKind =
	| { readonly kind: "hard"; readonly type: "group" | "dataset" | "other" }
	| {
			readonly kind: "soft";
			readonly target: string;
			readonly resolves: "group" | "dataset" | "other" | null;
	  }
	| { readonly kind: "external"; readonly file: string; readonly path: string };

/**
 * The link at one absolute path (null when nothing is there); never follows external links.
 * `listed` says the caller just found the name in its parent group's listing (a walk over a
 * group), which skips the component-by-component existence check.
 */
export function linkAt(
	file: H5File,
	path: string,
	listed = false,
): LinkKind | null {
	if (path === "/") return { kind: "hard", type: "group" };
	if (!listed && !pathExists(file, path)) return null;
	const ext = file.call(`inspect ${path}`, (api, id) =>
		api.get_external_link(id, path),
	);
	if (typeof ext.filename === "string" && typeof ext.obj_path === "string")
		return { kind: "external", file: ext.filename, path: ext.obj_path };
	const soft = file.call(`inspect ${path}`, (api, id) =>
		api.get_symbolic_link(id, path),
	);
	if (typeof soft === "string") {
		// A soft link may point through an external link: resolve its target the same careful way.
		const target = soft.startsWith("/")
			? soft
			: `${path.slice(0, path.lastIndexOf("/")) || ""}/${soft}`;
		const hop = walkPath(file, target, 1);
		return {
			kind: "soft",
			target: soft,
			resolves: hop === "missing" ? null : hop ? "other" : typeOf(file, target),
		};
	}
	const type = typeOf(file, path);
	return type === null ? null : { kind: "hard", type };
}

function typeOf(
	file: H5File,
	path: string,
): "group" | "dataset" | "other" | null {
	const api = file.runtime.api;
	const t = file.call(`inspect ${path}`, (a, id) => a.get_type(id, path));
	if (t === api.H5G_GROUP) return "group";
	if (t === api.H5G_DATASET) return "dataset";
	if (t < 0 || t === api.H5G_LINK) return null;
	return "other";
}

/**
 * Walks `path` component by component without letting HDF5 traverse anything it should not:
 * each name is looked up in its parent's listing before HDF5 is asked about it (h5wasm's link
 * queries raise HDF5 errors for missing paths). Returns the first external link on the way,
 * "missing" when a component does not exist, or null.
 */
function walkPath(
	file: H5File,
	path: string,
	depth: number,
):
	| { readonly at: string; readonly file: string; readonly path: string }
	| "missing"
	| null {
	// Soft-link cycles: HDF5 itself gives up after 16 hops.
	if (depth > 16) return null;
	const parts = path.split("/").filter((p) => p !== "");
	let at = "";
	for (let i = 0; i < parts.length; i++) {
		const part = parts[i] as string;
		const parent = at === "" ? "/" : at;
		const names = file.call(`list ${parent}`, (api, id) =>
			api.get_names(id, parent, false),
		);
		if (!names.includes(part)) return "missing";
		at = `${at}/${part}`;
		const ext = file.call(`inspect ${at}`, (api, id) =>
			api.get_external_link(id, at),
		);
		if (typeof ext.filename === "string" && typeof ext.obj_path === "string")
			return { at, file: ext.filename, path: ext.obj_path };
		const soft = file.call(`inspect ${at}`, (api, id) =>
			api.get_symbolic_link(id, at),
		);
		if (typeof soft === "string") {
			const hop = walkPath(
				file,
				soft.startsWith("/") ? soft : `${parent === "/" ? "" : parent}/${soft}`,
				depth + 1,
			);
			if (hop !== null) return hop;
		}
		if (i < parts.length - 1 && typeOf(file, at) !== "group") return "missing";
	}
	return null;
}

/** The first component of `path` that is an external link, if any. */
export function externalPrefix(
	file: H5File,
	path: string,
): {
	readonly at: string;
	readonly file: string;
	readonly path: string;
} | null {
	const r = walkPath(file, path, 0);
	return r === "missing" ? null : r;
}

/** True when every component of `path` exists (links are not followed out of the file). */
export function pathExists(file: H5File, path: string): boolean {
	return walkPath(file, path, 0) !== "missing";
}

/** Where an external link leads: the target file (resolved) and the path inside it. */
export interface ExternalTarget {
	readonly file: string;
	readonly path: string;
}

/**
 * Checks that an external link may be followed.
 * @throws {UnsupportedError} unless `follow`; {InvalidSelectionError} for targets outside the source file's directory.
 */
export function externalTarget(
	file: H5File,
	link: { readonly at: string; readonly file: string; readonly path: string },
	rest: string,
	follow: boolean,
): ExternalTarget {
	const what = `${file.target}#${link.at} is an external link to ${link.file}#${link.path}`;
	if (!follow) {
		throw new UnsupportedError(
			`${what}; external links are followed only with adapterOptions.followExternalLinks`,
			{ adapter: ADAPTER, target: file.target },
		);
	}
	const dir = dirname(file.path);
	if (isAbsolute(link.file) || link.file.includes("\0")) {
		throw new InvalidSelectionError(
			`${what}; only relative links into the same directory are followed`,
			{ adapter: ADAPTER, target: file.target },
		);
	}
	let real: string;
	try {
		real = realpathSync(resolve(dir, link.file));
	} catch (cause) {
		throw new NotFoundError(`${what}, which does not exist`, {
			adapter: ADAPTER,
			target: file.target,
			cause,
		});
	}
	const rel = relative(dir, real);
	if (
		rel === "" ||
		rel.startsWith("..") ||
		isAbsolute(rel) ||
		rel.includes(`..${sep}`)
	) {
		throw new InvalidSelectionError(
			`${what}, outside ${dir}; refusing to follow`,
			{ adapter: ADAPTER, target: file.target },
		);
	}
	const inner = link.path.startsWith("/") ? link.path : `/${link.path}`;
	return {
		file: real,
		path: rest === "" ? inner : `${inner === "/" ? "" : inner}${rest}`,
	};
}
