"""Push against poll on one stream of events, measured live on real HTTP.

    python benchmarks/push_poll.py [--duration 10] [--rate 5] [--intervals 0.5 1 2 5 60]

Prints, for push and for each poll interval: the median latency measured,
the interval/2 that a random arrival between two polls should wait on
average, and the requests each mode made. Intervals longer than a third of
the run are measured time-compressed (the notes say how).
"""

import argparse
import sys

import webhooklab as wl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=5.0)
    parser.add_argument("--intervals", type=float, nargs="+", default=[0.5, 1, 2, 5, 60])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    result = wl.push_vs_poll(duration=args.duration, rate=args.rate, intervals=args.intervals, seed=args.seed)
    print(f"{args.duration:g} s at {args.rate:g} events/s (random arrivals), Python {sys.version.split()[0]}\n")
    print("| mode | run | median latency (s) | expected (interval/2) | ratio | requests | empty | missed |")
    print("|---|---|---|---|---|---|---|---|")
    for row in result.table.itertuples(index=False):
        median, expected = row[7], row[10]
        ratio = f"{median / expected:.2f}" if expected else ""
        print(f"| {row.mode} | {row.run} | {median:.4f} | {expected:g} | {ratio} | {row.requests:g} | {row[4]:g} | {row.missed:g} |")
    for note in result.notes:
        print(f"\n{note}")


if __name__ == "__main__":
    main()
