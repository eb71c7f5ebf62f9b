"""A target that hangs thousands of fake thread states (ctypes copies of its
own) onto its thread list, every one leading into the same frames, while
its real main thread spins in busy_main(). CPython 3.13+ (the frame
pointer in the thread state).

MODE chain: one chain of frames as long as a profiler walks for a stack,
with no Python frame in it, shared by every fake thread.
MODE cycle: a frame that is its own caller.
MODE random: the real main thread's frames, under thread ids that another
thread keeps rewriting with random values no thread has.
Usage: fake_threads.py MODE THREADS SECONDS   (prints "ready" once hooked)
"""
import ctypes
import gc
import random
import sys
import threading
import time

WORD = 8
STATE_STRIDE = 1024             # bytes copied of the real thread state
CHAIN_FRAMES = 16384 * 4 + 64   # more than strobe walks for one stack
FRAME_STRIDE = 16               # frames overlap: a word each for code, back
# _PyStackRef tag bits (3.14+) of the frame's code reference.
CODE_MASK = ~7 if sys.version_info >= (3, 14) else ~0
# PyThreadState starts with prev, next, interp.
NEXT_AT, INTERP_AT = 8, 16

ctypes.pythonapi.PyThreadState_Get.restype = ctypes.c_void_p


def word(addr):
    return ctypes.c_uint64.from_address(addr)


def find_word(base, value, limit, mask=~0):
    for off in range(0, limit, WORD):
        if word(base + off).value & mask == value:
            return off
    raise RuntimeError(f"{value:#x} not found near {base:#x}")


def frame_layout():
    """Offsets of the code and caller in a frame, and of the innermost
    frame and kernel thread id in a thread state."""
    here = sys._getframe()
    frame = word(id(here) + 3 * WORD).value     # PyFrameObject.f_frame
    caller = word(id(here.f_back) + 3 * WORD).value
    tstate = ctypes.pythonapi.PyThreadState_Get()
    for leaf_at in range(0, STATE_STRIDE, WORD):    # read here: this frame is the leaf
        if word(tstate + leaf_at).value == frame:
            break
    else:
        raise RuntimeError("no frame pointer in the thread state")
    code_at = find_word(frame, id(here.f_code), 12 * WORD, CODE_MASK)
    back_at = find_word(frame, caller, 12 * WORD)
    tid_at = find_word(tstate, threading.get_native_id(), STATE_STRIDE)
    return code_at, back_at, tstate, leaf_at, tid_at


def aligned_buffer(size, keep):
    buf = ctypes.create_string_buffer(size + FRAME_STRIDE)
    keep.append(buf)
    return ctypes.addressof(buf) + (-ctypes.addressof(buf)) % FRAME_STRIDE


def leaf_frame(mode, back_at, keep):
    """The innermost frame of every fake thread: code 0 (being pushed)."""
    leaf = aligned_buffer(256, keep)
    if mode == "cycle":
        word(leaf + back_at).value = leaf
        return leaf
    # Frame k at base + 16k: its code word stays 0, its back word names
    # frame k+1 (the code and back words are an odd number of words apart).
    base = aligned_buffer(FRAME_STRIDE * (CHAIN_FRAMES + 16), keep)
    for k in range(CHAIN_FRAMES):
        word(base + FRAME_STRIDE * k + back_at).value = base + FRAME_STRIDE * (k + 1)
    word(leaf + back_at).value = base
    return leaf


def fake_states(count, tstate, leaf_at, tid_at, leaf, keep):
    base = aligned_buffer(STATE_STRIDE * count, keep)
    template = ctypes.string_at(tstate, STATE_STRIDE)
    for i in range(count):
        state = base + STATE_STRIDE * i
        ctypes.memmove(state, template, STATE_STRIDE)
        word(state).value = 0
        word(state + NEXT_AT).value = state + STATE_STRIDE if i + 1 < count else 0
        word(state + leaf_at).value = leaf
        word(state + tid_at).value = 0
    return base


def busy_main(seconds, share_leaf=None):
    if share_leaf:
        share_leaf()    # the fakes' leaf is this frame from here on
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        n += 1
    return n


def rewrite_ids(fakes, count, tid_at, seconds):
    """Each fake thread's id, every millisecond: a random one no thread has."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for i in range(count):
            word(fakes + STATE_STRIDE * i + tid_at).value = random.randrange(1 << 23, 1 << 30)
        time.sleep(0.001)


def main(mode, count, seconds):
    gc.disable()
    keep = []
    code_at, back_at, tstate, leaf_at, tid_at = frame_layout()
    assert (code_at - back_at) // WORD % 2, "code and back words must alternate"
    leaf = leaf_frame("cycle" if mode == "random" else mode, back_at, keep)
    fakes = fake_states(count, tstate, leaf_at, tid_at, leaf, keep)
    share_leaf = None
    if mode == "random":
        def share_leaf():
            for i in range(count):
                word(fakes + STATE_STRIDE * i + leaf_at).value = word(tstate + leaf_at).value
        threading.Thread(target=rewrite_ids, args=(fakes, count, tid_at, seconds),
                         daemon=True).start()
    # Hooked last: a new thread's state goes at the head, not after these.
    assert word(tstate + NEXT_AT).value == 0, "the main thread state is not the last"
    word(tstate + NEXT_AT).value = fakes
    print("ready", flush=True)
    busy_main(seconds, share_leaf)
    word(tstate + NEXT_AT).value = 0


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]))
