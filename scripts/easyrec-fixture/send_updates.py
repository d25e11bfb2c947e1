"""Sends a folder of fs-mode EasyRec update messages to Kafka with kafka-python, as EasyRec's trainer
does (CheckpointSaverHook: KafkaProducer.send(topic, bytes, key=b'dense_update_<step>')).

Usage: send_updates.py --bootstrap HOST:PORT --topic NAME --dir Tests/Fixtures/easyrec/updates
       [--partition N]
Only messages whose `<name>.done` marker exists are sent, in step order; within a step the dense
message goes first, then the sparse one (the order of CheckpointSaverHook.after_run).
EasyRec creates its update topic with one partition; --partition (default 0) pins every message
to one partition so that their order holds on a topic with more; -1 uses kafka-python's default
key partitioner. Prints one line per message ("sent <key> <bytes> partition offset") and exits
non-zero, naming the message, if any send fails.
"""
import argparse
import os
import re
import sys

NAME = re.compile(r'^(dense|sparse)_update_(\d+)$')


def messages(folder):
  found = []
  for name in os.listdir(folder):
    m = NAME.match(name)
    if m and os.path.exists(os.path.join(folder, name + '.done')):
      found.append((int(m.group(2)), 0 if m.group(1) == 'dense' else 1, name))
  return [name for _, _, name in sorted(found)]


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument('--bootstrap', required=True)
  ap.add_argument('--topic', required=True)
  ap.add_argument('--dir', required=True)
  ap.add_argument('--partition', type=int, default=0)
  ap.add_argument('--timeout', type=float, default=30.0, help='seconds per message')
  args = ap.parse_args()
  try:
    from kafka import KafkaProducer
  except ImportError:
    sys.exit('send_updates: kafka-python is missing; run `make kafka-python` '
             '(venv ~/.cache/odl/kafka-python-venv)')
  if not os.path.isdir(args.dir):
    sys.exit('send_updates: no such folder: %s' % args.dir)
  names = messages(args.dir)
  if not names:
    sys.exit('send_updates: no complete messages (with .done) in %s' % args.dir)
  producer = KafkaProducer(bootstrap_servers=args.bootstrap.split(','),
                           max_request_size=64 * 1024 * 1024,
                           request_timeout_ms=int(args.timeout * 1000),
                           api_version_auto_timeout_ms=int(args.timeout * 1000))
  try:
    for name in names:
      with open(os.path.join(args.dir, name), 'rb') as f:
        payload = f.read()
      partition = None if args.partition < 0 else args.partition
      try:
        meta = producer.send(args.topic, payload, key=name.encode('utf-8'),
                             partition=partition).get(timeout=args.timeout)
      except Exception as e:  # kafka-python raises many types; name the message that failed
        sys.exit('send_updates: sending %s (%d bytes) to %s failed: %r' %
                 (name, len(payload), args.topic, e))
      print('sent %s %d partition %d offset %d' % (name, len(payload), meta.partition,
                                                    meta.offset), flush=True)
    producer.flush(timeout=args.timeout)
  finally:
    producer.close(timeout=args.timeout)


if __name__ == '__main__':
  main()
