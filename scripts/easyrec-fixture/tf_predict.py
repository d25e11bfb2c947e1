"""Scores a fixed set of requests with TensorFlow itself: each export (tf.saved_model.load,
signature serving_default) and, for the intermediate update steps, each training checkpoint
restored into the base export's graph (tf.compat.v1 session + Saver). With --trainer-dir, also
the base with the trainer's own update messages applied in step order (sparse before dense
within a step), which is what a processor applying EasyRec's messages computes.

Writes requests.json and tf_predictions.json (see Tests/Fixtures/easyrec/README.md).
"""
import argparse
import json
import os
import random

import glob

import numpy as np
import tensorflow as tf

from messages import parse_dense, parse_sparse

tf1 = tf.compat.v1
USER_FIELDS = ['user_id', 'age']
ITEM_FIELDS = ['item_id', 'category', 'price']
STRING_FIELDS = {'user_id', 'item_id', 'category'}
# input_fields default_val of the pipeline config: what a missing value is fed as
DEFAULTS = {'user_id': '', 'item_id': '', 'category': '', 'price': 0.0, 'age': 0.0}


def make_requests(seed):
  rng = random.Random(seed)
  cats = ['books', 'games', 'music', 'sports', 'toys']
  requests = []
  for r in range(20):
    user = {'user_id': 'u%d' % rng.randrange(300), 'age': round(rng.uniform(18, 70), 1)}
    if r % 7 == 3:
      user['user_id'] = 'u_new_%d' % r          # unseen user id (hashes to some bucket)
    if r % 9 == 4:
      del user['age']                           # missing numeric
    if r % 10 == 6:
      del user['user_id']                       # missing id
    items = []
    for k in range(5):
      item = {'item_id': 'i%d' % rng.randrange(500), 'category': rng.choice(cats),
              'price': round(rng.uniform(1, 200), 2)}
      if (r + k) % 6 == 0:
        item['item_id'] = 'i_unseen_%d_%d' % (r, k)
      if (r + k) % 8 == 1:
        item['category'] = rng.choice(['food', 'garden'])   # out of vocab_list
      if (r + k) % 11 == 2:
        del item['category']
      if (r + k) % 13 == 5:
        del item['price']
      if (r + k) % 12 == 7:
        item['price'] = rng.choice([10.0, 25.0, 100.0, 150.0])  # exactly on a boundary
      if (r + k) % 17 == 9:
        del item['item_id']
      items.append(item)
    requests.append({'user': user, 'items': items})
  for req in requests:
    feed = {f: [] for f in USER_FIELDS + ITEM_FIELDS}
    for item in req['items']:
      for f in USER_FIELDS:
        feed[f].append(req['user'].get(f, DEFAULTS[f]))
      for f in ITEM_FIELDS:
        feed[f].append(item.get(f, DEFAULTS[f]))
    req['tf_feed'] = feed
  return requests


def as_tensors(feed):
  return {f: tf.constant(v, dtype=tf.string if f in STRING_FIELDS else tf.float64)
          for f, v in feed.items()}


def score_export(export_dir, requests):
  model = tf.saved_model.load(export_dir)
  fn = model.signatures['serving_default']
  out = {'probs': [], 'logits': []}
  for req in requests:
    res = fn(**as_tensors(req['tf_feed']))
    out['probs'].append([float(x) for x in res['probs'].numpy()])
    out['logits'].append([float(x) for x in res['logits'].numpy()])
  return out


def score_checkpoints(export_dir, checkpoints, requests):
  """Restores each checkpoint into the export's serving graph and scores every request."""
  results = {}
  with tf.Graph().as_default() as graph, tf1.Session(graph=graph) as sess:
    meta = tf1.saved_model.loader.load(sess, ['serve'], export_dir)
    sig = meta.signature_def['serving_default']
    inputs = {k: graph.get_tensor_by_name(v.name) for k, v in sig.inputs.items()}
    outputs = {k: graph.get_tensor_by_name(v.name) for k, v in sig.outputs.items()}
    saver = tf1.train.Saver(tf1.global_variables())
    for name, path in checkpoints:
      saver.restore(sess, path)
      results[name] = run_requests(sess, inputs, outputs, requests)
  return results


def run_requests(sess, inputs, outputs, requests):
  out = {'probs': [], 'logits': []}
  for req in requests:
    res = sess.run(outputs, {inputs[f]: v for f, v in req['tf_feed'].items()})
    out['probs'].append([float(x) for x in res['probs']])
    out['logits'].append([float(x) for x in res['logits']])
  return out


