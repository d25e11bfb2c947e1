"""Compares the fixture's encoded messages with the ones EasyRec's running trainer wrote.

For every step the trainer wrote (trainer_incr_save/dense_update_<s>, sparse_update_<s>):
  dense:  the encoded message must be byte-identical to the trainer's;
  sparse: same embed ids; every (embed id, key) the trainer sent must be in the encoded message
          with bit-identical values. The encoded message may carry more rows: TF's Adam moves
          every row whose moment is non-zero, while the trainer sends only the rows that got a
          gradient since its previous message (what EasyRec's incr_record op records).
          A trainer row may be absent from the encoded message only if that row did not change
          between the two checkpoints (a gradient too small to move a float32); it is then
          checked to equal both checkpoints and counted as `trainer_rows_unchanged`.
Prints a summary and exits non-zero on any disagreement. Writes the summary as JSON (--report).
"""
import argparse
import glob
import json
import os

import numpy as np

from messages import parse_dense, parse_sparse


def load_tables(log_path, ckpt_reader):
  with open(log_path) as f:
    log = json.load(f)
  dims, key_bytes = {}, {}
  for var in log['sparse_update_variables']:
    embed_id = int(log['sparse_name_to_ids'][var['var_name'] + ':0'])
    dims[embed_id] = int(ckpt_reader(var['var_name']).shape[1])
    key_bytes[embed_id] = 8 if var['key_dtype'] == 'int64' else 4
  return dims, key_bytes


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument('--trainer-dir', required=True)
  ap.add_argument('--encoded-dir', required=True)
  ap.add_argument('--incr-record-log', required=True)
  ap.add_argument('--model-dir', required=True, help='folder with model.ckpt-<step>')
  ap.add_argument('--base-step', type=int, required=True)
  ap.add_argument('--report', required=True)
  args = ap.parse_args()
  import tensorflow as tf
  ckpt = lambda step: tf.train.load_checkpoint(os.path.join(args.model_dir, 'model.ckpt-%d' % step))
  reader = ckpt(args.base_step)
  dims, key_bytes = load_tables(args.incr_record_log, reader.get_tensor)
  with open(args.incr_record_log) as f:
    log = json.load(f)
  embed_names = {int(v): k[:-len(':0')] for k, v in log['sparse_name_to_ids'].items()}
  prev_step = args.base_step
  report = {'dense': {}, 'sparse': {}}
  failures = []
  for path in sorted(glob.glob(os.path.join(args.trainer_dir, 'dense_update_*'))):
    if path.endswith('.done'):
      continue
    name = os.path.basename(path)
    mine = os.path.join(args.encoded_dir, name)
    same = os.path.exists(mine) and open(path, 'rb').read() == open(mine, 'rb').read()
    report['dense'][name] = {'bytes': os.path.getsize(path), 'byte_identical': same}
    if not same:
      failures.append('%s differs' % name)
  for path in sorted(glob.glob(os.path.join(args.trainer_dir, 'sparse_update_*'))):
    if path.endswith('.done'):
      continue
    name = os.path.basename(path)
    step = int(name[len('sparse_update_'):])
    before, after = ckpt(prev_step), ckpt(step)
    prev_step = step
    _, theirs = parse_sparse(open(path, 'rb').read(), dims, key_bytes)
    _, mine = parse_sparse(open(os.path.join(args.encoded_dir, name), 'rb').read(), dims,
                           key_bytes)
    mine_rows = {}
    for embed_id, keys, values in mine:
      for k, v in zip(keys, values):
        mine_rows[(embed_id, int(k))] = v
    trainer_rows, equal_rows, unchanged_rows = 0, 0, 0
    for embed_id, keys, values in theirs:
      old = before.get_tensor(embed_names[embed_id])
      new = after.get_tensor(embed_names[embed_id])
      for k, v in zip(keys, values):
        trainer_rows += 1
        other = mine_rows.get((embed_id, int(k)))
        bits = v.view(np.uint32)
        if other is not None and np.array_equal(other.view(np.uint32), bits):
          equal_rows += 1
        elif (other is None and np.array_equal(old[k].view(np.uint32), bits) and
              np.array_equal(new[k].view(np.uint32), bits)):
          unchanged_rows += 1
    report['sparse'][name] = {'trainer_rows': trainer_rows, 'encoded_rows': len(mine_rows),
                              'trainer_rows_identical_in_encoded': equal_rows,
                              'trainer_rows_unchanged': unchanged_rows,
                              'trainer_embed_ids': sorted({b[0] for b in theirs}),
                              'encoded_embed_ids': sorted({b[0] for b in mine})}
    if equal_rows + unchanged_rows != trainer_rows:
      failures.append('%s: %d of %d trainer rows neither identical nor unchanged' %
                      (name, trainer_rows - equal_rows - unchanged_rows, trainer_rows))
  with open(args.report, 'w') as f:
    json.dump(report, f, indent=1)
  print(json.dumps(report, indent=1))
  if failures:
    raise SystemExit('encoded messages disagree with the trainer: ' + '; '.join(failures))


if __name__ == '__main__':
  main()
