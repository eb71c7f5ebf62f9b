"""Where a workload's frames lie in its memory, for `make bench-slowdown`.

Between start(code) and done(), when a function with `code` starts, its
stack is noted; done() prints "frames OUTERMOST INNERMOST": the
addresses (hex) of the outermost and innermost interpreter frames of that
stack (CPython 3.11+ keeps them on the thread's data stack, the innermost
highest). Made before the workload's loop, in the function that runs the
loop, the same calls put their frames at the same addresses (so these are
calls that need no local variable or `with` block there, which would make
that function's frame larger), so a reader can copy the bytes a profiler
copies of them (bench/cold_reader.c).
done() also prints "tstate ADDRESS" and "interp ADDRESS", the thread's
PyThreadState and its interpreter's, and "entry ADDRESS", the entry frame
of the evaluation loop running the outermost frame (3.12+: on the C stack;
the outermost frame's `previous`, the field after its first).

A frame object's f_frame, the interpreter frame it stands for, follows
PyObject_HEAD and f_back in release builds of 3.11-3.15. Each is checked:
its first word must point to the frame's code object (3.14+: with tag
bits), or nothing is printed and the benchmark leaves the control out.
"""
import ctypes
import sys

F_FRAME_OFFSET = 24     # PyObject_HEAD (16 bytes) + f_back
STACKREF_TAG_BITS = 3


def interpreter_frame(frame):
    address = ctypes.c_void_p.from_address(id(frame) + F_FRAME_OFFSET).value
    code = ctypes.c_void_p.from_address(address).value if address else None
    if code is None or code & ~STACKREF_TAG_BITS != id(frame.f_code):
        return None
    return address


class FrameReport:
    """The profile hook: notes the stack at the first call of `code`."""

    def __init__(self, code):
        self.code = code
        self.found = []

    def __call__(self, frame, event, arg):
        if event == "call" and frame.f_code is self.code and not self.found:
            while frame is not None:
                self.found.append(interpreter_frame(frame))
                frame = frame.f_back


def start(code):
    if sys.version_info >= (3, 11):
        sys.setprofile(FrameReport(code))


def done():
    report = sys.getprofile()
    sys.setprofile(None)
    if isinstance(report, FrameReport) and report.found and None not in report.found:
        outermost = min(report.found)
        print("frames %x %x" % (outermost, max(report.found)), flush=True)
        entry = ctypes.c_void_p.from_address(outermost + ctypes.sizeof(ctypes.c_void_p)).value
        if entry:
            print("entry %x" % entry, flush=True)
    for name, function in (("tstate", ctypes.pythonapi.PyThreadState_Get),
                           ("interp", ctypes.pythonapi.PyInterpreterState_Get)):
        function.restype = ctypes.c_void_p
        print("%s %x" % (name, function()), flush=True)
