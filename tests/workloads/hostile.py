"""A target that scribbles on its own interpreter structures while sampled.

A thread `victim` (Outer.outer -> Victim.victim_fn) blocks on a lock; while
it is blocked, the main thread corrupts the structures a profiler reads for
it (its frames, its code object's strings and line table, the thread list,
its leaf frame pointer), a little at a time and restoring the original bytes
after each, so that the interpreter itself survives. Meanwhile a healthy
thread spins in healthy_spin(), which must keep being sampled.
The garbage is generated with a fixed seed.
Usage: hostile.py MODE SECONDS   (prints "ready", then "done N")
MODE: frame-code, frame-back, names, linetable, threads, leaf-noise, all;
none runs as leaf-noise does without pointing the victim at the noise.
"""
import ctypes
import gc
import os
import random
import sys
import threading
import time

WORD = 8
V = sys.version_info[:2]
rng = random.Random(1234)
ctypes.pythonapi.PyThreadState_Get.restype = ctypes.c_void_p


def u64(addr):
    return ctypes.c_uint64.from_address(addr)


def find_word(base, value, limit, mask=~0):
    for off in range(0, limit, WORD):
        if u64(base + off).value & mask == value:
            return off
    raise RuntimeError(f"{value:#x} not found near {base:#x}")


class Patch:
    """Set words and put them back."""
    def __init__(self):
        self.saved = []

    def set(self, addr, value):
        self.saved.append((addr, u64(addr).value))
        u64(addr).value = value & 0xFFFFFFFFFFFFFFFF

    def restore(self):
        for addr, value in reversed(self.saved):
            u64(addr).value = value
        self.saved.clear()


KEEP = []   # fake objects must outlive any pointer to them


def fake_str(template, length=None, state_or=0, state_and=~0, data=None):
    """A copy of a str object with some header fields changed."""
    size = sys.getsizeof(template) + 64
    buf = ctypes.create_string_buffer(size + 4096)
    ctypes.memmove(buf, id(template), sys.getsizeof(template))
    base = ctypes.addressof(buf)
    if length is not None:
        ctypes.c_int64.from_address(base + 16).value = length
    state = ctypes.c_uint32.from_address(base + 32)
    state.value = (state.value | state_or) & state_and
    if data is not None:
        start = sys.getsizeof(template) - len(template) - 1    # ASCII data offset
        ctypes.memmove(base + start, data, len(data))
    KEEP.append(buf)
    return base


def fake_bytes(template, size=None, data=None):
    buf = ctypes.create_string_buffer(sys.getsizeof(template) + 4096)
    ctypes.memmove(buf, id(template), sys.getsizeof(template))
    base = ctypes.addressof(buf)
    if size is not None:
        ctypes.c_int64.from_address(base + 16).value = size
    if data is not None:
        start = sys.getsizeof(template) - len(template) - 1
        ctypes.memmove(base + start, data, len(data))
    KEEP.append(buf)
    return base


def unmapped_address():
    return 0x00007FFFF0000000 - 0x1000 * rng.randrange(1, 1 << 16)


def garbage_values(extra):
    """Values for a pointer: small, unmapped, misaligned, into objects."""
    return [0x1, 0x8, 0xdeadbeef0, 0xFFFFFFFFFFFFFFF8, unmapped_address(), 0x10000,
            id(extra), id(extra) + 8, id(extra) + 4] + [rng.getrandbits(64) & ~7
                                                      for _ in range(4)]


class Victim:
    def victim_fn(self, ready, lock, info):
        info["frame"] = sys._getframe()
        info["caller"] = sys._getframe(1)
        info["tstate"] = ctypes.pythonapi.PyThreadState_Get()
        ready.set()
        lock.acquire()
        lock.release()
        return 0


class Outer:
    def outer(self, ready, lock, info):
        return Victim().victim_fn(ready, lock, info) + 1


def healthy_spin(stop):
    x = 0
    while not stop.is_set():
        x += 1
    return x


def interp_frame(frame_obj):
    """The address strobe sees as the frame: the object (<=3.10) or the
    _PyInterpreterFrame it points to (3.11+)."""
    if V < (3, 11):
        return id(frame_obj)
    return u64(id(frame_obj) + 24).value


