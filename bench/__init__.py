"""The benchmark: the service against a minimal floor app on the same data (`make bench`)."""
