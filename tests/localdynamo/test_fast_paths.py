"""The fast paths (Scan, Query, TransactWriteItems) answer exactly what moto's own code
answers: the same requests go to a server with them and one without, on the same data."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cloudstore.localdynamo import LocalDynamo
from tests.helpers.localdynamo import (
    TRANSACTIONS,
    client,
    contents,
    mixed_state,
    okey,
    orders_state,
    query_pages,
    scan_pages,
    skey,
    transact,
    txn_state,
)


def test_fast_scan_returns_exactly_what_motos_scan_returns(
    tmp_path: Path, start: Callable[..., LocalDynamo]
) -> None:
    state = json.dumps(mixed_state(400))
    (tmp_path / "fast.json").write_text(state)
    (tmp_path / "slow.json").write_text(state)
    fast = client(start(tmp_path / "fast.json"))
    slow = client(start(tmp_path / "slow.json", fast_scan=False))

    requests: list[dict[str, Any]] = [
        {"TableName": "mixed"},
        {"TableName": "mixed", "Limit": 7},
        {"TableName": "flat", "Limit": 33},
        {"TableName": "flat"},
        {"TableName": "mixed", "ConsistentRead": True, "ReturnConsumedCapacity": "TOTAL"},
        # not the plain case: served by moto's own scan in both
        {
            "TableName": "mixed",
            "Limit": 50,
            "FilterExpression": "attribute_exists(tags)",
        },
        {"TableName": "mixed", "ProjectionExpression": "pk, sk"},
        {"TableName": "mixed", "Select": "COUNT"},
    ]
    for segment in range(3):
        requests.append({"TableName": "mixed", "Segment": segment, "TotalSegments": 3})
        requests.append({"TableName": "mixed", "Segment": segment, "TotalSegments": 3, "Limit": 25})
    requests.append({"TableName": "mixed", "Segment": 3, "TotalSegments": 4})
    requests.append({"TableName": "flat", "Segment": 1, "TotalSegments": 2, "Limit": 10})

    def compare(label: str) -> None:
        for request in requests:
            got, want = scan_pages(fast, **request), scan_pages(slow, **request)
            assert got == want, (label, request)
        # a start key in the middle of nowhere (not an item) bisects the same way
        odd = {"pk": {"S": "P00100"}, "sk": {"N": "5"}}
        for extra in ({}, {"Segment": 2, "TotalSegments": 3}):
            request = {"TableName": "mixed", "Limit": 30, "ExclusiveStartKey": odd, **extra}
            assert scan_pages(fast, **request) == scan_pages(slow, **request), label

    compare("restored")
    pages = [len(scan_pages(fast, TableName="mixed", Segment=k, TotalSegments=3)) for k in range(3)]
    assert min(pages) > 1  # the 1 MB size limit really split the pages

    for c in (fast, slow):  # the same writes on both servers
        first = c.scan(TableName="mixed", Limit=1)["Items"][0]
        key = {"pk": first["pk"], "sk": first["sk"]}
        c.update_item(
            TableName="mixed",
            Key=key,
            UpdateExpression="SET filler = :b",
            ExpressionAttributeValues={":b": {"S": "y" * 300_000}},
        )
        c.put_item(TableName="mixed", Item={"pk": {"S": "P00000"}, "sk": {"N": "-1"}})
        c.put_item(TableName="flat", Item={"id": {"S": "K0000"}, "v": {"S": "replaced"}})
        c.delete_item(TableName="flat", Key={"id": {"S": "K0003"}})
        with pytest.raises(c.exceptions.TransactionCanceledException):
            c.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": "mixed",
                            "Key": key,
                            "UpdateExpression": "SET grown = :g",
                            "ExpressionAttributeValues": {":g": {"S": "z" * 1000}},
                        }
                    },
                    {
                        "ConditionCheck": {
                            "TableName": "flat",
                            "Key": {"id": {"S": "K0001"}},
                            "ConditionExpression": "attribute_not_exists(id)",
                        }
                    },
                ]
            )
        c.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": "flat",
                        "Key": {"id": {"S": "K0002"}},
                        "UpdateExpression": "SET big = :g",
                        "ExpressionAttributeValues": {":g": {"S": "z" * 200_000}},
                    }
                },
            ]
        )
    compare("after writes")


def test_transactions_roll_back_exactly_like_moto(
    tmp_path: Path, start: Callable[..., LocalDynamo]
) -> None:
    """The same transactions on a server with the per-item undo and one with moto's
    table-copying transact_write_items give the same answers and the same tables; a
    failed transaction leaves every item as it was (checked through GetItem and the fast
    paged Scan, whose caches must follow the rollback)."""
    state = json.dumps(txn_state())
    (tmp_path / "fast.json").write_text(state)
    (tmp_path / "moto.json").write_text(state)
    fast_server = start(tmp_path / "fast.json")
    fast = client(fast_server)
    moto = client(start(tmp_path / "moto.json", fast_transactions=False))

    assert contents(fast) == contents(moto)
    for label, actions, effect in TRANSACTIONS:
        before = contents(fast)
        got, want = transact(fast, actions), transact(moto, actions)
        assert got == want, label
        after = contents(fast)
        if effect == "unchanged":
            assert got["code"] is not None, label
            assert after == before, label
        else:
            assert got["code"] is None, (label, got)
            assert after != before, label
        assert after == contents(moto), label

    # spot checks of what moto answered (and we must too)
    outcomes = [transact(fast, actions) for _, actions, _ in TRANSACTIONS[:2]]
    assert outcomes[0]["code"] == "TransactionCanceledException"
    assert [r["Code"] for r in outcomes[0]["reasons"]] == [
        "None",
        "None",
        "ConditionalCheckFailed",
        "None",
        "None",
        "None",
        "None",
    ]
    assert [r["Code"] for r in outcomes[1]["reasons"]] == [
        "None",
        "ConditionalCheckFailed",
        "ConditionalCheckFailed",
        "ConditionalCheckFailed",
        "None",
    ]
    assert outcomes[1]["reasons"][1]["Item"]["n"] == {"N": "4"}
    assert transact(fast, TRANSACTIONS[4][1])["code"] == "ValidationException"

    assert "keeping moto's own" not in fast_server.stderr_tail()  # the undo log was in use

    # the successful mix really applied every action
    assert "Item" not in fast.get_item(TableName="orders", Key=okey("U0", 3))
    assert fast.get_item(TableName="stock", Key=skey("S09"))["Item"]["n"] == {"N": "8"}
    assert fast.get_item(TableName="orders", Key=okey("U4", 4))["Item"]["amount"] == {"N": "12.5"}
    assert fast.get_item(TableName="orders", Key=okey("U8", 8))["Item"]["amount"] == {"N": "2"}


def _query_requests() -> list[dict[str, Any]]:
    def values(**named: dict) -> dict:
        return {"ExpressionAttributeValues": {f":{k}": v for k, v in named.items()}}

    u1 = {"S": "U01"}
    base = {"TableName": "orders", "KeyConditionExpression": "user_id = :u", **values(u=u1)}
    requests: list[dict[str, Any]] = []
    for extra in (
        {},
        {"ScanIndexForward": False},
        {"Limit": 10},
        {"Limit": 3, "ScanIndexForward": False},
        {"Select": "COUNT"},
        {"FilterExpression": "amount > :a", **values(u=u1, a={"N": "50"})},
        {"ProjectionExpression": "order_id, amount"},
    ):
        requests.append({**base, **extra})
    for condition, operands in (
        ("begins_with(order_id, :p)", {"p": {"S": "ORD-01"}}),
        ("order_id > :p", {"p": {"S": "ORD-0150"}}),
        ("order_id >= :p", {"p": {"S": "ORD-0150"}}),
        ("order_id < :p", {"p": {"S": "ORD-0300"}}),
        ("order_id <= :p", {"p": {"S": "ORD-0300"}}),
        ("order_id = :p", {"p": {"S": "ORD-0001"}}),
        ("order_id BETWEEN :p AND :q", {"p": {"S": "ORD-0100"}, "q": {"S": "ORD-0400"}}),
    ):
        for extra in ({"Limit": 4}, {"Limit": 4, "ScanIndexForward": False}):
            requests.append(
                {
                    **base,
                    "KeyConditionExpression": f"user_id = :u AND {condition}",
                    **values(u=u1, **operands),
                    **extra,
                }
            )
    for index, hash_name, hash_value in (
        ("by_time", "order_list", {"S": "ALL"}),
        ("by_status", "status", {"S": "paid"}),
        ("by_amount", "status", {"S": "pending"}),
    ):
        gsi = {
            "TableName": "orders",
            "IndexName": index,
            "KeyConditionExpression": "#h = :h",
            "ExpressionAttributeNames": {"#h": hash_name},
            **values(h=hash_value),
        }
        for extra in ({}, {"Limit": 7}, {"Limit": 50, "ScanIndexForward": False}):
            requests.append({**gsi, **extra})
        range_name, low, high = (
            ("amount", {"N": "20"}, {"N": "70.5"})
            if index == "by_amount"
            else ("order_id", {"S": "ORD-0200"}, {"S": "ORD-0500"})
        )
        for condition in ("#r >= :lo", "#r < :hi", "#r BETWEEN :lo AND :hi"):
            for extra in ({"Limit": 9}, {"Limit": 9, "ScanIndexForward": False}):
                requests.append(
                    {
                        **gsi,
                        "KeyConditionExpression": f"#h = :h AND {condition}",
                        "ExpressionAttributeNames": {"#h": hash_name, "#r": range_name},
                        **values(h=hash_value, lo=low, hi=high),
                        **extra,
                    }
                )
    # the legacy KeyConditions form (moto's own query serves it)
    requests.append(
        {
            "TableName": "orders",
            "KeyConditions": {"user_id": {"ComparisonOperator": "EQ", "AttributeValueList": [u1]}},
        }
    )
    return requests


def test_fast_query_returns_exactly_what_motos_query_returns(
    tmp_path: Path, start: Callable[..., LocalDynamo]
) -> None:
    state = json.dumps(orders_state(200))
    (tmp_path / "fast.json").write_text(state)
    (tmp_path / "slow.json").write_text(state)
    fast = client(start(tmp_path / "fast.json"))
    slow = client(start(tmp_path / "slow.json", fast_query=False))
    requests = _query_requests()

    def compare(label: str) -> None:
        for request in requests:
            assert query_pages(fast, **request) == query_pages(slow, **request), (label, request)
        odd = {  # a start key that is no item: bisected like moto walks
            "TableName": "orders",
            "IndexName": "by_time",
            "KeyConditionExpression": "order_list = :h",
            "ExpressionAttributeValues": {":h": {"S": "ALL"}},
            "Limit": 5,
            "ExclusiveStartKey": {
                "order_list": {"S": "ALL"},
                "order_id": {"S": "ORD-0250x"},
                "user_id": {"S": "U00"},
            },
        }
        for forward in (True, False):
            request = {**odd, "ScanIndexForward": forward}
            assert query_pages(fast, **request) == query_pages(slow, **request), label

    compare("restored")
    assert len(query_pages(fast, **requests[0])) == 1
    assert len(query_pages(fast, **requests[-5])) > 1  # a GSI query really paged

    for c in (fast, slow):  # the same writes on both: the indexes must follow them
        key = {"user_id": {"S": "U01"}, "order_id": {"S": "ORD-0001"}}
        c.update_item(
            TableName="orders",
            Key=key,
            UpdateExpression="SET #s = :s",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": "paid"}},
        )
        c.update_item(
            TableName="orders",
            Key=key | {"order_id": {"S": "ORD-0004"}},
            UpdateExpression="REMOVE order_list",
        )
        c.put_item(
            TableName="orders",
            Item={
                "user_id": {"S": "U01"},
                "order_id": {"S": "ORD-9999"},
                "order_list": {"S": "ALL"},
                "status": {"S": "pending"},
                "amount": {"N": "33"},
            },
        )
        c.delete_item(
            TableName="orders", Key={"user_id": {"S": "U02"}, "order_id": {"S": "ORD-0002"}}
        )
        result = transact(
            c,
            [
                {
                    "Update": {
                        "TableName": "orders",
                        "Key": key,
                        "UpdateExpression": "SET #s = :c",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {":c": {"S": "cancelled"}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": "orders",
                        "Key": {"user_id": {"S": "U03"}, "order_id": {"S": "ORD-NONE"}},
                        "ConditionExpression": "attribute_exists(user_id)",
                    }
                },
            ],
        )
        assert result["code"] == "TransactionCanceledException"
    compare("after writes")
