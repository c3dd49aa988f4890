"""A prediction request is checked item by item; a refusal names the field that is wrong."""
from __future__ import annotations

import uuid

import pytest

from modelops.serving import MAX_BATCH_ITEMS, batch_problem
from modelops.serving.requests import Refused, ValidRequest, parse, parse_many

TENANT = uuid.uuid4()
TRANSACTION = {"description": "AMZN MKTP US*2K4", "merchant": "Amazon", "amount": "12.50", "currency": "usd",
               "direction": "debit", "date": "2026-11-02", "unrelated": "dropped"}


def request(**changes) -> dict:
    return {"tenant_id": str(TENANT), "agent_type": "classification", "input_data": dict(TRANSACTION), **changes}


def test_a_valid_request_carries_the_input_as_the_agent_reads_it():
    parsed = parse(request(request_key="customer-42"))
    assert isinstance(parsed, ValidRequest)
    assert parsed.tenant_id == TENANT and parsed.agent_type == "classification" and parsed.request_key == "customer-42"
    assert parsed.features_input["currency"] == "USD" and parsed.features_input["amount"] == 12.5
    assert "unrelated" not in parsed.features_input


@pytest.mark.parametrize("changes, field", [
    ({"tenant_id": "acme"}, "tenant_id:"),
    ({"agent_type": "forecasting"}, "agent_type:"),
    ({"input_data": "a string"}, "input_data:"),
    ({"input_data": {**TRANSACTION, "amount": "twelve"}}, "input_data.amount:"),
    ({"input_data": {key: value for key, value in TRANSACTION.items() if key != "date"}}, "input_data.date:"),
    ({"request_key": ""}, "request_key:"),
    ({"requestkey": "typo"}, "requestkey:"),
])
def test_a_bad_request_is_refused_naming_the_field(changes, field):
    parsed = parse(request(**changes))
    assert isinstance(parsed, Refused)
    assert parsed.reason.startswith(field), parsed.reason


def test_every_bad_input_field_is_named():
    parsed = parse(request(input_data={**TRANSACTION, "amount": "twelve", "direction": "sideways"}))
    assert "input_data.amount:" in parsed.reason and "input_data.direction:" in parsed.reason


def test_a_request_that_is_not_an_object_is_refused():
    assert parse(["classification"]).reason.startswith("request: expected an object")


def test_a_batch_must_be_a_list_of_bounded_length():
    assert batch_problem([request()]) is None
    assert "expected a list" in batch_problem({"items": []})
    assert f"at most {MAX_BATCH_ITEMS}" in batch_problem([request()] * (MAX_BATCH_ITEMS + 1))


def test_a_batch_is_parsed_as_each_of_its_requests_alone():
    good = [request(request_key=f"k{n}", input_data={**TRANSACTION, "amount": str(n + 1)}) for n in range(5)]
    chat = {"tenant_id": str(TENANT), "agent_type": "chat", "input_data": {"message": "where is my refund?"}}
    reconciliation = {"tenant_id": str(TENANT), "agent_type": "reconciliation", "input_data": {"bank_line": {}}}
    bad = [request(input_data={**TRANSACTION, "amount": "twelve"}), request(tenant_id="acme"), ["not", "a", "request"],
           request(input_data={**TRANSACTION, "description": "nul \x00 here"}), {"agent_type": "forecasting"}]
    for batch in (good, good + [chat], good[:2] + bad + good[2:] + [reconciliation]):
        assert parse_many(batch) == [parse(item) for item in batch]
    assert all(isinstance(parsed, ValidRequest) for parsed in parse_many(good))
