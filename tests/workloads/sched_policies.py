"""Reports the CPU scheduling policy of its parent (strobe, when launched by
`strobe run`) and of itself: strobe's choice must apply to strobe alone.
Usage: sched_policies.py EXPECTED_PARENT_POLICY
Waits (up to 20 s) for the parent to take the expected policy, working
meanwhile so that there is something to sample, then prints
"parent POLICY self POLICY" with Linux's numbers (0 normal, 3 batch, 5 idle).
"""
import os
import sys
import time


def parent_policy():
    with open(f"/proc/{os.getppid()}/stat") as f:
        # Field 41; the command name (field 2) may hold spaces, so count
        # from the parenthesis that closes it.
        return int(f.read().rsplit(")", 1)[1].split()[38])


def main(expected):
    deadline = time.monotonic() + 20
    while parent_policy() != expected and time.monotonic() < deadline:
        sum(range(10000))
    print("parent", parent_policy(), "self", os.sched_getscheduler(0), flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))
