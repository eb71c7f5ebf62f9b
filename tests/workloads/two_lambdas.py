"""Two functions of one file with one name: two lambdas, each busy on its
own line. Outputs that describe functions must keep them apart.
Usage: two_lambdas.py SECONDS
"""
import sys
import time

square = lambda n: sum(i * i for i in range(n))  # SQUARE

double = lambda n: sum(i + i for i in range(n))  # DOUBLE


def main(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        square(2000)
        double(2000)


if __name__ == "__main__":
    main(float(sys.argv[1]))
