"""Entry point for ``celery -A governance.service.jobs.worker worker`` (and ``reelguard worker``)."""

import os

from governance.service.jobs.queue import celery_app

app = celery_app()

import governance.service.jobs.tasks  # noqa: E402,F401  (registers the tasks on this app)

# Import what the tasks use once, before the prefork pool forks, so children share it.
import detectors.provenance  # noqa: E402,F401
import detectors.video_io  # noqa: E402,F401
import detectors.watermark  # noqa: E402,F401
import governance.flows  # noqa: E402,F401
import governance.records.registry  # noqa: E402,F401

# REELGUARD_WORKER_THREADS=N caps OpenCV's pool and the video decoder at N threads per process
# (local batch workers set 1: one process per core; OMP_NUM_THREADS does not reach either).
_threads = os.environ.get("REELGUARD_WORKER_THREADS", "").strip()
if _threads.isdigit() and int(_threads) > 0:
    import cv2

    cv2.setNumThreads(int(_threads))
    detectors.video_io.set_decode_threads(int(_threads))
