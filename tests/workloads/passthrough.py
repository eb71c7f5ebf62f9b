"""Echo stdin to stdout and stderr, then exit with the status given.
Usage: passthrough.py STATUS
"""
import sys

line = sys.stdin.readline().strip()
print("got " + line, flush=True)
print("err " + line, file=sys.stderr, flush=True)
sys.exit(int(sys.argv[1]))
