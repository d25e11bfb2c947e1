"""Recomputes TensorFlow's predictions from a checkpoint with NumPy, to pin down EasyRec's DeepFM
semantics for this fixture (TensorFlow is used only for StringToHashBucketFast, i.e.
FarmHash Fingerprint64 mod buckets). Exits non-zero if any prob differs from TF's by > 1e-5.

What it encodes (each a fact checked by the match):
 - per feature, wide (input_layer/, width 4) and deep (input_layer_1/, width 8) lookups:
   user_id/item_id: row = Fingerprint64(value) % hash_bucket_size; '' (missing) -> no id, zeros;
   category: row = index in vocab_list; out-of-vocabulary -> row 0 (EasyRec builds the column
             with default_value=0: an unknown value shares the FIRST word's row); '' -> zeros;
   price: row = number of boundaries <= value (TF Bucketize); a missing price is fed as the
          input_fields default 0.0 -> row 0;
   age: 1-row table, weighted by the value (combiner sum): value * row 0 (0.0 when missing);
 - wide = sum of every wide component -> [1];
 - deep input = concat of the deep embeddings in the ORDER OF THE COLUMN NAMES (TF's
   input_layer sorts columns by name): age_weighted_by_age_raw_proj_val_embedding,
   category_embedding, item_id_embedding, price_bucketized_embedding, user_id_embedding;
 - fm = 0.5 * ((sum_f v_f)^2 - sum_f v_f^2) -> [8];
 - dnn layer: x W + b, batch norm (x - mean) / sqrt(var + 1e-3) * gamma + beta, relu (also last);
 - final_dnn on concat(wide, fm, deep) (same layer rule), then output: x W + b -> logit.
"""
import argparse
import json

import numpy as np
import tensorflow as tf

VOCAB = ['books', 'games', 'music', 'sports', 'toys']
BOUNDARIES = [10.0, 25.0, 50.0, 100.0, 150.0]
HASH = {'user_id': 500, 'item_id': 1000}
SORTED_COLUMNS = ['age', 'category', 'item_id', 'price', 'user_id']
TABLE = {'age': 'age_weighted_by_age_raw_proj_val_embedding', 'category': 'category_embedding',
         'item_id': 'item_id_embedding', 'price': 'price_bucketized_embedding',
         'user_id': 'user_id_embedding'}


def lookup(ckpt, group, feature, value):
  table = ckpt['%s/%s/embedding_weights' % (group, TABLE[feature])]
  if feature in HASH:
    if value == '':
      return np.zeros(table.shape[1])
    row = int(tf.strings.to_hash_bucket_fast([value], HASH[feature]).numpy()[0])
    return table[row].astype(np.float64)
  if feature == 'category':
    if value == '':
      return np.zeros(table.shape[1])
    return table[VOCAB.index(value) if value in VOCAB else 0].astype(np.float64)
  if feature == 'price':
    return table[int(np.searchsorted(BOUNDARIES, value, side='right'))].astype(np.float64)
  return float(value) * table[0].astype(np.float64)


def dnn(ckpt, scope, x, layers):
  for i in range(layers):
    p = '%s/dnn_%d/' % (scope, i)
    x = x @ ckpt[p + 'kernel'] + ckpt[p + 'bias']
    x = (x - ckpt[p + 'bn/moving_mean']) / np.sqrt(ckpt[p + 'bn/moving_variance'] + 1e-3)
    x = x * ckpt[p + 'bn/gamma'] + ckpt[p + 'bn/beta']
    x = np.maximum(x, 0)
  return x


def logit(ckpt, row):
  wide = sum(lookup(ckpt, 'input_layer', f, row[f]).sum() for f in SORTED_COLUMNS)
  deep = [lookup(ckpt, 'input_layer_1', f, row[f]) for f in SORTED_COLUMNS]
  v = np.stack(deep)
  fm = 0.5 * (v.sum(0) ** 2 - (v ** 2).sum(0))
  d = dnn(ckpt, 'deep_feature', np.concatenate(deep), 2)
  h = dnn(ckpt, 'final_dnn', np.concatenate([[wide], fm, d]), 2)
  return float((h @ ckpt['output/kernel'] + ckpt['output/bias'])[0])


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument('--fixture', required=True)
  ap.add_argument('--checkpoint', action='append', required=True,
                  help='LABEL=CKPT_PREFIX, LABEL a key of tf_predictions.json')
  args = ap.parse_args()
  requests = json.load(open(args.fixture + '/requests.json'))['requests']
  preds = json.load(open(args.fixture + '/tf_predictions.json'))
  worst = 0.0
  for spec in args.checkpoint:
    label, prefix = spec.split('=', 1)
    reader = tf.train.load_checkpoint(prefix)
    ckpt = {n: reader.get_tensor(n).astype(np.float64)
            for n in reader.get_variable_to_shape_map() if not n.endswith('Adam') and
            not n.endswith('Adam_1')}
    diff = 0.0
    for r, req in enumerate(requests):
      feed = req['tf_feed']
      for k in range(len(feed['item_id'])):
        z = logit(ckpt, {f: feed[f][k] for f in feed})
        diff = max(diff, abs(1 / (1 + np.exp(-z)) - preds[label]['probs'][r][k]))
    print('numpy reference vs TF %s: max |probs diff| %.3g' % (label, diff))
    worst = max(worst, diff)
  if worst > 1e-5:
    raise SystemExit('the NumPy reference does not reproduce TF: %g' % worst)


if __name__ == '__main__':
  main()
