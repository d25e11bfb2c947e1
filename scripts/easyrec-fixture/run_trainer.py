"""Runs EasyRec's own trainer (easy_rec.python.train_eval) with its incremental save working on TF 2.x.

EasyRec's incremental save needs two custom ops from incr_record.so, which ships only for
TF 1.12/1.15 and does not load on TF 2.15 (easy_rec.python.ops.incr_record leaves both as None).
This launcher supplies the two ops' semantics in plain TensorFlow, and changes nothing else:
  set_sparse_indices(indices, var_name): after each optimizer step, remember which rows of the
      embedding `var_name` received a gradient (called by easy_rec/python/compat/optimizers.py);
  get_sparse_indices(var_name, ktype): the rows remembered since the previous call (ascending,
      cast to `ktype`), and forget them (called by CheckpointSaverHook._send_sparse through
      the tensors it builds in its __init__).
EasyRec's CheckpointSaverHook then writes its real update messages (_send_dense/_send_sparse)
and its DENSE_UPDATE_VARIABLES file, exactly as on TF 1.x.
When ODL_INCR_RECORD_LOG names a file, the launcher also writes there (JSON) what the hook
asked for: the embedding variables in SPARSE_UPDATE_VARIABLES order with their key dtype, and
EasyRec's own get_sparse_name_to_ids() / get_norm_name_to_ids() / get_dense_name_to_ids().

Usage: python run_trainer.py --pipeline_config_path X.config [--continue_train]
"""
import json
import os
import runpy
import sys

import tensorflow as tf

from easy_rec.python.compat import optimizers
from easy_rec.python.utils import embedding_utils
from easy_rec.python.utils import estimator_utils

tf1 = tf.compat.v1
_ROW_SETS = {}


def _row_set(var_name):
  graph = tf1.get_default_graph()
  key = (id(graph), var_name)
  if key not in _ROW_SETS:
    # created outside the optimizer's control dependencies: its initializer (in local_init_op)
    # must not depend on a training step
    with graph.control_dependencies(None), tf1.variable_scope('odl_incr_record'):
      _ROW_SETS[key] = tf1.Variable(
          tf.zeros([0], tf.int64),
          shape=tf.TensorShape([None]),
          trainable=False,
          use_resource=True,
          collections=[tf1.GraphKeys.LOCAL_VARIABLES],
          name=var_name.replace('/', '__'))
  return _ROW_SETS[key]


def set_sparse_indices(indices, var_name):
  rows = _row_set(var_name)
  merged, _ = tf.unique(tf.concat([rows.read_value(), tf.cast(indices, tf.int64)], axis=0))
  return rows.assign(merged, read_value=False)


def _log_request(var_name, ktype):
  path = os.environ.get('ODL_INCR_RECORD_LOG')
  if not path:
    return
  log = {'sparse_update_variables': []}
  if os.path.exists(path):
    with open(path) as f:
      log = json.load(f)
  log['sparse_update_variables'].append({'var_name': var_name, 'key_dtype': ktype.name})
  log['sparse_name_to_ids'] = embedding_utils.get_sparse_name_to_ids()
  log['norm_name_to_ids'] = embedding_utils.get_norm_name_to_ids()
  log['dense_name_to_ids'] = embedding_utils.get_dense_name_to_ids()
  with open(path, 'w') as f:
    json.dump(log, f, indent=2)


def get_sparse_indices(var_name, ktype):
  _log_request(var_name, ktype)
  rows = _row_set(var_name)
  current = rows.read_value()
  with tf.control_dependencies([current]):
    reset = rows.assign(tf.zeros([0], tf.int64), read_value=False)
  with tf.control_dependencies([reset]):
    return tf.cast(tf.sort(current), ktype)


optimizers.set_sparse_indices = set_sparse_indices
estimator_utils.get_sparse_indices = get_sparse_indices

if __name__ == '__main__':
  sys.argv = ['easy_rec.python.train_eval'] + sys.argv[1:]
  runpy.run_module('easy_rec.python.train_eval', run_name='__main__')
