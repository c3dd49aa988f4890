"""The Celery wiring: beat entries, task names, routes, queues and pools agree with each other."""
from __future__ import annotations

import celeryconfig
from beat_schedule import beat_schedule
from workers import pools
from workers.app import app

app.loader.import_default_modules()
OUR_TASKS = {name for name in app.tasks if name.startswith("modelops.")}


def routed_queue(task_name: str) -> str:
    route = app.amqp.router.route({}, task_name)
    return route["queue"].name


def test_every_beat_entry_names_a_registered_task_routed_to_a_declared_queue():
    assert beat_schedule, "the schedule has entries"
    for key, entry in beat_schedule.items():
        assert key == key.lower() and " " not in key and "_" not in key, f"{key} is not kebab-case"
        assert entry["task"] in OUR_TASKS, f"{key}: {entry['task']} is not a registered task"
        assert routed_queue(entry["task"]) in celeryconfig.QUEUES, f"{key}: routed to an undeclared queue"


def test_every_beat_tick_expires_when_the_next_is_due():
    # while a pool is down its ticks must not pile up on the broker
    for key, entry in beat_schedule.items():
        interval = entry["schedule"].total_seconds()
        assert entry["options"]["expires"] == max(interval, 5.0), key


def test_every_registered_task_is_named_by_the_task_name_enum_and_no_name_is_missing():
    from schemas.tasks import PUBLIC_TASKS, TaskName
    from workers.authentication import InternalTask, PublicTask

    assert OUR_TASKS == {name.value for name in TaskName}
    for name in TaskName:  # public tasks check envelopes; every other one, the system's signature
        task = app.tasks[name.value]
        assert (name in PUBLIC_TASKS) == (isinstance(task, PublicTask) or name == TaskName.SERVING_PREDICT), name
        assert isinstance(task, (PublicTask, InternalTask)) or name == TaskName.SERVING_PREDICT, name


def test_every_task_is_named_by_area_and_verb_and_routes_to_a_declared_queue():
    for name in OUR_TASKS:
        assert len(name.split(".")) == 3, name
        assert routed_queue(name) in celeryconfig.QUEUES, name


def test_every_declared_queue_has_a_pool_and_every_pool_queue_is_declared():
    consumed = {queue for pool in pools.POOLS.values() for queue in pool.queues}
    assert consumed == set(celeryconfig.QUEUES)
    assert set(pools.queues_of(pools.ALL)) == set(celeryconfig.QUEUES)


def test_messages_are_json_only_and_acknowledged_after_the_task():
    assert app.conf.accept_content == ["json"] and app.conf.task_serializer == "json"
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    assert app.conf.worker_send_task_events and app.conf.task_send_sent_event


def test_a_pool_command_subscribes_to_its_queues():
    argv = pools.worker_command("monitoring")
    assert argv[argv.index("--queues") + 1] == "metrics,rollback"
    assert argv[argv.index("--hostname") + 1] == "monitoring@%h"


def test_an_unknown_pool_is_refused_with_the_known_ones():
    try:
        pools.queues_of("gpu")
    except ValueError as error:
        assert "serving" in str(error) and "all" in str(error)
    else:
        raise AssertionError("an unknown pool was accepted")


def test_each_agent_is_checked_for_retraining_at_its_schedules_cadence():
    from modelops import AGENT_TYPES
    from modelops.training.schedule import CHECK_INTERVAL, RETRAINING_SCHEDULE

    checks = {entry["kwargs"]["agent_type"]: entry["schedule"] for entry in beat_schedule.values()
              if entry["task"] == "modelops.training.check_triggers"}
    assert set(checks) == set(AGENT_TYPES) == set(RETRAINING_SCHEDULE)
    for agent, interval in checks.items():
        assert interval == CHECK_INTERVAL[RETRAINING_SCHEDULE[agent]["frequency"]], agent
