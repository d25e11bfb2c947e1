"""Parses EasyRec update messages (the layout of CheckpointSaverHook._send_dense/_send_sparse).

The key width of each sparse block is not in the message: the caller passes it per embed id
(EasyRec uses the dtype of the gradient's indices: int64 for hash/vocab/identity columns, int32
for bucketized raw features), from the embedding's dimension table `dims`.
"""
import numpy as np


def _header(buf, expected_kind, what):
  """[kind, n, step] then n (id, count) pairs, all int32: returns (step, pairs, body offset)."""
  if len(buf) < 12:
    raise ValueError('%s message: %d bytes, shorter than its header' % (what, len(buf)))
  kind, n, step = np.frombuffer(buf[:12], dtype=np.int32)
  if kind != expected_kind:
    raise ValueError('not a %s message: kind %d' % (what, kind))
  if n < 0 or len(buf) < 12 + 8 * n:
    raise ValueError('%s message: truncated header (n = %d)' % (what, n))
  return int(step), np.frombuffer(buf[12:12 + 8 * n], dtype=np.int32).reshape(n, 2), 12 + 8 * n


def parse_dense(buf):
  """Returns (step, [(var_id, float32 array)])."""
  step, pairs, pos = _header(buf, 0, 'dense')
  out = []
  for var_id, size in pairs:
    out.append((int(var_id), np.frombuffer(buf[pos:pos + 4 * size], dtype=np.float32)))
    pos += 4 * size
  if pos != len(buf):
    raise ValueError('dense message: %d trailing bytes' % (len(buf) - pos))
  return step, out


def parse_sparse(buf, dims, key_bytes):
  """Returns (step, [(embed_id, keys int64, values float32 [k, dim])])."""
  step, pairs, pos = _header(buf, 1, 'sparse')
  out = []
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
  return step, out
