"""Scale-out on Celery + Redis: generation jobs and batch verification/registration.

Why Celery on Redis (not Ray): the work units are independent, coarse (one clip, one
generation) and must survive worker death with at-least-once delivery; Celery gives exactly
that (``acks_late`` + ``reject_on_worker_lost``) on a Redis server that already runs here and in
CI, with workers on any machine that can reach Redis and the shared PostgreSQL. Ray's strengths
(shared-memory objects, actors, GPU scheduling across a cluster) are not needed for this shape
of work and would add a cluster runtime to deploy. Exactly-once *effects* come from the
database, not the queue: a job's audit events carry the actor ``job:<id>`` and a redelivered
job that finds them finalises instead of running again.
"""

__all__ = ["queue", "store", "tasks", "batch"]
