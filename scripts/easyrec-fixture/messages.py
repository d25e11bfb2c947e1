"""Parses EasyRec update messages (the layout of CheckpointSaverHook._send_dense/_send_sparse).

The key width of each sparse block is not in the message: the caller passes it per embed id
(EasyRec uses the dtype of the gradient's indices: int64 for hash/vocab/identity columns, int32
for bucketized raw features), from the embedding's dimension table `dims`.
"""
import numpy as np


def parse_dense(buf):
  """Returns (step, [(var_id, float32 array)])."""
  kind, n, step = np.frombuffer(buf[:12], dtype=np.int32)
  if kind != 0:
    raise ValueError('not a dense message: kind %d' % kind)
  pairs = np.frombuffer(buf[12:12 + 8 * n], dtype=np.int32).reshape(n, 2)
  pos, out = 12 + 8 * n, []
  for var_id, size in pairs:
    out.append((int(var_id), np.frombuffer(buf[pos:pos + 4 * size], dtype=np.float32)))
    pos += 4 * size
  if pos != len(buf):
    raise ValueError('dense message: %d trailing bytes' % (len(buf) - pos))
  return int(step), out


def parse_sparse(buf, dims, key_bytes):
  """Returns (step, [(embed_id, keys int64, values float32 [k, dim])])."""
  kind, n, step = np.frombuffer(buf[:12], dtype=np.int32)
  if kind != 1:
    raise ValueError('not a sparse message: kind %d' % kind)
  pairs = np.frombuffer(buf[12:12 + 8 * n], dtype=np.int32).reshape(n, 2)
  pos, out = 12 + 8 * n, []
  for embed_id, num in pairs:
    kb = key_bytes[int(embed_id)]
    keys = np.frombuffer(buf[pos:pos + kb * num], dtype=np.int64 if kb == 8 else np.int32)
    pos += kb * num
    dim = dims[int(embed_id)]
    values = np.frombuffer(buf[pos:pos + 4 * num * dim], dtype=np.float32).reshape(num, dim)
    pos += 4 * num * dim
    out.append((int(embed_id), keys.astype(np.int64), values))
  if pos != len(buf):
    raise ValueError('sparse message: %d trailing bytes' % (len(buf) - pos))
  return int(step), out
