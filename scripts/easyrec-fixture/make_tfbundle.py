"""Writes a tiny TensorBundle test set with real TensorFlow (for odl's checkpoint reader tests).

<out>/mixed.{index,data-00000-of-00001}: tf.compat.v1.train.Saver over
  part_var  float32 [10,4] = arange(40)/8, fixed_size_partitioner(3): saved as 3 slices
  f32 float32 [2,3], i32 int32 [3], i64 int64 [], f64 float64 [2], flag bool [2], names string [3]
<out>/sharded.*: the same variables placed on two CPU devices, Saver(sharded=True): 2 data shards.
<out>/expected.json: per tensor name: dtype, shape, flattened values (strings base64), as
  tf.train.load_checkpoint reads them (part_var whole, as TF reassembles it).
"""
import argparse
import base64
import json
import os

import numpy as np
import tensorflow as tf

tf1 = tf.compat.v1


def build(two_devices):
  values = {
      'f32': np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32) * 0.5,
      'i32': np.array([1, -2, 3], dtype=np.int32),
      'i64': np.array(1234567890123, dtype=np.int64),
      'f64': np.array([0.25, -1.5], dtype=np.float64),
      'flag': np.array([True, False]),
      'names': np.array([b'a', b'', b'hello\x00world'], dtype=object),
  }
  with tf1.device('/cpu:0'):
    part_var = tf1.get_variable('part_var', shape=[10, 4], dtype=tf.float32,
                                initializer=tf1.zeros_initializer(),
                                partitioner=tf1.fixed_size_partitioner(3), use_resource=False)
    for name in ('f32', 'i32'):
      tf1.Variable(values[name], name=name, use_resource=False)
  with tf1.device('/cpu:1' if two_devices else '/cpu:0'):
    for name in ('i64', 'f64', 'flag'):
      tf1.Variable(values[name], name=name, use_resource=False)
    tf1.Variable(tf.constant(list(values['names']), dtype=tf.string), name='names',
                 use_resource=False)
  return part_var


def save(prefix, sharded):
  with tf.Graph().as_default():
    part_var = build(two_devices=sharded)
    whole = (np.arange(40, dtype=np.float32) / 8).reshape(10, 4)
    saver = tf1.train.Saver(sharded=sharded)
    config = tf1.ConfigProto(device_count={'CPU': 2}, allow_soft_placement=False)
    with tf1.Session(config=config) as sess:
      sess.run(tf1.global_variables_initializer())
      for part in part_var:
        row, rows = part._save_slice_info.var_offset[0], part._save_slice_info.var_shape[0]
        part.load(whole[row:row + rows], sess)
      saver.save(sess, prefix, write_meta_graph=False, write_state=False)


def expected(prefix):
  reader = tf.train.load_checkpoint(prefix)
  out = {}
  for name, shape in sorted(reader.get_variable_to_shape_map().items()):
    value = np.asarray(reader.get_tensor(name))
    dtype = reader.get_variable_to_dtype_map()[name].name
    flat = value.reshape(-1).tolist()
    if dtype == 'string':
      flat = [base64.b64encode(v).decode('ascii') for v in flat]
    out[name] = {'dtype': dtype, 'shape': list(shape), 'values': flat}
  return out


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument('--out', required=True)
  args = ap.parse_args()
  os.makedirs(args.out, exist_ok=True)
  save(os.path.join(args.out, 'mixed'), sharded=False)
  save(os.path.join(args.out, 'sharded'), sharded=True)
  exp = {'mixed': expected(os.path.join(args.out, 'mixed')),
         'sharded': expected(os.path.join(args.out, 'sharded'))}
  if exp['mixed'] != exp['sharded']:
    raise SystemExit('mixed and sharded bundles read back differently')
  with open(os.path.join(args.out, 'expected.json'), 'w') as f:
    json.dump(exp['mixed'], f, indent=1, sort_keys=True)
  print(sorted(os.listdir(args.out)))


if __name__ == '__main__':
  main()
