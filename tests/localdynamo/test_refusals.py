"""The local DynamoDB serves only what its journal records faithfully: everything else is
refused with a ValidationException instead of being half-supported."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from cloudstore.localdynamo import LocalDynamo
from tests.helpers.localdynamo import OTHER_ACCOUNT, client, create_products

_KEYS = {
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST",
}


def _refusal(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    assert error["Code"] == "ValidationException"
    return error["Message"]


@pytest.fixture
def server(tmp_path: Path, start: Callable[..., LocalDynamo]) -> LocalDynamo:
    server = start(tmp_path / "dynamo.json")
    create_products(client(server))
    return server


def test_streams_are_refused(server: LocalDynamo) -> None:
    spec = {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    message = _refusal(
        lambda: client(server).create_table(TableName="s", StreamSpecification=spec, **_KEYS)
    )
    assert "StreamSpecification" in message


def test_local_secondary_indexes_are_refused(server: LocalDynamo) -> None:
    lsi = [
        {
            "IndexName": "local",
            "KeySchema": _KEYS["KeySchema"],
            "Projection": {"ProjectionType": "ALL"},
        }
    ]
    message = _refusal(
        lambda: client(server).create_table(TableName="l", LocalSecondaryIndexes=lsi, **_KEYS)
    )
    assert "LocalSecondaryIndexes" in message


def test_time_to_live_is_refused(server: LocalDynamo) -> None:
    spec = {"Enabled": True, "AttributeName": "expires_at"}
    message = _refusal(
        lambda: client(server).update_time_to_live(
            TableName="products", TimeToLiveSpecification=spec
        )
    )
    assert "UpdateTimeToLive" in message


def test_partiql_is_refused(server: LocalDynamo) -> None:
    message = _refusal(
        lambda: client(server).execute_statement(Statement="DELETE FROM products WHERE pk='a'")
    )
    assert "ExecuteStatement" in message


def test_another_account_is_refused(server: LocalDynamo) -> None:
    message = _refusal(lambda: client(server, account=OTHER_ACCOUNT).list_tables())
    assert "only account" in message


def test_a_refused_write_changes_nothing(server: LocalDynamo) -> None:
    c = client(server)
    _refusal(lambda: c.create_table(TableName="t", Tags=[{"Key": "a", "Value": "b"}], **_KEYS))
    assert c.list_tables()["TableNames"] == ["products"]
