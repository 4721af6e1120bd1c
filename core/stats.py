"""In-memory usage statistics, flushed in batches.

Nothing is written on the request path: :meth:`StatsBuffer.add` only updates
counters under a lock. :meth:`StatsBuffer.drain` hands the accumulated
counters to the caller (which upserts them additively) and starts afresh; if
the flush fails, :meth:`StatsBuffer.restore` puts them back so nothing is lost.
"""

import threading
import time


def hour_bucket(timestamp):
    """The UTC hour (as epoch seconds) that ``timestamp`` falls in."""
    return int(timestamp) - int(timestamp) % 3600


class StatsBuffer:
    def __init__(self):
        self._lock = threading.Lock()
        self._counters = {}

    def add(self, api_id, endpoint_id, app_id, duration_ms, error, timestamp=None):
        key = (
            api_id,
            endpoint_id or 0,
            app_id or 0,
            hour_bucket(timestamp or time.time()),
        )
        with self._lock:
            counter = self._counters.get(key)
            if counter is None:
                counter = self._counters[key] = [0, 0, 0.0]
            counter[0] += 1
            counter[1] += 1 if error else 0
            counter[2] += float(duration_ms)

    def drain(self):
        """Take every counter.

        Returns ``{(api, endpoint, app, bucket): (calls, errors, ms)}``.
        """
        with self._lock:
            counters, self._counters = self._counters, {}
        return {key: tuple(value) for key, value in counters.items()}

    def restore(self, counters):
        """Add back counters whose flush failed."""
        with self._lock:
            for key, (calls, errors, duration) in counters.items():
                counter = self._counters.setdefault(key, [0, 0, 0.0])
                counter[0] += calls
                counter[1] += errors
                counter[2] += duration

    def __len__(self):
        with self._lock:
            return len(self._counters)
