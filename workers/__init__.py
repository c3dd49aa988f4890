"""The Celery application, its worker pools and process signals."""
