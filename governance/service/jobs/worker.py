"""Entry point for ``celery -A governance.service.jobs.worker worker`` (and ``reelguard worker``)."""

import os

# Third-party progress bars ("Loading pipeline components", "Loading weights") in a worker's log
# are noise; set before transformers / diffusers / huggingface_hub import tqdm.
for _name, _value in (
    ("HF_HUB_DISABLE_PROGRESS_BARS", "1"),
    ("TRANSFORMERS_VERBOSITY", "error"),
    ("DIFFUSERS_VERBOSITY", "error"),
    ("TQDM_DISABLE", "1"),
):
    os.environ.setdefault(_name, _value)

from governance.service.jobs.queue import celery_app  # noqa: E402

app = celery_app()

# Import what the tasks use once, before the prefork pool forks, so children share it.
import detectors.provenance  # noqa: E402
import detectors.video_io  # noqa: E402
import detectors.watermark  # noqa: E402
import governance.flows  # noqa: E402
import governance.records.registry  # noqa: E402
import governance.service.jobs.tasks  # noqa: E402,F401  (registers the tasks on this app)

# REELGUARD_WORKER_THREADS=N caps OpenCV's pool and the video decoder at N threads per process
# (local batch workers set 1: one process per core; OMP_NUM_THREADS does not reach either).
_threads = os.environ.get("REELGUARD_WORKER_THREADS", "").strip()
if _threads.isdigit() and int(_threads) > 0:
    import cv2

    cv2.setNumThreads(int(_threads))
    detectors.video_io.set_decode_threads(int(_threads))

# Heartbeats (``governance.service.jobs.heartbeat``): the main process of each worker beats
# while it consumes, so ``/healthz`` and ``POST /api/generate`` know whether anyone will run a job.
from celery.signals import worker_ready, worker_shutdown  # noqa: E402

_HEARTBEAT = None


@worker_ready.connect
def _start_heartbeat(sender=None, **_kwargs) -> None:
    global _HEARTBEAT
    from governance.service.jobs.heartbeat import Heartbeat

    queues = tuple(sorted(q.name for q in sender.task_consumer.queues)) if sender is not None else ()
    name = getattr(sender, "hostname", None) or f"worker-{os.getpid()}"
    _HEARTBEAT = Heartbeat(app.conf.broker_url, name=f"{name}:{os.getpid()}", queues=queues).start()


@worker_shutdown.connect
def _stop_heartbeat(**_kwargs) -> None:
    if _HEARTBEAT is not None:
        _HEARTBEAT.stop()