TAG = ~7 if V >= (3, 14) else ~0


def corrupt_frame_code(info, hold):
    frame, code = interp_frame(info["frame"]), info["frame"].f_code
    off = find_word(frame, id(code), 96, TAG)
    orig = u64(frame + off).value
    fake = bytes(ctypes.string_at(id(code), sys.getsizeof(code)))
    fake_buf = ctypes.create_string_buffer(fake, len(fake) + 64)
    KEEP.append(fake_buf)
    values = garbage_values("a str, not code") + [id({}), id(frame), frame,
                                                  ctypes.addressof(fake_buf)]
    p = Patch()
    for v in values:
        p.set(frame + off, v | (orig & ~TAG & 0xF))
        time.sleep(hold)
        p.restore()
    # flapping: torn reads
    for _ in range(20000):
        u64(frame + off).value = values[rng.randrange(len(values))]
        u64(frame + off).value = orig


def corrupt_frame_back(info, hold):
    frame, caller = interp_frame(info["frame"]), interp_frame(info["caller"])
    off = find_word(frame, caller, 96)
    values = [frame, caller, frame + 8, frame + 4, unmapped_address()]
    p = Patch()
    for v in values:
        p.set(frame + off, v)
        time.sleep(hold)
        p.restore()
    p.set(caller + off, frame)     # caller -> victim: a cycle of two
    time.sleep(hold)
    p.restore()
    for _ in range(20000):
        u64(frame + off).value = frame
        u64(frame + off).value = caller


def name_variants(template):
    n = len(template)
    return [
        fake_str(template, length=1 << 62),
        fake_str(template, length=-5),
        fake_str(template, length=n + 3000),        # runs past its data
        fake_str(template, length=1 << 40),
        fake_str(template, state_or=0b111 << 2),    # kind 7
        fake_str(template, state_and=~(1 << 6), state_or=0b011 << 2),   # kind 3
        fake_str(template, state_and=~(0b111 << 2 | 1 << 6), state_or=0b010 << 2,
                 data=b"\x00\xd8\x41\x00\xff\xdf" * 2),  # kind 2: lone surrogates
        fake_str(template, state_and=~(0b111 << 2 | 1 << 6), state_or=0b100 << 2,
                 data=b"\xff\xff\xff\xff\x00\x00\x11\x00"),   # kind 4: > U+10FFFF
        fake_str(template, data=b"\xff\xfe\x80\x0a\x0d\x09\x1b[31m"),  # ascii with high bytes
        fake_str(template, state_and=~(1 << 5)),    # not compact
        unmapped_address(),
        id(3.5),
    ]


def corrupt_names(info, hold):
    code = info["frame"].f_code
    name = code.co_qualname if V >= (3, 11) else code.co_name
    p = Patch()
    for field in (name, code.co_filename):
        off = find_word(id(code), id(field), 200)
        for v in name_variants(field):
            p.set(id(code) + off, v)
            time.sleep(hold)
            p.restore()
    # flapping between a real name and bad ones
    off = find_word(id(code), id(name), 200)
    variants = name_variants(name)
    for _ in range(20000):
        u64(id(code) + off).value = variants[rng.randrange(len(variants))]
        u64(id(code) + off).value = id(name)


def corrupt_linetable(info, hold):
    code = info["frame"].f_code
    table = code.co_linetable if V >= (3, 10) else code.co_lnotab
    off = find_word(id(code), id(table), 200)
    p = Patch()
    noise = [bytes(rng.getrandbits(8) for _ in range(300)) for _ in range(4)]
    variants = [fake_bytes(table, size=1 << 62), fake_bytes(table, size=-1),
                fake_bytes(table, size=(1 << 24) + 1), fake_bytes(table, size=3000),
                unmapped_address(), id("not bytes at all")]
    variants += [fake_bytes(table, size=len(table), data=n[:len(table)]) for n in noise]
    variants += [fake_bytes(table, size=300, data=n) for n in noise]
    variants += [fake_bytes(table, size=300, data=b"\xff" * 300),
                 fake_bytes(table, size=300, data=b"\xf0" + b"\x7f" * 299)]
    for v in variants:
        p.set(id(code) + off, v)
        time.sleep(hold)
        p.restore()
    for _ in range(20000):
        u64(id(code) + off).value = variants[rng.randrange(len(variants))]
        u64(id(code) + off).value = id(table)


