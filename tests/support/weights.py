"""Edited copies of .safetensors files, for the checkpoint tests."""


def rewrite(src, dst, tensors=None, metadata=None):
    """A copy of a .safetensors file with tensors and metadata edited."""
    from safetensors import safe_open
    from safetensors.numpy import load_file, save_file

    with safe_open(str(src), framework="np") as f:
        meta = dict(f.metadata())
    data = load_file(str(src))
    for k, v in (tensors or {}).items():
        if v is None:
            data.pop(k)
        else:
            data[k] = v(data.get(k))
    for k, v in (metadata or {}).items():
        if v is None:
            meta.pop(k)
        else:
            meta[k] = v
    save_file(data, str(dst), metadata=meta)
    return dst
