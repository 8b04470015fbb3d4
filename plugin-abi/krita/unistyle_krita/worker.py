"""Runs library calls off Krita's GUI thread, one lane per kind of work ("preview", "apply",
"texture", "thumbnail"). Starting work in a lane cancels the lane's running call (through its
unistyle job) and makes its result stale: only the latest result of a lane is delivered.
Results and progress arrive in the GUI thread through Qt signals.
"""

import threading
import time

from . import unistyle_ctypes as us
from .qt_compat import QObject, pyqtSignal


class Result:
    def __init__(self, lane, ticket, value=None, error=None, seconds=0.0):
        self.lane, self.ticket, self.value, self.error, self.seconds = lane, ticket, value, error, seconds

    @property
    def cancelled(self):
        return isinstance(self.error, us.UnistyleError) and self.error.cancelled


class Worker(QObject):
    finished = pyqtSignal(object)  # Result, in the GUI thread; stale results are dropped
    progressed = pyqtSignal(str, float)  # lane, fraction

    def __init__(self, parent=None):
        super().__init__(parent)
        self._lock = threading.Lock()
        self._ticket = 0
        self._latest = {}  # lane -> ticket
        self._jobs = {}  # lane -> Job of the running call
        self._threads = {}  # ticket -> Thread
        self.finished.connect(self._forget)

    def start(self, lane, fn, *args, **kwargs):
        """Runs fn(*args, progress=..., job=..., **kwargs) in a new thread after cancelling the
        lane's running call. Returns the ticket the Result will carry."""
        job = us.Job()
        with self._lock:
            self._ticket += 1
            ticket = self._ticket
            old = self._jobs.get(lane)
            if old is not None:  # jobs are closed under the lock: this one is still alive
                old.cancel()
            self._latest[lane] = ticket
            self._jobs[lane] = job

        def progress(fraction):
            self.progressed.emit(lane, float(fraction))
            return False

        def run():
            started = time.monotonic()
            result = Result(lane, ticket)
            try:
                result.value = fn(*args, progress=progress, job=job, **kwargs)
            except BaseException as e:  # delivered to the GUI, never raised in the thread
                result.error = e
            result.seconds = time.monotonic() - started
            with self._lock:
                if self._jobs.get(lane) is job:
                    del self._jobs[lane]
                job.close()
            self.finished.emit(result)

        thread = threading.Thread(target=run, name="unistyle-%s-%d" % (lane, ticket), daemon=True)
        self._threads[ticket] = thread
        thread.start()
        return ticket

    def is_latest(self, result):
        with self._lock:
            return self._latest.get(result.lane) == result.ticket

    def busy(self, lane):
        with self._lock:
            return lane in self._jobs

    def cancel(self, lane):
        with self._lock:
            job = self._jobs.get(lane)
            self._latest[lane] = -1  # whatever is running is now stale
            if job is not None:
                job.cancel()

    def cancel_all(self):
        with self._lock:
            lanes = list(self._jobs)
        for lane in lanes:
            self.cancel(lane)

    def wait(self, timeout=None):
        """Joins every thread started (for tests and shutdown)."""
        for t in list(self._threads.values()):
            t.join(timeout)

    def _forget(self, result):
        self._threads.pop(result.ticket, None)
