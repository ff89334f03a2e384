"""Peer for X -> Zarr: read row blocks with the source's Python library, write them with
tensorstore (multi-threaded encoding; two writes kept in flight so reading overlaps encoding).

Usage: python3 peer_ts_write.py SRC DST --source h5|npy|mmp-memmap|mmp-pickle
                                --target zarr3|zarr3s|zarr2 --shape R,C [--chunks] [--shards]

Sources:
  h5          h5py, dataset "data"
  npy         numpy.load(mmap_mode="r")
  mmp-memmap  what mmappickle does: numpy.memmap at the entry's data offset (frames walked)
  mmp-pickle  pickle.load of the whole file (needs a one-line shim on numpy >= 2.3: binary
              fromstring was removed, so fromstring is mapped to frombuffer)
"""

import argparse
import pickle

import numpy as np

from common import (
    DTYPE,
    layout_args,
    row_blocks,
    ts_create,
    ts_write_blocks,
    zarr2_blosc_spec,
    zarr3_spec,
)
from mmappickle_format import locate


class CompatUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if module == "numpy.core.multiarray" and name == "fromstring":
            return lambda data, dtype: np.frombuffer(data, dtype)
        if module == "numpy.core.fromnumeric" and name == "reshape":
            return np.reshape
        return super().find_class(module, name)


def open_source(kind: str, path: str):
    if kind == "h5":
        import h5py

        return h5py.File(path, "r")["data"]
    if kind == "npy":
        return np.load(path, mmap_mode="r")
    if kind == "mmp-memmap":
        offset, dtype, shape = locate(path, "data")
        return np.memmap(path, dtype, "r", offset=offset, shape=shape)
    if kind == "mmp-pickle":
        with open(path, "rb") as f:
            return CompatUnpickler(f).load()["data"]
    raise SystemExit(f"unknown source {kind}")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("--source", required=True)
    p.add_argument("--target", required=True, choices=["zarr3", "zarr3s", "zarr2"])
    layout_args(p)
    args = p.parse_args()
    src = open_source(args.source, args.src)
    shape = tuple(src.shape)
    if args.target == "zarr3":
        spec, align = zarr3_spec(args.dst, shape, args.chunks), args.chunks[0]
    elif args.target == "zarr3s":
        spec = zarr3_spec(args.dst, shape, args.chunks, shards=args.shards)
        align = args.shards[0]
    else:
        spec, align = zarr2_blosc_spec(args.dst, shape, args.chunks), args.chunks[0]
    arr = ts_create(spec)
    ts_write_blocks(
        arr,
        row_blocks(shape[0], shape[1] * DTYPE.itemsize, align),
        lambda a, b: np.ascontiguousarray(src[a:b]),
    )


if __name__ == "__main__":
    main()
