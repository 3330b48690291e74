"""deploy/iam-policy.json grants exactly what the code asks DynamoDB for: every operation
called through `Dynamo.call` in cloudstore/stores (and each kind of action inside its
transactions) on the three tables, the Orders indexes for Query, and ListTables."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from cloudstore.settings import Settings
from cloudstore.stores.dynamo import Dynamo

ROOT = Path(__file__).resolve().parents[2]
POLICY = json.loads((ROOT / "deploy" / "iam-policy.json").read_text())
STORES = ROOT / "cloudstore" / "stores"
TABLES = ("Products", "Orders", "Cart")  # the defaults the policy is written for

# TransactWriteItems is authorised per action inside it (AWS: "Actions defined by Amazon
# DynamoDB"): there is no dynamodb:TransactWriteItems permission.
TRANSACTION_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}
TABLE_WIDE = {"dynamodb:ListTables"}


def _iam_action(operation: str) -> str:
    """`batch_get_item` → `dynamodb:BatchGetItem`."""
    return "dynamodb:" + "".join(part.capitalize() for part in operation.split("_"))


def _called_operations() -> dict[str, list[str]]:
    """Every `….call("operation", …)` in cloudstore/stores, with where it is."""
    found: dict[str, list[str]] = {}
    for path in sorted(STORES.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "call"
            ):
                first = node.args[0] if node.args else None
                assert isinstance(first, ast.Constant) and isinstance(first.value, str), (
                    f"{path}:{node.lineno}: the operation must be a literal for this check"
                )
                found.setdefault(first.value, []).append(f"{path.name}:{node.lineno}")
    return found


def _transaction_action_kinds() -> set[str]:
    """The action kinds (`{"Put": {...}}` etc.) written into transactions in the stores."""
    kinds = set()
    for path in STORES.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Dict):
                for key in node.keys:
                    if isinstance(key, ast.Constant) and key.value in TRANSACTION_ACTIONS:
                        kinds.add(key.value)
    return kinds


def _needed_actions() -> set[str]:
    needed = set()
    for operation in _called_operations():
        if operation == "transact_write_items":
            needed |= {TRANSACTION_ACTIONS[kind] for kind in _transaction_action_kinds()}
        else:
            needed.add(_iam_action(operation))
    return needed


def _statements():
    for statement in POLICY["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"]
        resources = statement["Resource"]
        yield (
            [actions] if isinstance(actions, str) else actions,
            [resources] if isinstance(resources, str) else resources,
        )


def _granted_on(resource: str) -> set[str]:
    return {a for actions, resources in _statements() if resource in resources for a in actions}


def test_the_code_calls_operations_the_check_can_see():
    assert {"get_item", "query", "transact_write_items", "describe_table"} <= set(
        _called_operations()
    )


def test_every_dynamodb_operation_the_code_calls_is_granted_on_every_table():
    needed = _needed_actions() - TABLE_WIDE
    for table in TABLES:
        missing = needed - _granted_on(f"arn:aws:dynamodb:*:*:table/{table}")
        assert missing == set(), f"{table}: not in deploy/iam-policy.json: {sorted(missing)}"


def test_list_tables_is_granted_on_every_resource():
    assert "dynamodb:ListTables" in _needed_actions()
    assert "dynamodb:ListTables" in _granted_on("*")


def test_every_index_the_code_declares_may_be_queried():
    specs = Dynamo(Settings()).table_specs()
    for table, spec in specs.items():
        for index in spec.get("indexes", {}):
            resource = f"arn:aws:dynamodb:*:*:table/{table}/index/{index}"
            assert "dynamodb:Query" in _granted_on(resource), resource


def test_the_policy_grants_nothing_the_code_does_not_call():
    granted = {a for actions, _ in _statements() for a in actions}
    assert granted == _needed_actions()


def test_the_policy_names_only_the_three_tables_and_their_indexes():
    allowed = {f"arn:aws:dynamodb:*:*:table/{t}" for t in TABLES} | {"*"}
    allowed |= {
        f"arn:aws:dynamodb:*:*:table/{table}/index/{index}"
        for table, spec in Dynamo(Settings()).table_specs().items()
        for index in spec.get("indexes", {})
    }
    named = {r for _, resources in _statements() for r in resources}
    assert named <= allowed, named - allowed
    # "*" only for ListTables, which takes no table.
    for actions, resources in _statements():
        if "*" in resources:
            assert set(actions) == TABLE_WIDE
