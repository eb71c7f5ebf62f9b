"""One thread: main_spin for SECONDS, then a subinterpreter entered from
enter_sub running sub_spin for SECONDS.

While the subinterpreter runs, the thread has a thread state in each
interpreter, the main one standing in the call in enter_sub: one thread,
whose stack is enter_sub's with sub_spin's on top, half the time. (Before
3.13, run_string runs on the interpreter's first thread state, made here by
this thread too.)
With "across", the main thread makes the subinterpreter and spins in
main_spin while another thread enters it from enter_sub: the two stacks
are separate, whatever thread id the subinterpreter's thread state holds.
Usage: subinterp_nested.py [SECONDS [across]]   (prints "skip" where there
is no module to run a subinterpreter with)
"""
import os
import sys
import threading

try:
    import _xxsubinterpreters as subinterpreters
except ImportError:
    try:
        import _interpreters as subinterpreters
    except ImportError:
        subinterpreters = None

SCRIPT = """
import time


def sub_spin(seconds):
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        pass


sub_spin(%(seconds)f)
"""


def main_spin(seconds):
    import time
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        pass


def enter_sub(interpreter, seconds):
    subinterpreters.run_string(interpreter, SCRIPT % {"seconds": seconds})


def main(seconds, across):
    if subinterpreters is None or not hasattr(subinterpreters, "run_string"):
        print("skip", flush=True)
        return
    interpreter = subinterpreters.create()
    if across:
        entering = threading.Thread(target=enter_sub, args=(interpreter, seconds))
        entering.start()
        main_spin(seconds)
        entering.join()
    else:
        main_spin(seconds)
        enter_sub(interpreter, seconds)
    print("done", flush=True)
    os._exit(0)     # ending with a subinterpreter alive can hang on 3.11.7


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.5,
         len(sys.argv) > 2 and sys.argv[2] == "across")
