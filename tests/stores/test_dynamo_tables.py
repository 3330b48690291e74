"""DynamoDB tables and indexes made idempotently and waited for until ACTIVE (moto server)."""

from __future__ import annotations

import pytest

from cloudstore.stores.dynamo import ORDERS_BY_STATUS, ORDERS_BY_TIME, Dynamo
from tests.helpers import make_settings


@pytest.fixture
async def dynamo(postgres_url, dynamodb, tmp_path):
    """A client for tables of this test's own (none exist yet)."""
    client = Dynamo(make_settings(postgres_url, dynamodb.endpoint, tmp_path / "data"))
    await client.open()
    yield client
    await client.close()


async def describe(dynamo: Dynamo, name: str) -> dict:
    return (await dynamo.call("describe_table", TableName=name))["Table"]


async def test_every_table_is_pending_on_an_empty_endpoint(dynamo):
    s = dynamo.settings
    assert await dynamo.pending_tables() == [
        f"create table {s.products_table}",
        f"create table {s.orders_table} with indexes {ORDERS_BY_TIME}, {ORDERS_BY_STATUS}",
        f"create table {s.cart_table}",
    ]


async def test_ensure_tables_creates_the_three_tables(dynamo):
    s = dynamo.settings
    changes = await dynamo.ensure_tables()
    assert changes.created == [s.products_table, s.orders_table, s.cart_table]


async def test_created_tables_and_their_indexes_are_active(dynamo):
    await dynamo.ensure_tables()
    statuses = []
    for name in dynamo.table_specs():
        table = await describe(dynamo, name)
        statuses.append(table["TableStatus"])
        statuses += [i["IndexStatus"] for i in table.get("GlobalSecondaryIndexes", [])]
    assert statuses == ["ACTIVE"] * 5


async def test_a_second_run_changes_nothing_and_nothing_is_pending(dynamo):
    await dynamo.ensure_tables()
    assert not await dynamo.ensure_tables()
    assert await dynamo.pending_tables() == []


async def test_a_missing_index_on_an_existing_table_is_pending(dynamo):
    await _orders_table_without_status_index(dynamo)
    assert f"add index {ORDERS_BY_STATUS} to {dynamo.settings.orders_table}" in (
        await dynamo.pending_tables()
    )


async def test_a_missing_index_on_an_existing_table_is_added(dynamo):
    await _orders_table_without_status_index(dynamo)
    changes = await dynamo.ensure_tables()
    table = await describe(dynamo, dynamo.settings.orders_table)
    assert changes.indexes == [f"{ORDERS_BY_STATUS} on {dynamo.settings.orders_table}"]
    assert {i["IndexName"]: i["IndexStatus"] for i in table["GlobalSecondaryIndexes"]} == {
        ORDERS_BY_TIME: "ACTIVE",
        ORDERS_BY_STATUS: "ACTIVE",
    }


async def _orders_table_without_status_index(dynamo: Dynamo) -> None:
    """The Orders table as a release before the per-status index made it."""
    await dynamo.call(
        "create_table",
        TableName=dynamo.settings.orders_table,
        KeySchema=[
            {"AttributeName": "user_id", "KeyType": "HASH"},
            {"AttributeName": "order_id", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": a, "AttributeType": "S"}
            for a in ("user_id", "order_id", "order_list")
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": ORDERS_BY_TIME,
                "KeySchema": [
                    {"AttributeName": "order_list", "KeyType": "HASH"},
                    {"AttributeName": "order_id", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
