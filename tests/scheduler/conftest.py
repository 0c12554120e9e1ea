"""The scheduler tests use the shared receivers of tests/conftest.py (http_receiver, smtp_server, channels_config)."""
