"""Random slab reads with the Python reference readers.

Usage: python3 read_slabs.py KIND PATH SLABS.json
KIND: memmap (raw .dat; shape from SLABS.json), npy (numpy.load mmap_mode="r"), mmp (numpy.memmap
at the mmappickle entry's offset, as mmappickle returns it), h5 (h5py, dataset "data"), zarr3 /
zarr (tensorstore).
SLABS.json: {"shape": [R, C], "slab": [h, w], "starts": [[r, c], ...], "warmup": [[r, c], ...]}.
The warm-up slabs are read first, untimed. Prints {"seconds": time of the read calls of the
timed slabs only, "count", "checksum"}; the checksum
is the sum of the slabs' uint32 bit patterns mod 2^32, equal for every reader of the same data.
"""

import json
import os
import sys
import time

import numpy as np

from common import DTYPE


def opener(kind: str, path: str, shape):
    if kind == "memmap":
        arr = np.memmap(path, DTYPE, "r", shape=tuple(shape))
        return lambda r, c, h, w: np.array(arr[r : r + h, c : c + w])
    if kind == "npy":
        arr = np.load(path, mmap_mode="r")
        return lambda r, c, h, w: np.array(arr[r : r + h, c : c + w])
    if kind == "mmp":
        from mmappickle_format import locate

        offset, dtype, shp = locate(path, "data")
        arr = np.memmap(path, dtype, "r", offset=offset, shape=shp)
        return lambda r, c, h, w: np.array(arr[r : r + h, c : c + w])
    if kind == "h5":
        import h5py

        ds = h5py.File(path, "r")["data"]
        return lambda r, c, h, w: ds[r : r + h, c : c + w]
    if kind in ("zarr3", "zarr"):
        import tensorstore as ts

        arr = ts.open(
            {"driver": kind, "kvstore": {"driver": "file", "path": os.path.abspath(path)}}
        ).result()
        return lambda r, c, h, w: arr[r : r + h, c : c + w].read().result()
    raise SystemExit(f"unknown kind {kind}")


def main() -> None:
    kind, path, slabs_path = sys.argv[1:4]
    with open(slabs_path) as f:
        spec = json.load(f)
    h, w = spec["slab"]
    read = opener(kind, path, spec["shape"])
    for r, c in spec.get("warmup", []):
        read(r, c, h, w)
    # Only the reads are timed (as in read-slabs.mjs); the checksum is for comparing the data.
    checksum = 0
    seconds = 0.0
    for r, c in spec["starts"]:
        t = time.perf_counter()
        block = read(r, c, h, w)
        seconds += time.perf_counter() - t
        checksum += int(block.view(np.uint32).sum(dtype=np.uint64))
    print(json.dumps({"seconds": seconds, "count": len(spec["starts"]), "checksum": checksum % 2**32}))


if __name__ == "__main__":
    main()
