"""Writes the ids EasyRec's online export would put beside a plain export of this model.

expected_embed_name_to_ids.txt: easy_rec/python/utils/export_big_model.py,
  export_big_model_to_oss(): for x in global_variables() of the serving graph, every
  '/embedding_weights:' (or '/embedding_weights/part_') variable gets its normalized name
  (proto_util.get_norm_embed_name: the path before /embedding_weights, part suffix dropped),
  ids 0.. in first-seen order; written as '<norm_name>\\t<id>\\n' in that order.
expected_DENSE_UPDATE_VARIABLES: the online export copies the DENSE_UPDATE_VARIABLES file that the
  trainer's CheckpointSaverHook wrote into model_dir (embedding_utils.get_dense_name_to_ids():
  the DENSE_UPDATE_VARIABLES collection order: the batch-norm moving statistics first, in
  UPDATE_OPS order, then every variable whose gradient is dense, in gradient order). It is copied
  byte for byte from the trainer's file.
Also checks that the trainer's own sparse ids (embedding_utils.get_norm_name_to_ids(), recorded
by run_trainer.py) agree with the export's, and says so.
"""
import argparse
import json
import shutil

import tensorflow as tf

from easy_rec.python.utils import proto_util

tf1 = tf.compat.v1


def export_norm_name_to_ids(export_dir):
  with tf.Graph().as_default(), tf1.Session() as sess:
    tf1.saved_model.loader.load(sess, ['serve'], export_dir)
    norm_name_to_ids = {}
    for x in tf1.global_variables():
      if '/embedding_weights:' in x.name or '/embedding_weights/part_' in x.name:
        norm_name, _ = proto_util.get_norm_embed_name(x.name)
        norm_name_to_ids[norm_name] = 1
    for tid, t in enumerate(norm_name_to_ids.keys()):
      norm_name_to_ids[t] = str(tid)
  return norm_name_to_ids


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument('--export', required=True)
  ap.add_argument('--trainer-dense-ids', required=True)
  ap.add_argument('--incr-record-log', required=True)
  ap.add_argument('--out-embed', required=True)
  ap.add_argument('--out-dense', required=True)
  args = ap.parse_args()
  ids = export_norm_name_to_ids(args.export)
  with open(args.out_embed, 'w') as f:
    for name in ids:
      f.write('%s\t%s\n' % (name, ids[name]))
  shutil.copyfile(args.trainer_dense_ids, args.out_dense)
  with open(args.incr_record_log) as f:
    trainer = json.load(f)['norm_name_to_ids']
  if trainer != ids:
    raise SystemExit('trainer embed ids %s differ from the online export ids %s' % (trainer, ids))
  print('embed ids: %d embeddings; the trainer (get_norm_name_to_ids) and the online export '
        '(global_variables order) agree' % len(ids))


if __name__ == '__main__':
  main()
