from meshkit.context import TraceContext, accept_request_id


def test_traceparent_round_trip_and_child() -> None:
    header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    tc = TraceContext.parse(header)
    assert tc is not None and tc.header == header
    child = tc.child()
    assert child.trace_id == tc.trace_id and child.parent_id != tc.parent_id


def test_invalid_traceparents_are_ignored() -> None:
    for bad in [
        None,
        "",
        "garbage",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
    ]:
        assert TraceContext.parse(bad) is None


def test_request_id_kept_when_sane_replaced_when_not() -> None:
    assert accept_request_id("req-12345678") == "req-12345678"
    for bad in [None, "", "short", "x" * 200, "bad id with spaces", "<script>alert(1)</script>"]:
        rid = accept_request_id(bad)
        assert rid != bad and len(rid) == 36