def score_with_messages(export_dir, base_ckpt, trainer_dir, record_log, dense_ids, requests):
  """Base checkpoint, then every trainer message applied in step order; scored at the end."""
  with open(record_log) as f:
    log = json.load(f)
  with open(dense_ids) as f:
    dense_names = {int(v): k for k, v in json.load(f).items()}
  embed_names, key_bytes = {}, {}
  for var in log['sparse_update_variables']:
    embed_id = int(log['sparse_name_to_ids'][var['var_name'] + ':0'])
    embed_names[embed_id] = var['var_name']
    key_bytes[embed_id] = 8 if var['key_dtype'] == 'int64' else 4
  steps = sorted(int(os.path.basename(p)[len('dense_update_'):])
                 for p in glob.glob(os.path.join(trainer_dir, 'dense_update_*'))
                 if not p.endswith('.done'))
  with tf.Graph().as_default() as graph, tf1.Session(graph=graph) as sess:
    meta = tf1.saved_model.loader.load(sess, ['serve'], export_dir)
    sig = meta.signature_def['serving_default']
    inputs = {k: graph.get_tensor_by_name(v.name) for k, v in sig.inputs.items()}
    outputs = {k: graph.get_tensor_by_name(v.name) for k, v in sig.outputs.items()}
    variables = {v.op.name: v for v in tf1.global_variables()}
    tf1.train.Saver(tf1.global_variables()).restore(sess, base_ckpt)
    state = {name: sess.run(variables[name]) for name in list(embed_names.values()) +
             list(dense_names.values())}
    dims = {i: state[n].shape[1] for i, n in embed_names.items()}
    for step in steps:
      sparse_path = os.path.join(trainer_dir, 'sparse_update_%d' % step)
      if os.path.exists(sparse_path):
        _, blocks = parse_sparse(open(sparse_path, 'rb').read(), dims, key_bytes)
        for embed_id, keys, values in blocks:
          state[embed_names[embed_id]][keys] = values
      _, dense = parse_dense(open(os.path.join(trainer_dir, 'dense_update_%d' % step), 'rb').read())
      for var_id, values in dense:
        name = dense_names[var_id]
        state[name] = values.reshape(state[name].shape)
    for name, value in state.items():
      variables[name].load(value, sess)
    return run_requests(sess, inputs, outputs, requests), steps


def max_diff(a, b):
  return float(np.max(np.abs(np.array(a['probs']) - np.array(b['probs']))))


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument('--base-export', required=True)
  ap.add_argument('--final-export', required=True)
  ap.add_argument('--model-dir', required=True)
  ap.add_argument('--base-step', type=int, required=True)
  ap.add_argument('--steps', type=int, nargs='+', required=True)
  ap.add_argument('--out', required=True)
  ap.add_argument('--seed', type=int, default=5)
  ap.add_argument('--trainer-dir', help="the trainer's fs-mode messages (optional)")
  ap.add_argument('--incr-record-log', help='written by run_trainer.py (with --trainer-dir)')
  ap.add_argument('--dense-ids', help="the trainer's DENSE_UPDATE_VARIABLES (with --trainer-dir)")
  ap.add_argument('--encoded-dir', help='the encoded messages: applied to the base they must '
                  'reach the final export (with --trainer-dir)')
  args = ap.parse_args()
  requests = make_requests(args.seed)
  base = score_export(args.base_export, requests)
  final = score_export(args.final_export, requests)
  ckpts = [(str(s), os.path.join(args.model_dir, 'model.ckpt-%d' % s))
           for s in [args.base_step] + sorted(args.steps)]
  per_step = score_checkpoints(args.base_export, ckpts, requests)
  # consistency: the exports are the checkpoints they were made from
  d_base = max_diff(base, per_step[str(args.base_step)])
  d_final = max_diff(final, per_step[str(max(args.steps))])
  print('max |probs diff| base export vs checkpoint %d: %g; final export vs checkpoint %d: %g' %
        (args.base_step, d_base, max(args.steps), d_final))
  if d_base > 1e-6 or d_final > 1e-6:
    raise SystemExit('exports and their checkpoints disagree: %g %g' % (d_base, d_final))
  print('max |probs diff| base vs final export: %g' % max_diff(base, final))
  extra = {}
  if args.trainer_dir:
    applied, steps = score_with_messages(args.base_export, ckpts[0][1], args.trainer_dir,
                                         args.incr_record_log, args.dense_ids, requests)
    extra['base_plus_trainer_messages'] = dict(applied, steps=steps,
                                               max_abs_probs_diff_to_final_export=max_diff(applied, final))
    print("max |probs diff| base + the trainer's own messages vs final export: %g" %
          max_diff(applied, final))
  if args.encoded_dir:
    applied, steps = score_with_messages(args.base_export, ckpts[0][1], args.encoded_dir,
                                         args.incr_record_log, args.dense_ids, requests)
    diff = max_diff(applied, final)
    print('max |probs diff| base + the encoded messages %s vs final export: %g' % (steps, diff))
    if diff > 1e-6:
      raise SystemExit('the encoded messages do not reach the final export: %g' % diff)
  with open(os.path.join(args.out, 'requests.json'), 'w') as f:
    json.dump({'user_fields': USER_FIELDS, 'item_fields': ITEM_FIELDS,
               'missing_value_fed_as': DEFAULTS, 'requests': requests}, f, indent=1)
  with open(os.path.join(args.out, 'tf_predictions.json'), 'w') as f:
    json.dump({'base_export': base, 'final_export': final,
               'checkpoint_steps': {k: v for k, v in per_step.items()}, **extra}, f, indent=1)


if __name__ == '__main__':
  main()
