"""The one Celery application: it signs what it publishes, and its tasks are internal unless
declared public (workers/authentication.py)."""
import gc

from celery.signals import worker_init, worker_process_init, worker_process_shutdown
from sqlalchemy.exc import OperationalError

from modelops import db
from modelops.config import is_amqp
from schemas.tasks import TaskName
from workers import internals, redaction
from workers.authentication import SigningCelery

TASK_MODULES = ("tasks.maintenance", "tasks.ingest", "tasks.privacy", "tasks.training", "tasks.serving",
                "tasks.experiments", "tasks.rollback", "tasks.metrics")

# Task events and logs show summaries of the arguments, never their values (workers/redaction.py).
app = SigningCelery("modelops", include=TASK_MODULES, task_cls="workers.authentication:InternalTask",
                    amqp=redaction.SummarisingAMQP)
app.config_from_object("celeryconfig")


def task(name: TaskName, *, outage_retries: int = 0, **options):
    """Our tasks' decorator: registered under ``name`` (its area routes it, celeryconfig.task_routes).
    With ``outage_retries``, a task that meets the database down (OperationalError) is retried that
    many times with exponential back-off instead of failing: each task is idempotent by a natural
    key, so running it again is safe."""
    if outage_retries:
        options = {"autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": outage_retries, **options}
    return app.task(name=TaskName(name).value, **options)


@worker_init.connect
def _refuse_missing_internals(**_):
    # before the pool starts; SystemExit, since Celery logs and swallows a handler's exceptions
    try:
        internals.self_check()
    except internals.MissingInternal as error:
        raise SystemExit(f"modelops worker: {error}") from None


@worker_init.connect
def _declare_every_queue(sender=None, **_):
    # On RabbitMQ every queue of the deployment is declared (with its exchange and binding) before
    # the consumer starts, not only the queues this worker consumes: Celery binds every queue it
    # knows to the delayed-delivery exchanges when it finds quorum queues, and a pool started before
    # any worker of another pool would find those queues missing. Redis needs no declarations.
    if is_amqp(app.conf.broker_url):
        with app.connection_for_write() as connection:
            for queue in app.amqp.queues.values():
                queue(connection.default_channel).declare()


@worker_process_init.connect
def _fresh_engine_after_fork(**_):
    # A forked child must not reuse the parent's database connections.
    db.dispose_engines()
    # The imported libraries (scikit-learn, scipy, SQLAlchemy) are long-lived: moving them out of
    # the collector's reach makes each full collection cheap (measured: ~15% more intake events per
    # CPU-second, bench/bench_intake.py).
    gc.freeze()


@worker_process_shutdown.connect
def _close_engine(**_):
    db.dispose_engines()
