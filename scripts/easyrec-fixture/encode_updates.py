"""Encodes EasyRec update messages from the difference between consecutive EasyRec checkpoints.

For each step s in --steps (ascending), with p the previous step (--base-step first):
  dense_update_<s>:  every DENSE_UPDATE_VARIABLES variable's value at checkpoint s;
  sparse_update_<s>: for every embedding variable, the rows whose value differs between
                     checkpoints p and s (ascending row ids), with their values at s.
The bytes follow EasyRec 0.7.1 easy_rec/python/utils/estimator_utils.py exactly:
  CheckpointSaverHook._send_dense:  header [0, msg_num, global_step] + [var_id, x.size]* as
      np.int32, then x.tobytes() of each variable (float32, C order), in collection order;
  CheckpointSaverHook._send_sparse: header [1, msg_num, global_step] + [embed_id, len(keys)]*
      as np.int32 (blocks without keys are skipped), then per block keys.tobytes() (dtype of the
      gradient's indices, with the partition offset _save_slice_info.var_offset[0] added for a
      partitioned variable) followed by values.tobytes() (float32 [len(keys), dim]);
  fs mode: the message file, then `<name>.done` holding the text `<name>`.
Ids: var ids from the trainer's DENSE_UPDATE_VARIABLES file (embedding_utils.get_dense_name_to_ids),
embed ids from embedding_utils.get_sparse_name_to_ids, both recorded by run_trainer.py.
"""
import argparse
import json
import os

import numpy as np
import tensorflow as tf


def dense_message(step, reader, dense_ids):
  names = sorted(dense_ids, key=lambda n: dense_ids[n])
  values = [np.ascontiguousarray(reader.get_tensor(n)) for n in names]
  header = [0, len(names), step]
  for name, x in zip(names, values):
    if x.dtype != np.float32:
      raise ValueError('dense variable %s has dtype %s, expected float32' % (name, x.dtype))
    header += [dense_ids[name], x.size]
  buf = np.array(header, dtype=np.int32).tobytes()
  for x in values:
    buf += x.tobytes()
  return buf


def sparse_message(step, prev, cur, sparse_vars, slice_offsets):
  blocks = []
  for var in sparse_vars:
    name = var['var_name']
    old, new = prev.get_tensor(name), cur.get_tensor(name)
    if old.shape != new.shape:
      raise ValueError('embedding %s changed shape %s -> %s' % (name, old.shape, new.shape))
    rows = np.nonzero(np.any(old.reshape(old.shape[0], -1) != new.reshape(new.shape[0], -1), axis=1))[0]
    if len(rows) == 0:
      continue
    keys = rows.astype(np.dtype(var['key_dtype']))
    keys = keys + np.array(slice_offsets.get(name, 0), dtype=keys.dtype)
    blocks.append((int(var['embed_id']), keys, np.ascontiguousarray(new[rows], dtype=np.float32)))
  if not blocks:
    return None
  header = [1, len(blocks), step]
  for embed_id, keys, _ in blocks:
    header += [embed_id, len(keys)]
  buf = np.array(header, dtype=np.int32).tobytes()
  for _, keys, values in blocks:
    buf += keys.tobytes() + values.tobytes()
  return buf


def write_fs(out_dir, name, payload):
  path = os.path.join(out_dir, name)
  with open(path, 'wb') as f:
    f.write(payload)
  with open(path + '.done', 'w') as f:
    f.write(name)


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument('--model-dir', required=True, help='folder with model.ckpt-<step> files')
  ap.add_argument('--base-step', type=int, required=True)
  ap.add_argument('--steps', type=int, nargs='+', required=True)
  ap.add_argument('--dense-ids', required=True, help="the trainer's DENSE_UPDATE_VARIABLES")
  ap.add_argument('--incr-record-log', required=True, help='written by run_trainer.py')
  ap.add_argument('--out', required=True)
  args = ap.parse_args()
  with open(args.dense_ids) as f:
    dense_ids = json.load(f)
  with open(args.incr_record_log) as f:
    log = json.load(f)
  sparse_vars = []
  for var in log['sparse_update_variables']:
    name = var['var_name']
    sparse_vars.append({'var_name': name, 'key_dtype': var['key_dtype'],
                        'embed_id': log['sparse_name_to_ids'][name + ':0']})
  os.makedirs(args.out, exist_ok=True)
  ckpt = lambda s: tf.train.load_checkpoint(os.path.join(args.model_dir, 'model.ckpt-%d' % s))
  prev = ckpt(args.base_step)
  for step in sorted(args.steps):
    cur = ckpt(step)
    # the fixture's embeddings are not partitioned: no _save_slice_info, offset 0
    sparse = sparse_message(step, prev, cur, sparse_vars, slice_offsets={})
    if sparse is not None:
      write_fs(args.out, 'sparse_update_%d' % step, sparse)
    write_fs(args.out, 'dense_update_%d' % step, dense_message(step, cur, dense_ids))
    print('step %d: dense %d bytes, sparse %s bytes' %
          (step, len(dense_message(step, cur, dense_ids)), len(sparse) if sparse else 0))
    prev = cur


if __name__ == '__main__':
  main()