def corrupt_threads(info, hold):
    victim_ts = info["tstate"]
    main_ts = ctypes.pythonapi.PyThreadState_Get()
    # PyThreadState starts with prev, next (3.8+)
    nxt = 8
    p = Patch()
    for target, v in ((victim_ts, victim_ts), (main_ts, main_ts), (victim_ts, main_ts),
                      (victim_ts, unmapped_address()), (victim_ts, victim_ts + 8),
                      (victim_ts, id("x" * 64))):
        p.set(target + nxt, v)
        time.sleep(hold)
        p.restore()
    for _ in range(20000):
        old = u64(victim_ts + nxt).value
        u64(victim_ts + nxt).value = victim_ts
        u64(victim_ts + nxt).value = old


def mapped(addr):
    with open("/proc/self/maps") as maps:
        for line in maps:
            lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
            if lo <= addr and addr + WORD <= hi and line.split()[1][0] == "r":
                return True
    return False


def leaf_pointer_address(info):
    """Where strobe reads the victim's innermost frame from."""
    ts, frame = info["tstate"], interp_frame(info["frame"])
    if V < (3, 11) or V >= (3, 13):
        return ts + find_word(ts, frame, 512)
    for off in range(0, 512, WORD):     # tstate->cframe->current_frame
        cframe = u64(ts + off).value
        inner = 8 if V == (3, 11) else 0
        if cframe and cframe & 7 == 0 and mapped(cframe + inner) and \
                u64(cframe + inner).value == frame:
            return cframe + inner
    raise RuntimeError("cframe not found")


def leaf_noise(info, seconds, code_addrs, aim=True):
    """The victim's leaf frame pointer at a buffer rewritten in a tight loop."""
    leaf = leaf_pointer_address(info)
    words = 512
    buf = ctypes.create_string_buffer(words * WORD)
    KEEP.append(buf)
    base = ctypes.addressof(buf)
    pool = [base + WORD * k for k in range(0, words, 2)] + code_addrs + [0, 1]
    arr = (ctypes.c_uint64 * words).from_address(base)
    p = Patch()
    if aim:
        p.set(leaf, base)
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        for _ in range(64):
            k = rng.randrange(words)
            r = rng.getrandbits(3)
            arr[k] = rng.getrandbits(64) if r == 0 else pool[rng.randrange(len(pool))] + (r == 1)
        n += 1
        if n % 256 == 0:
            ctypes.memmove(base, os.urandom(words * WORD), words * WORD)
    p.restore()


def main(mode, seconds):
    gc.disable()    # the collector would follow the corrupt pointers
    stop = threading.Event()
    healthy = threading.Thread(target=healthy_spin, args=(stop,), name="healthy")
    healthy.start()
    modes = {"frame-code": corrupt_frame_code, "frame-back": corrupt_frame_back,
             "names": corrupt_names, "linetable": corrupt_linetable,
             "threads": corrupt_threads}
    code_addrs = [id(Victim.victim_fn.__code__), id(Outer.outer.__code__),
                  id(healthy_spin.__code__)]
    print("ready", flush=True)
    end = time.monotonic() + seconds
    rounds = 0
    while time.monotonic() < end:
        ready, lock, info = threading.Event(), threading.Lock(), {}
        lock.acquire()
        t = threading.Thread(target=Outer().outer, args=(ready, lock, info), name="victim")
        t.start()
        ready.wait()
        time.sleep(0.01)    # it is in lock.acquire now
        chosen = list(modes) + ["leaf-noise"] if mode == "all" else [mode]
        for m in chosen:
            if m == "leaf-noise":
                leaf_noise(info, 0.3, code_addrs)
            elif m == "none":
                leaf_noise(info, 0.3, code_addrs, aim=False)
            else:
                modes[m](info, 0.005)
        lock.release()
        t.join()
        del info
        rounds += 1
    stop.set()
    healthy.join()
    print(f"done {rounds}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]))
