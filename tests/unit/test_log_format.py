"""What a log line looks like (gateway.observability.logs): one JSON object per line with
the fields an operator filters on, exceptions in a few fields, nothing secret."""

from __future__ import annotations

import logging
from datetime import datetime

from gateway.domain.acting import acting_for
from gateway.observability import context
from gateway.observability.context import RequestLog, new_request_id, request_id_from
from gateway.observability.logs import default_format
from tests.log_capture import captured_logs


def test_a_plain_logging_call_becomes_one_json_line_with_the_fields_operators_filter_on():
    with captured_logs() as logs:
        logging.getLogger("gateway.events.inbox").warning(
            "webhook from %s refused: signature %s", "square", "MISSING"
        )
    (line,) = logs.lines()
    assert line["level"] == "warning"
    assert line["logger"] == "gateway.events.inbox"
    assert line["message"] == "webhook from square refused: signature MISSING"
    assert line["request_id"] is None and line["principal"] is None
    stamp = datetime.fromisoformat(line["timestamp"].replace("Z", "+00:00"))
    assert stamp.utcoffset() is not None and stamp.utcoffset().total_seconds() == 0
    assert list(line)[:4] == ["timestamp", "level", "logger", "message"]


def test_a_line_written_while_answering_a_request_names_the_request_and_who_asked():
    request = RequestLog("req-42", trace_id="0af7651916cd43dd8448eb211c80319c")
    with captured_logs() as logs:
        token = context.bind(request)
        try:
            with acting_for("key:web-eu"):
                logging.getLogger("gateway.app").warning("could not read 3 changed SKUs")
        finally:
            context.unbind(token)
        logging.getLogger("gateway.app").warning("after the request")
    during, after = logs.lines()
    assert (during["request_id"], during["principal"], during["trace_id"]) == (
        "req-42",
        "key:web-eu",
        "0af7651916cd43dd8448eb211c80319c",
    )
    assert after["request_id"] is None and "trace_id" not in after


def test_an_exception_is_a_few_fields_on_the_same_line_with_its_cause():
    with captured_logs() as logs:
        try:
            try:
                raise ConnectionRefusedError(111, "Connection refused")
            except OSError as error:
                raise RuntimeError("outbox round failed") from error
        except RuntimeError:
            logging.getLogger("gateway.services.outbox.worker").exception("round failed")
    assert len(logs.text.splitlines()) == 1
    (line,) = logs.lines()
    exception = line["exception"]
    assert exception["type"] == "RuntimeError"
    assert exception["message"] == "outbox round failed"
    assert exception["frames"][-1].startswith("tests/unit/test_log_format.py:")
    assert exception["cause"]["type"] == "ConnectionRefusedError"


def test_secrets_and_customer_data_given_to_a_log_call_are_masked():
    key = "cgk_1a2b3c4d_c2VjcmV0LXNlY3JldC1zZWNyZXQ"
    with captured_logs() as logs:
        logging.getLogger("gateway.auth").warning(
            "refused Authorization: Bearer %s for ann@example.org",
            key,
            extra={"customer_email": "ann@example.org", "api_key": key, "sku": "SHOE-TRAIL-42"},
        )
        try:
            raise ValueError(f"bad request from ann@example.org with {key}")
        except ValueError:
            logging.getLogger("gateway.app").exception("unexpected")
    assert key not in logs.text and "ann@example.org" not in logs.text
    first, _ = logs.lines()
    assert first["sku"] == "SHOE-TRAIL-42"
    assert first["api_key"] == first["customer_email"] == "[REDACTED]"


def test_backend_client_libraries_do_not_log_each_url_they_fetch():
    with captured_logs() as logs:
        logging.getLogger("httpx").info(
            "HTTP Request: GET http://woo/wp-json/wc/v3/products?oauth_signature=abc 200 OK"
        )
    assert logs.text == ""


def test_the_console_format_is_readable_text_and_masked_too():
    with captured_logs("console") as logs:
        logging.getLogger("gateway.app").warning("order for ann@example.org")
    assert not logs.text.startswith("{")
    assert "order for [email]" in logs.text and "ann@example.org" not in logs.text


def test_serve_and_worker_write_json_unless_a_person_is_watching():
    class Terminal:
        def isatty(self) -> bool:
            return True

    class Pipe:
        def isatty(self) -> bool:
            return False

    assert default_format(True, Pipe()) == "json"  # type: ignore[arg-type]
    assert default_format(True, Terminal()) == "console"  # type: ignore[arg-type]
    assert default_format(False, Pipe()) == "console"  # type: ignore[arg-type]


def test_a_callers_request_id_is_kept_only_when_short_and_plain():
    assert request_id_from(b"2f1c-a9:proxy.7") == "2f1c-a9:proxy.7"
    for unfit in (b"x" * 129, b"id with spaces", b"id\nforged: line", b"", b"\xff\xfe", None):
        replaced = request_id_from(unfit)
        assert len(replaced) == 32 and int(replaced, 16) >= 0
    assert new_request_id() != new_request_id()


def test_a_forked_process_names_its_requests_apart_from_its_parents():
    """Ids are a per-process random prefix and a count: a worker forked from a parent that
    already issued ids draws a prefix of its own, so the two never issue the same id."""
    import os

    parent_next = new_request_id()
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # the child: its next id, then out at once
        os.write(write_end, new_request_id().encode())
        os._exit(0)
    os.close(write_end)
    child_id = os.read(read_end, 64).decode()
    os.waitpid(child, 0)
    os.close(read_end)
    assert len(child_id) == 32 and child_id[:16] != parent_next[:16]
