"""Applies the three source fixes EasyRec 0.7.1 needs to run on TensorFlow 2.15 (idempotent).

1. nest.is_sequence( -> nest.is_nested(            (removed from tf.nest in TF 2.x)
2. collections.Iterator -> collections.abc.Iterator (removed from `collections` in Python 3.10)
3. ops.IndexedSlices -> tf.IndexedSlices            (no longer re-exported by framework.ops)
4. array_ops.stack( -> array_ops_stack.stack(      (moved out of array_ops in TF 2.13; found
   when a bucketized or weighted raw feature is used, so every file using it is fixed)

Run with the venv's python: it patches the easy_rec package that python imports.
Prints one line per file changed; running it twice changes nothing the second time.
"""
import importlib.util
import os
import re
import sys

FIXES = {
    'compat/feature_column/feature_column_v2.py': ['is_sequence', 'collections_abc'],
    'compat/feature_column/feature_column.py': ['is_sequence', 'collections_abc'],
    'compat/feature_column/utils.py': ['is_sequence'],
    'compat/optimizers.py': ['indexed_slices'],
    'compat/sync_replicas_optimizer.py': ['indexed_slices'],
}

ABC_NAMES = ('Iterator', 'Iterable', 'Mapping', 'MutableMapping', 'Sequence',
             'MutableSequence', 'Callable', 'Hashable', 'Set', 'MutableSet')


def fix(text, kind):
  if kind == 'is_sequence':
    return text.replace('nest.is_sequence(', 'nest.is_nested(')
  if kind == 'collections_abc':
    pattern = r'\bcollections\.(%s)\b' % '|'.join(ABC_NAMES)
    return re.sub(pattern, r'collections.abc.\1', text)
  if kind == 'indexed_slices':
    text = re.sub(r'\bops\.IndexedSlices\b', 'tf.IndexedSlices', text)
    if not re.search(r'^import tensorflow as tf$', text, re.M):
      # add the import after the __future__ block (before the first tensorflow import)
      text = re.sub(r'^(from tensorflow)', 'import tensorflow as tf\n\\1', text, count=1,
                    flags=re.M)
    return text
  if kind == 'array_ops_stack':
    if 'array_ops.stack(' not in text:
      return text
    text = text.replace('array_ops.stack(', 'array_ops_stack.stack(')
    return re.sub(r'^(from tensorflow.python.ops import array_ops)$',
                  r'\1\nfrom tensorflow.python.ops import array_ops_stack', text, count=1,
                  flags=re.M)
  raise ValueError('unknown fix kind: %s' % kind)


def main():
  spec = importlib.util.find_spec('easy_rec')
  if spec is None or not spec.submodule_search_locations:
    sys.exit('patch_easyrec: easy_rec is not installed in %s' % sys.executable)
  root = os.path.join(list(spec.submodule_search_locations)[0], 'python')
  fixes = {rel: list(kinds) for rel, kinds in FIXES.items()}
  for folder, _, names in os.walk(root):
    for name in names:
      if name.endswith('.py'):
        rel = os.path.relpath(os.path.join(folder, name), root)
        with open(os.path.join(root, rel)) as f:
          if 'array_ops.stack(' in f.read():
            fixes.setdefault(rel, []).append('array_ops_stack')
  for rel, kinds in sorted(fixes.items()):
    path = os.path.join(root, rel)
    if not os.path.exists(path):
      sys.exit('patch_easyrec: expected file missing: %s' % path)
    with open(path) as f:
      before = f.read()
    after = before
    for kind in kinds:
      after = fix(after, kind)
    if after != before:
      with open(path, 'w') as f:
        f.write(after)
      print('patched %s' % path)


if __name__ == '__main__':
  main()
