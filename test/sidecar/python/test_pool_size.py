"""Pool sizes: never more members than calls in flight, and the executors' own defaults."""
import concurrent.futures
import types
import unittest

from support import SIDECAR  # noqa: F401 - puts the sidecar on sys.path
from looplag_sidecar import admission


class PoolSize(unittest.TestCase):
    def test_defaults_match_the_executors(self):
        self.assertEqual(admission.executor_default("thread"), concurrent.futures.ThreadPoolExecutor()._max_workers)
        pool = concurrent.futures.ProcessPoolExecutor()
        try:
            self.assertEqual(admission.executor_default("process"), pool._max_workers)
        finally:
            pool.shutdown()

    def test_capped_to_the_calls_in_flight(self):
        ctx = types.SimpleNamespace(framework_threads=None, workers=64, concurrency=2)
        self.assertEqual(admission.pool_size(ctx, None, "process"), (2, 64))
        ctx = types.SimpleNamespace(framework_threads=None, workers=None, concurrency=1)
        self.assertEqual(admission.pool_size(ctx, None, "thread"), (1, None))  # the default: capped, unmarked
        ctx = types.SimpleNamespace(framework_threads=None, workers=2, concurrency=8)
        self.assertEqual(admission.pool_size(ctx, None, "process"), (2, None))
        ctx = types.SimpleNamespace(framework_threads=None, workers=None, concurrency=4)
        self.assertEqual(admission.pool_size(ctx, [1, 8, 2], "thread"), (4, None))  # a sweep: its largest count, capped

    def test_a_framework_threadpool_sizes_thread_mode_without_workers(self):
        """A FastAPI `def` endpoint: thread mode measures AnyIO's 40 threads, not the executor's cpu+4."""
        ctx = types.SimpleNamespace(framework_threads=40, workers=None, concurrency=48)
        self.assertEqual(admission.pool_size(ctx, None, "thread"), (40, None))
        ctx.concurrency = 10
        self.assertEqual(admission.pool_size(ctx, None, "thread"), (10, None))
        self.assertEqual(admission.pool_size(ctx, None, "process"), (min(admission.executor_default("process"), 10), None))
        ctx.workers = 4  # --workers decides
        self.assertEqual(admission.pool_size(ctx, None, "thread"), (4, None))


if __name__ == "__main__":
    unittest.main()
