/**
 * HDF5 object paths: "" and "/" are the root, "a/b" and "/a/b" the same object. Paths are
 * checked before they reach HDF5 so that a key can never escape the file or confuse the C side.
 */
import { InvalidSelectionError } from "@arraystore/core";
import { ADAPTER } from "./errors.js";

/**
 * The absolute form of an HDF5 path ("/" for the root).
 * @throws {InvalidSelectionError} `..` components, NUL characters or non-string input.
 */
export function normalizePath(path: string, target?: string): string {
	if (typeof path !== "string")
		throw new InvalidSelectionError("HDF5 path must be a string", {
			adapter: ADAPTER,
			target,
		});
	if (path.includes("\0"))
		throw new InvalidSelectionError(
			`HDF5 path ${JSON.stringify(path)} contains NUL`,
			{ adapter: ADAPTER, target },
		);
	const parts: string[] = [];
	for (const part of path.split("/")) {
		if (part === "" || part === ".") continue;
		if (part === "..") {
			throw new InvalidSelectionError(
				`HDF5 path ${JSON.stringify(path)} must not contain '..'`,
				{ adapter: ADAPTER, target },
			);
		}
		parts.push(part);
	}
	return `/${parts.join("/")}`;
}

/** Parent group of an absolute path ("/" for top-level objects and the root). */
export function parentPath(path: string): string {
	const i = path.lastIndexOf("/");
	return i <= 0 ? "/" : path.slice(0, i);
}

/** `child` joined under the absolute group `group`. */
export function joinPath(group: string, child: string): string {
	return group === "/" ? `/${child}` : `${group}/${child}`;
}

/** Last component of an absolute path ("" for the root). */
export function baseName(path: string): string {
	return path.slice(path.lastIndexOf("/") + 1);
}
