"""What operators see of a running gateway: request ids and structured JSON logs
(``context``, ``requests``, ``logs``, ``redaction``, ``repeats``), traces when an OTLP
endpoint is configured (``tracing``), and metrics."""
