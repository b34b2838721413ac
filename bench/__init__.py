"""`make bench`: lifecycle throughput and latency of the real stack, measured against the
ceiling of the engine itself (a bare workflow with the same number of updates), plus the
list endpoints at scale and the worker's memory with many open runs.

Not part of `make test`: speed goals live here, never in timed tests.
"""
