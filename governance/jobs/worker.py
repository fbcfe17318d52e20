"""Entry point for ``celery -A governance.jobs.worker worker`` (and ``reelguard worker``)."""

from governance.jobs.queue import celery_app

app = celery_app()

import governance.jobs.tasks  # noqa: E402,F401  (registers the tasks on this app)

# Import what the tasks use once, before the prefork pool forks, so children share it.
import detectors.provenance  # noqa: E402,F401
import detectors.video_io  # noqa: E402,F401
import detectors.watermark  # noqa: E402,F401
import governance.flows  # noqa: E402,F401
import governance.registry  # noqa: E402,F401
