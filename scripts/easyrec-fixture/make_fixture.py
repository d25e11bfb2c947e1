"""Regenerates Tests/Fixtures/easyrec from scratch with real EasyRec 0.7.1 (run by `make easyrec-fixture`).

Steps (all in a temporary work folder, then copied into --out):
 1. gen_world.py: the CSV world (fixed seed).
 2. EasyRec trains DeepFM on base.csv (python -m easy_rec.python.train_eval, 200 steps) and
    exports it (python -m easy_rec.python.export): the base export, checkpoint 200.
 3. EasyRec continues on today.csv to step 240 (run_trainer.py: train_eval with the incremental
    save working; checkpoint every step, update messages every 10 steps in fs mode), then the
    final export of checkpoint 240.
 4. encode_updates.py: the update messages from checkpoint differences: at every step the trainer
    wrote one (work folder only), and at UPDATE_STEPS (committed).
 5. check_trainer_messages.py: the every-step encoded messages against the trainer's own.
 6. expected_ids.py: the DENSE_UPDATE_VARIABLES / embed_name_to_ids.txt of an online export.
 7. tf_predict.py: requests.json and TensorFlow's predictions (exports and every update step).
 8. list_variables.py: VARIABLES.md and a <prefix>.summary.json beside every bundle.
 9. numpy_reference.py: NumPy recomputes TF's predictions from both checkpoints (semantics check).
10. make_tfbundle.py: tfbundle/, a tiny checkpoint of every dtype, partitioned and sharded.
"""
import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PY = sys.executable
BASE_STEPS = 200
FINAL_STEPS = 240
# the committed update messages: every 10 steps of the continued run (each carries the change
# since the previous one); the check against the trainer encodes every step the trainer wrote
UPDATE_STEPS = [210, 220, 230, 240]


def run(args, log_path, env=None):
  print('+ ' + ' '.join(args), flush=True)
  with open(log_path, 'w') as log:
    res = subprocess.run(args, stdout=log, stderr=subprocess.STDOUT, env=env)
  if res.returncode != 0:
    sys.exit('failed (exit %d): %s; see %s' % (res.returncode, ' '.join(args), log_path))


def write_config(path, **fields):
  with open(os.path.join(HERE, 'deepfm.config.in')) as f:
    text = f.read()
  for key, value in fields.items():
    text = text.replace('@%s@' % key, value)
  for key in ('TRAIN', 'EVAL', 'MODEL_DIR', 'NUM_STEPS', 'SAVE_STEPS', 'INCR_SAVE'):
    if '@%s@' % key in text:
      sys.exit('field %s not filled in %s' % (key, path))
  with open(path, 'w') as f:
    f.write(text)


