"""A real task travels through the configured broker (Redis in CI, filesystem embedded) to a real
worker subprocess and back, and the worker's heartbeat makes /healthz healthy."""

import time

import pytest

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_a_task_round_trips_through_the_broker_to_a_worker_process(celery_worker_process):
    from singscope.celery import ping

    result = ping.apply_async(args=["hello"], queue="detect")
    answer = result.get(timeout=60)
    assert answer["payload"] == "hello"
    assert answer["pid"] != __import__("os").getpid()


def test_the_worker_heartbeat_makes_healthz_healthy(celery_worker_process, client):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        response = client.get("/healthz")
        if response.status_code == 200:
            break
        time.sleep(0.5)
    assert response.status_code == 200, response.json()
    assert response.json()["worker"]["age_seconds"] < 10


def test_training_and_detection_messages_are_routed_to_their_own_queues():
    from singscope.celery import app

    for name in ("detect", "train"):
        queue = app.amqp.queues[name]
        assert (queue.exchange.name, queue.routing_key) == (name, name)
