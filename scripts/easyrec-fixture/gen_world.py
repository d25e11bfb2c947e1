"""Writes the fixture's small CSV world (fixed seed): base.csv (day 1), today.csv (day 2), eval.csv.

Columns (no header, comma-separated, the order of the pipeline config's input_fields):
  label, user_id, item_id, category, price, age
user_id / item_id are string ids (hash-bucket features); category is a vocabulary feature;
price is numeric (bucketized by boundaries); age is numeric (raw, no boundaries).
Day 2 introduces new items (ids >= NUM_OLD_ITEMS) so that the continued training touches
rows that the base never saw. Clicks come from hidden user/item factors.
"""
import argparse
import math
import os
import random

CATEGORIES = ['books', 'games', 'music', 'sports', 'toys', 'food']
NUM_USERS = 300
NUM_OLD_ITEMS = 400
NUM_NEW_ITEMS = 100


def make_world(rng):
  users = {u: (rng.gauss(0, 1), rng.uniform(18, 70)) for u in range(NUM_USERS)}
  items = {}
  for i in range(NUM_OLD_ITEMS + NUM_NEW_ITEMS):
    items[i] = (rng.gauss(0, 1), rng.choice(CATEGORIES), round(rng.uniform(1, 200), 2))
  cat_bias = {c: rng.gauss(0, 0.5) for c in CATEGORIES}
  return users, items, cat_bias


def sample_rows(rng, world, n, item_ids):
  users, items, cat_bias = world
  rows = []
  for _ in range(n):
    u = rng.randrange(NUM_USERS)
    i = rng.choice(item_ids)
    ufac, age = users[u]
    ifac, cat, price = items[i]
    z = 1.2 * ufac * ifac + cat_bias[cat] - 0.004 * price + 0.01 * (age - 40) - 0.3
    label = 1 if rng.random() < 1.0 / (1.0 + math.exp(-z)) else 0
    rows.append('%d,u%d,i%d,%s,%.2f,%.1f' % (label, u, i, cat, price, age))
  return rows


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument('--out', required=True)
  ap.add_argument('--seed', type=int, default=11)
  args = ap.parse_args()
  rng = random.Random(args.seed)
  world = make_world(rng)
  old = list(range(NUM_OLD_ITEMS))
  new = list(range(NUM_OLD_ITEMS, NUM_OLD_ITEMS + NUM_NEW_ITEMS))
  os.makedirs(args.out, exist_ok=True)
  files = {
      'base.csv': sample_rows(rng, world, 12800, old),
      'eval.csv': sample_rows(rng, world, 1000, old),
      'today.csv': sample_rows(rng, world, 2560, old + new + new),
  }
  for name, rows in files.items():
    with open(os.path.join(args.out, name), 'w') as f:
      f.write('\n'.join(rows) + '\n')
    print('%s: %d rows' % (name, len(rows)))


if __name__ == '__main__':
  main()