def only_version_dir(export_root):
  versions = [d for d in os.listdir(export_root) if d.isdigit()]
  if len(versions) != 1:
    sys.exit('expected one version folder in %s, found %s' % (export_root, versions))
  return os.path.join(export_root, versions[0])


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument('--out', required=True, help='Tests/Fixtures/easyrec')
  ap.add_argument('--work', help='work folder (default: a new temporary folder)')
  ap.add_argument('--reuse-training', action='store_true',
                  help='skip steps 1-3 when --work already holds their results (for iterating on '
                  'the later steps)')
  args = ap.parse_args()
  work = args.work or tempfile.mkdtemp(prefix='easyrec-fixture-')
  os.makedirs(work, exist_ok=True)
  data, model_dir = os.path.join(work, 'data'), os.path.join(work, 'model_dir')
  incr_dir = os.path.join(work, 'trainer_incr_save')
  log = lambda name: os.path.join(work, name + '.log')
  print('work folder: %s' % work)

  base_cfg = os.path.join(work, 'base.config')
  today_cfg = os.path.join(work, 'today.config')
  record_log = os.path.join(work, 'incr_record_log.json')
  final_ckpt = os.path.join(model_dir, 'model.ckpt-%d' % FINAL_STEPS)
  trained = all(os.path.exists(p) for p in (base_cfg, today_cfg, record_log, final_ckpt + '.index',
                                            os.path.join(work, 'export_final'), incr_dir))
  if args.reuse_training and trained:
    print('reusing the training in %s' % work)
  else:
    for stale in (data, model_dir, incr_dir, os.path.join(work, 'export_base'),
                  os.path.join(work, 'export_final')):
      shutil.rmtree(stale, ignore_errors=True)
    if os.path.exists(record_log):
      os.remove(record_log)
    run([PY, os.path.join(HERE, 'gen_world.py'), '--out', data], log('gen_world'))

    write_config(base_cfg, TRAIN=os.path.join(data, 'base.csv'), EVAL=os.path.join(data, 'eval.csv'),
                 MODEL_DIR=model_dir, NUM_STEPS=str(BASE_STEPS), SAVE_STEPS='100', INCR_SAVE='')
    run([PY, '-m', 'easy_rec.python.train_eval', '--pipeline_config_path', base_cfg], log('train_base'))
    run([PY, '-m', 'easy_rec.python.export', '--pipeline_config_path', base_cfg,
         '--export_dir', os.path.join(work, 'export_base')], log('export_base'))

    # EasyRec's TrainDoneListener stops a continued run at its first evaluation while the
    # previous run's ESTIMATOR_TRAIN_DONE marker is present
    os.remove(os.path.join(model_dir, 'ESTIMATOR_TRAIN_DONE'))
    incr = ('  write_graph: false\n'
            '  incr_save_config {\n'
            '    fs { incr_save_dir: "%s" relative: false }\n'
            '    dense_save_steps: 10\n'
            '    sparse_save_steps: 10\n'
            '  }' % incr_dir)
    write_config(today_cfg, TRAIN=os.path.join(data, 'today.csv'),
                 EVAL=os.path.join(data, 'eval.csv'), MODEL_DIR=model_dir,
                 NUM_STEPS=str(FINAL_STEPS), SAVE_STEPS='1', INCR_SAVE=incr)
    env = dict(os.environ, ODL_INCR_RECORD_LOG=record_log)
    run([PY, os.path.join(HERE, 'run_trainer.py'), '--pipeline_config_path', today_cfg,
         '--continue_train'], log('train_today'), env=env)
    run([PY, '-m', 'easy_rec.python.export', '--pipeline_config_path', today_cfg,
         '--checkpoint_path', final_ckpt, '--export_dir', os.path.join(work, 'export_final')],
        log('export_final'))
  steps = sorted(int(os.path.basename(p)[len('dense_update_'):])
                 for p in glob.glob(os.path.join(incr_dir, 'dense_update_*'))
                 if not p.endswith('.done'))
  if not steps or steps[-1] != FINAL_STEPS:
    sys.exit('the trainer wrote no update at the final step %d: %s' % (FINAL_STEPS, steps))
  print('trainer update steps: %s' % steps)
  out = args.out
  if os.path.exists(out):
    keep = os.path.join(out, 'README.md')
    readme = open(keep).read() if os.path.exists(keep) else None
    shutil.rmtree(out)
  else:
    readme = None
  os.makedirs(out)
  if readme is not None:
    with open(os.path.join(out, 'README.md'), 'w') as f:
      f.write(readme)
  encoded_all = os.path.join(work, 'encoded_every_trainer_step')
  for step_list, dest, name in ((steps, encoded_all, 'encode_all'),
                                (UPDATE_STEPS, os.path.join(out, 'updates'), 'encode')):
    run([PY, os.path.join(HERE, 'encode_updates.py'), '--model-dir', model_dir,
         '--base-step', str(BASE_STEPS), '--steps'] + [str(s) for s in step_list] +
        ['--dense-ids', os.path.join(model_dir, 'DENSE_UPDATE_VARIABLES'),
         '--incr-record-log', record_log, '--out', dest], log(name))
  step_args = [str(s) for s in UPDATE_STEPS]
  run([PY, os.path.join(HERE, 'check_trainer_messages.py'), '--trainer-dir', incr_dir,
       '--encoded-dir', encoded_all, '--incr-record-log', record_log,
       '--model-dir', model_dir, '--base-step', str(BASE_STEPS),
       '--report', os.path.join(out, 'trainer_vs_encoded.json')],
      log('check_trainer'))
  base_export = only_version_dir(os.path.join(work, 'export_base'))
  final_export = only_version_dir(os.path.join(work, 'export_final'))
  run([PY, os.path.join(HERE, 'expected_ids.py'), '--export', base_export,
       '--trainer-dense-ids', os.path.join(model_dir, 'DENSE_UPDATE_VARIABLES'),
       '--incr-record-log', record_log,
       '--out-embed', os.path.join(out, 'expected_embed_name_to_ids.txt'),
       '--out-dense', os.path.join(out, 'expected_DENSE_UPDATE_VARIABLES')], log('expected_ids'))
  run([PY, os.path.join(HERE, 'tf_predict.py'), '--base-export', base_export,
       '--final-export', final_export, '--model-dir', model_dir, '--base-step', str(BASE_STEPS),
       '--steps'] + step_args +
      ['--out', out, '--trainer-dir', incr_dir, '--incr-record-log', record_log,
       '--dense-ids', os.path.join(model_dir, 'DENSE_UPDATE_VARIABLES'),
       '--encoded-dir', os.path.join(out, 'updates')], log('tf_predict'))

  shutil.copytree(base_export, os.path.join(out, 'base_export'))
  shutil.copytree(final_export, os.path.join(out, 'final_export'))
  shutil.copytree(incr_dir, os.path.join(out, 'trainer_incr_save'))
  os.makedirs(os.path.join(out, 'checkpoints'))
  for step in (BASE_STEPS, FINAL_STEPS):
    for path in glob.glob(os.path.join(model_dir, 'model.ckpt-%d.*' % step)):
      if not path.endswith('.meta'):
        shutil.copy(path, os.path.join(out, 'checkpoints'))
  os.makedirs(os.path.join(out, 'data'))
  shutil.copy(os.path.join(data, 'today.csv'), os.path.join(out, 'data'))
  shutil.copy(base_cfg, os.path.join(out, 'base.config'))
  shutil.copy(today_cfg, os.path.join(out, 'today.config'))
  shutil.copy(record_log, os.path.join(out, 'trainer_incr_record_log.json'))
  run([PY, os.path.join(HERE, 'list_variables.py'), '--out', os.path.join(out, 'VARIABLES.md'),
       'base_export=' + os.path.join(out, 'base_export', 'variables', 'variables'),
       'final_export=' + os.path.join(out, 'final_export', 'variables', 'variables'),
       'checkpoints/model.ckpt-%d' % BASE_STEPS + '=' + os.path.join(out, 'checkpoints', 'model.ckpt-%d' % BASE_STEPS),
       'checkpoints/model.ckpt-%d' % FINAL_STEPS + '=' + os.path.join(out, 'checkpoints', 'model.ckpt-%d' % FINAL_STEPS)], log('list_variables'))
  ckpt_out = lambda step: os.path.join(out, 'checkpoints', 'model.ckpt-%d' % step)
  run([PY, os.path.join(HERE, 'numpy_reference.py'), '--fixture', out,
       '--checkpoint', 'base_export=' + ckpt_out(BASE_STEPS),
       '--checkpoint', 'final_export=' + ckpt_out(FINAL_STEPS)], log('numpy_reference'))
  run([PY, os.path.join(HERE, 'make_tfbundle.py'), '--out', os.path.join(out, 'tfbundle')],
      log('tfbundle'))
  for name in ('expected_ids', 'encode', 'numpy_reference'):
    print(open(log(name)).read().strip().splitlines()[-1])
  print(''.join(l for l in open(log('tf_predict')) if l.startswith('max |')).strip())
  print('fixture written to %s' % out)


if __name__ == '__main__':
  main()
