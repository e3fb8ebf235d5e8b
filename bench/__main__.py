"""`make bench` / `python -m bench [sync|listing|scheduler|scale ...]`: run the benchmarks, each printing its numbers
and its PASS/FAIL against the targets. Exits non-zero if any benchmark misses a target."""

import subprocess
import sys

BENCHMARKS = {
    'sync': 'bench.sync_bench',
    'inventory': 'bench.inventory_bench',
    'listing': 'bench.listing_bench',
    'scheduler': 'bench.scheduler_bench',
    'scale': 'bench.scale_bench',
}


def main(argv):
    names = argv or list(BENCHMARKS)
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        sys.exit(f'unknown benchmark(s): {", ".join(unknown)}; choose from {", ".join(BENCHMARKS)}')
    failed = []
    for name in names:
        print(f'=== {name} benchmark ({BENCHMARKS[name]}) ===', flush=True)
        if subprocess.run([sys.executable, '-m', BENCHMARKS[name]]).returncode != 0:
            failed.append(name)
    print(f'=== benchmarks missing a target: {", ".join(failed)} ===' if failed else '=== all benchmarks PASS ===')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
