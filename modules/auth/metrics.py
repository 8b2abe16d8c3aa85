"""What the auth module counts, served with core's metrics (`core.metrics`: the same registry and
listener). The name is load-bearing: the alert rules in docs/examples/prometheus-alerts.yml match it."""

from prometheus_client import Counter

LOGIN_FAILURES = Counter("login_failures_total", "Logins refused for a wrong email or password")


def login_failed() -> None:
    LOGIN_FAILURES.inc()
